// TempDir: a fresh directory under $TMPDIR, removed with its contents when
// the object goes out of scope.
#pragma once

#include <filesystem>

namespace seisvault::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace seisvault::test
