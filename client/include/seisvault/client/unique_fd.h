// UniqueFd: owns one POSIX file descriptor and closes it when destroyed.
//
// The one RAII wrapper for file descriptors in the client: files being read,
// spool files being written, the spool's lock file. Move-only.
#pragma once

#include <utility>

namespace seisvault::client {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 for none).
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor now (errors from close() are ignored: by then the
  // data that matters has been fsynced).
  void reset();

 private:
  int fd_ = -1;
};

}  // namespace seisvault::client
