#include "seisvault/client/file_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "seisvault/client/unique_fd.h"

namespace seisvault::client {

namespace fs = std::filesystem;

Result<std::vector<fs::path>> expand_input_paths(const std::vector<std::string>& inputs) {
  std::vector<fs::path> out;
  for (const auto& input : inputs) {
    if (input == kStdinPath) {
      out.emplace_back(input);
      continue;
    }
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (ec || !fs::exists(status)) return Status::not_found(fmt::format("{}: no such file or directory", input));
    if (fs::is_regular_file(status)) {
      out.emplace_back(input);
    } else if (fs::is_directory(status)) {
      std::vector<fs::path> files;
      for (fs::recursive_directory_iterator it(input, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec)) files.push_back(it->path());
      }
      if (ec) return Status::io_error(fmt::format("cannot list {}: {}", input, ec.message()));
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else {
      return Status::invalid_argument(fmt::format("{}: neither a file nor a directory", input));
    }
  }
  return out;
}

Status read_file_pieces(const fs::path& path, const PieceSink& sink, const std::function<bool()>& keep_going,
                        uint64_t* bytes_read, size_t block_size) {
  const bool is_stdin = path == kStdinPath;
  const std::string name = is_stdin ? "standard input" : path.string();
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (!is_stdin) {
    owned = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) return Status::io_error(fmt::format("cannot open {}: {}", name, std::strerror(errno)));
    fd = owned.get();
  }
  PieceStream stream;
  for (;;) {
    if (keep_going && !keep_going()) return Status::cancelled(fmt::format("stopped reading {}", name));
    auto room = stream.prepare(block_size);
    const ssize_t n = ::read(fd, room.data(), room.size());
    if (n < 0) {
      stream.commit(0);
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot read {}: {}", name, std::strerror(errno)));
    }
    stream.commit(static_cast<size_t>(n));
    if (bytes_read) *bytes_read += static_cast<uint64_t>(n);
    if (n == 0) return stream.drain(/*at_eof=*/true, sink);
    if (auto s = stream.drain(/*at_eof=*/false, sink); !s.ok()) return s;
  }
}

}  // namespace seisvault::client
