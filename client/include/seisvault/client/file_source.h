// Where `seisvault push` gets its records: files, directory trees and stdin,
// read to their end and cut into pieces (see piece_stream.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "seisvault/client/piece_stream.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

// The path that stands for standard input.
inline constexpr char kStdinPath[] = "-";

// Expands command-line inputs, keeping their order: a file stays itself; a
// directory becomes every regular file under it, recursively, sorted by
// path; "-" stays "-" (stdin). NotFound for a path that does not exist,
// InvalidArgument for something that is neither file nor directory (a
// device, a socket), IoError for a directory that cannot be listed.
Result<std::vector<std::filesystem::path>> expand_input_paths(const std::vector<std::string>& inputs);

// Reads the file (or stdin for "-") to its end in blocks of `block_size`
// bytes and hands every piece to `sink`, the last one with the end of the
// file known (so a record cut short at the end is handed on as a truncated
// piece). Stops at the first error of `sink` and returns it; IoError when
// the file cannot be opened or read; Cancelled when `keep_going` (asked
// before each block, and when a signal interrupts a read) returns false.
// `bytes_read`, when given, is increased as bytes are read.
Status read_file_pieces(const std::filesystem::path& path, const PieceSink& sink,
                        const std::function<bool()>& keep_going = {}, uint64_t* bytes_read = nullptr,
                        size_t block_size = size_t{1} << 20);

}  // namespace seisvault::client
