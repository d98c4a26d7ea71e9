// seisvault-make-records: writes synthetic miniSEED (512-byte Steim-2, 100 Hz
// random walk) for demos and tests, e.g. when no real data is at hand.
#include <fstream>

#include <CLI/CLI.hpp>

#include "bench_support.h"

using namespace seisvault;

int main(int argc, char** argv) {
  CLI::App app{"seisvault-make-records: synthetic 512-byte Steim-2 records (channels XX.Snnnn.00.HHZ)"};
  size_t channels = 10, records = 1000;
  std::string out, start_text = "2025-01-01T00:00:00Z";
  app.add_option("--channels", channels, "channels")->capture_default_str();
  app.add_option("--records", records, "records per channel")->capture_default_str();
  app.add_option("--start", start_text, "start time (ISO 8601)")->capture_default_str();
  app.add_option("--out", out, "output file")->required();
  CLI11_PARSE(app, argc, argv);
  auto start = parse_iso8601(start_text);
  if (!start.ok()) {
    std::fprintf(stderr, "%s\n", start.status().message().c_str());
    return 2;
  }
  bench::RecordGenerator gen(channels, *start);
  std::ofstream f(out, std::ios::binary);
  std::vector<uint8_t> rec;
  for (size_t i = 0; i < records; ++i) {
    for (size_t c = 0; c < channels; ++c) {
      gen.next(c, rec);
      f.write(reinterpret_cast<const char*>(rec.data()), static_cast<std::streamsize>(rec.size()));
    }
  }
  return f ? 0 : 1;
}
