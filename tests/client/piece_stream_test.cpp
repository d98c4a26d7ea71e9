#include <catch2/catch.hpp>

#include <fstream>

#include "seisvault/client/file_source.h"
#include "seisvault/client/piece_stream.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;

namespace {

struct Collected {
  std::vector<std::vector<uint8_t>> pieces;
  std::vector<PieceKind> kinds;
  PieceSink sink() {
    return [this](std::span<const uint8_t> p, PieceKind k) {
      pieces.emplace_back(p.begin(), p.end());
      kinds.push_back(k);
      return Status{};
    };
  }
};

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("bytes fed in small chunks come out as the same records as the whole stream", "[piece_stream]") {
  const auto records = test::make_records(10);
  const auto data = test::concatenate(records);
  PieceStream stream;
  Collected out;
  for (size_t off = 0; off < data.size(); off += 77) {
    const size_t n = std::min<size_t>(77, data.size() - off);
    stream.feed({data.data() + off, n});
    REQUIRE(stream.drain(false, out.sink()).ok());
  }
  REQUIRE(stream.drain(true, out.sink()).ok());
  CHECK(out.pieces == records);
  CHECK(stream.consumed() == data.size());
  CHECK(stream.buffered() == 0);
}

TEST_CASE("a record still incomplete waits for its end unless the stream has ended", "[piece_stream]") {
  const auto records = test::make_records(2);
  PieceStream stream;
  Collected out;
  stream.feed(test::bytes_of(records[0]));
  stream.feed({records[1].data(), 300});
  REQUIRE(stream.drain(false, out.sink()).ok());
  CHECK(out.pieces.size() == 1);
  CHECK(stream.buffered() == 300);
  REQUIRE(stream.drain(true, out.sink()).ok());
  REQUIRE(out.pieces.size() == 2);
  CHECK(out.kinds[1] == PieceKind::kTruncated);
  CHECK(out.pieces[1].size() == 300);
}

TEST_CASE("a piece refused by the sink stays buffered and comes first next time", "[piece_stream]") {
  const auto records = test::make_records(3);
  PieceStream stream;
  stream.feed(test::bytes_of(test::concatenate(records)));
  int calls = 0;
  auto s = stream.drain(true, [&](std::span<const uint8_t>, PieceKind) {
    return ++calls == 2 ? Status::cancelled("stop") : Status{};
  });
  CHECK(s.code() == StatusCode::kCancelled);
  CHECK(stream.consumed() == records[0].size());
  Collected out;
  REQUIRE(stream.drain(true, out.sink()).ok());
  CHECK(out.pieces == std::vector<std::vector<uint8_t>>{records[1], records[2]});
}

TEST_CASE("a file's pieces cover every byte, non-record bytes included", "[file_source]") {
  test::TempDir dir;
  const auto records = test::make_records(5);
  auto data = test::concatenate(records);
  const std::string junk(1000, 'j');
  data.insert(data.begin() + 1024, junk.begin(), junk.end());  // after the second record
  write_file(dir.path() / "f.mseed", data);

  Collected out;
  uint64_t bytes = 0;
  REQUIRE(read_file_pieces(dir.path() / "f.mseed", out.sink(), {}, &bytes, 700).ok());
  CHECK(bytes == data.size());
  size_t total = 0, record_pieces = 0;
  for (size_t i = 0; i < out.pieces.size(); ++i) {
    total += out.pieces[i].size();
    if (out.kinds[i] == PieceKind::kRecord) ++record_pieces;
  }
  CHECK(total == data.size());
  CHECK(record_pieces == 5);
}

TEST_CASE("a file that cannot be opened is an IoError naming it", "[file_source]") {
  Collected out;
  auto s = read_file_pieces("/nonexistent/seisvault/file", out.sink());
  CHECK(s.code() == StatusCode::kIoError);
  CHECK_THAT(s.message(), Catch::Contains("/nonexistent/seisvault/file"));
}

TEST_CASE("directories expand to their files recursively in sorted order, in argument order", "[file_source]") {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "d" / "sub");
  for (auto name : {"d/b", "d/a", "d/sub/c", "e"}) std::ofstream(dir.path() / name) << "x";
  auto paths = expand_input_paths({(dir.path() / "e").string(), (dir.path() / "d").string(), "-"});
  REQUIRE(paths.ok());
  const std::vector<std::filesystem::path> expected{dir.path() / "e", dir.path() / "d/a", dir.path() / "d/b",
                                                    dir.path() / "d/sub/c", "-"};
  CHECK(*paths == expected);

  auto missing = expand_input_paths({(dir.path() / "nope").string()});
  CHECK(missing.status().code() == StatusCode::kNotFound);
}
