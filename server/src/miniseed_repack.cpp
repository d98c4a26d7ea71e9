#include "miniseed_repack.h"

#include <libmseed.h>

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "seisvault/common/seedlink_wire.h"

namespace seisvault::server::seedlink {
namespace {

using seisvault::seedlink::kV3RecordSize;

constexpr size_t kFixedHeaderSize = 48;
constexpr int kMinRecordExponent = 7;   // 128 bytes, libmseed's MINRECLEN
constexpr int kMaxRecordExponent = 20;  // 1 MiB, libmseed's MAXRECLEN
constexpr uint8_t kTimeCorrectionApplied = 0x02;  // activity flags, bit 1

// The fixed-header fields the classification and the length check need, in
// host order.
struct FixedHeader {
  bool big_endian = true;
  uint16_t num_samples = 0;
  int16_t rate_factor = 0;
  uint16_t first_blockette = 0;
};

uint16_t read_u16(const uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<uint16_t>((p[0] << 8) | p[1]) : static_cast<uint16_t>((p[1] << 8) | p[0]);
}

bool is_digit_space_or_nul(uint8_t c) { return (c >= '0' && c <= '9') || c == ' ' || c == 0; }

bool valid_year_day(uint16_t year, uint16_t day) { return year >= 1900 && year <= 2100 && day >= 1 && day <= 366; }

// libmseed's MS_ISVALIDHEADER on unsigned bytes, plus the byte order
// detection libmseed uses (a sane year and day in one order or the other).
bool read_fixed_header(std::span<const uint8_t> rec, FixedHeader& out) {
  if (rec.size() < kFixedHeaderSize) return false;
  const uint8_t* p = rec.data();
  for (int i = 0; i < 6; ++i) {
    if (!is_digit_space_or_nul(p[i])) return false;
  }
  if (p[6] != 'D' && p[6] != 'R' && p[6] != 'Q' && p[6] != 'M') return false;
  if (p[7] != ' ' && p[7] != 0) return false;
  if (p[24] > 23 || p[25] > 59 || p[26] > 60) return false;
  out.big_endian = valid_year_day(read_u16(p + 20, true), read_u16(p + 22, true)) ||
                   !valid_year_day(read_u16(p + 20, false), read_u16(p + 22, false));
  out.num_samples = read_u16(p + 30, out.big_endian);
  out.rate_factor = static_cast<int16_t>(read_u16(p + 32, out.big_endian));
  out.first_blockette = read_u16(p + 46, out.big_endian);
  return true;
}

// Calls fn(type, offset) for each blockette whose 4-byte header lies inside
// the record, in chain order, until fn returns false. Stops at the first link
// that points before the fixed header's end, outside the record, or not past
// the previous blockette: a hostile chain cannot loop or read out of bounds.
template <class Fn>
void for_each_blockette(std::span<const uint8_t> rec, const FixedHeader& header, Fn&& fn) {
  size_t offset = header.first_blockette;
  size_t previous = 0;
  while (offset != 0 && offset >= kFixedHeaderSize && offset > previous && offset + 4 <= rec.size()) {
    const uint16_t type = read_u16(rec.data() + offset, header.big_endian);
    if (!fn(type, offset)) return;
    previous = offset;
    offset = read_u16(rec.data() + offset + 2, header.big_endian);
  }
}

// The record length blockette 1000 states, or -1 without a (readable) one.
long stated_record_length(std::span<const uint8_t> rec, const FixedHeader& header) {
  long length = -1;
  for_each_blockette(rec, header, [&](uint16_t type, size_t offset) {
    if (type != 1000) return true;
    if (offset + 8 > rec.size()) return false;
    const int exponent = rec[offset + 6];
    length = (exponent >= kMinRecordExponent && exponent <= kMaxRecordExponent) ? (1L << exponent) : 0;
    return false;
  });
  return length;
}

bool is_record_length(size_t n) {
  return n >= (size_t{1} << kMinRecordExponent) && n <= (size_t{1} << kMaxRecordExponent) && (n & (n - 1)) == 0;
}

void collect_record(char* record, int length, void* handler_data) {
  static_cast<std::vector<std::string>*>(handler_data)->emplace_back(record, static_cast<size_t>(length));
}

// The encoding the 512-byte records get: the original's when libmseed can
// write it, else one that holds the decoded sample type losslessly.
int8_t output_encoding(int8_t original, char sample_type) {
  switch (original) {
    case DE_ASCII:
    case DE_INT16:
    case DE_INT32:
    case DE_FLOAT32:
    case DE_FLOAT64:
    case DE_STEIM1:
    case DE_STEIM2:
      return original;
    default:
      break;
  }
  switch (sample_type) {
    case 'i': return DE_STEIM2;
    case 'f': return DE_FLOAT32;
    case 'd': return DE_FLOAT64;
    case 'a': return DE_ASCII;
    default: return -1;
  }
}

// Whether some record start needs microseconds, which only blockette 1001
// carries (the fixed header counts 100 us ticks).
bool needs_microseconds(const MSRecord& msr) {
  if (msr.starttime % 100 != 0) return true;
  if (msr.samprate <= 0.0) return false;
  const double ticks_per_sample = 1e4 / msr.samprate;  // in 100 us ticks
  return std::fabs(ticks_per_sample - std::round(ticks_per_sample)) > 1e-6 * std::fmax(1.0, ticks_per_sample);
}

void put_be16(std::string& record, size_t offset, uint16_t value) {
  record[offset] = static_cast<char>(value >> 8);
  record[offset + 1] = static_cast<char>(value & 0xFF);
}

// msr_pack derives a factor/multiplier pair from the rate; put back the
// original's pair, so that every reader computes the rate it computed.
void restore_rate_fields(std::vector<std::string>& records, int16_t factor, int16_t multiplier) {
  for (auto& r : records) {
    put_be16(r, 32, static_cast<uint16_t>(factor));
    put_be16(r, 34, static_cast<uint16_t>(multiplier));
  }
}

std::string libmseed_said(const LibmseedLock& lock, std::string_view fallback) {
  return std::string(lock.first_error().empty() ? fallback : lock.first_error());
}

// libmseed writes its cleaned code strings (cut at a NUL, spaces dropped);
// put back the original's raw code bytes (station, location, channel,
// network: header bytes 8-19) so that the pieces name the record's channel
// exactly as the store does (fuzzing finding F7).
void restore_codes(std::vector<std::string>& records, std::span<const uint8_t> original) {
  for (auto& r : records) std::memcpy(r.data() + 8, original.data() + 8, 12);
}

// One 512-byte record with the original's header and blockettes, no data.
Result<std::vector<std::string>> pack_header_only(MSRecord& msr, const LibmseedLock& lock) {
  size_t needed = kFixedHeaderSize;
  bool has_1000 = false;
  for (const BlktLink* b = msr.blkts; b; b = b->next) {
    needed += 4 + b->blktdatalen;
    has_1000 |= b->blkt_type == 1000;
  }
  if (!has_1000) needed += 8;
  if (needed > kV3RecordSize) {
    return Status::resource_exhausted(
        fmt::format("the record has no samples and its header and blockettes take {} bytes, more than {}", needed,
                    kV3RecordSize));
  }
  if (!has_1000) {
    blkt_1000_s b1000{};
    b1000.encoding = static_cast<uint8_t>(msr.encoding);
    msr_addblockette(&msr, reinterpret_cast<char*>(&b1000), sizeof b1000, 1000, 0);
  }
  if (msr.Blkt1000) {
    msr.Blkt1000->byteorder = 1;
    msr.Blkt1000->reclen = 9;
  }
  std::string out(kV3RecordSize, '\0');
  char* const original = msr.record;
  msr.record = out.data();
  msr.samplecnt = 0;
  // msr_pack_header takes a data offset it finds in the template as the room
  // for the blockettes, and drops those that do not fit (only logging it):
  // let it compute the offset (fuzzing finding F8).
  msr.fsdh->data_offset = 0;
  const int header_size = msr_pack_header(&msr, 1, 0);
  msr.record = original;
  if (header_size < 0 || lock.error_logged()) {
    return Status::internal("libmseed cannot pack the header: " + libmseed_said(lock, "no reason given"));
  }
  std::vector<std::string> records;
  records.push_back(std::move(out));
  return records;
}

int pack(MSRecord& msr, int8_t encoding, std::vector<std::string>& records) {
  records.clear();
  msr.encoding = encoding;
  int64_t packed = 0;
  const int n = msr_pack(&msr, &collect_record, &records, &packed, 1, 0);
  return (n > 0 && packed == msr.numsamples) ? n : -1;
}

Result<std::vector<std::string>> repack(std::span<const uint8_t> record) {
  std::vector<char> buffer(record.begin(), record.end());  // libmseed takes a mutable buffer
  LibmseedLock lock;
  MseedRecord msr;
  const int rc = msr_unpack(buffer.data(), static_cast<int>(buffer.size()), msr.out(), 1, 0);
  if (rc == MS_UNKNOWNFORMAT) {
    return Status::invalid_argument("libmseed cannot decode the record's encoding: " +
                                    libmseed_said(lock, ms_errorstr(rc)));
  }
  if (rc != MS_NOERROR || msr.get() == nullptr || msr->fsdh == nullptr) {
    return Status::corruption("libmseed cannot unpack the record: " + libmseed_said(lock, ms_errorstr(rc)));
  }
  if (lock.error_logged()) {
    return Status::corruption("libmseed reported an error unpacking the record: " + std::string(lock.first_error()));
  }
  MSRecord& m = *msr.get();
  const int16_t rate_factor = m.fsdh->samprate_fact;
  const int16_t rate_multiplier = m.fsdh->samprate_mult;
  // msr_pack writes libmseed's corrected start time and copies the
  // template's time-correction field; mark it applied so readers do not
  // add it a second time.
  if (m.fsdh->time_correct != 0) m.fsdh->act_flags |= kTimeCorrectionApplied;
  m.reclen = static_cast<int32_t>(kV3RecordSize);
  m.byteorder = 1;

  std::vector<std::string> records;
  if (m.numsamples <= 0) {
    auto header_only = pack_header_only(m, lock);
    if (!header_only.ok()) return header_only;
    records = std::move(header_only).value();
  } else {
    if (m.Blkt1001 == nullptr && needs_microseconds(m)) {
      blkt_1001_s b1001{};
      msr_addblockette(&m, reinterpret_cast<char*>(&b1001), sizeof b1001, 1001, 0);
    }
    const int8_t encoding = output_encoding(m.encoding, m.sampletype);
    if (encoding < 0) {
      return Status::internal(fmt::format("libmseed decoded samples of unknown type '{}'", m.sampletype));
    }
    // msr_pack advances these as it goes; a retry starts from the original.
    const hptime_t start = m.starttime;
    const int32_t sequence = m.sequence_number;
    if (pack(m, encoding, records) < 0) {
      const bool steim = encoding == DE_STEIM1 || encoding == DE_STEIM2;
      if (!(steim && m.sampletype == 'i')) {
        return Status::internal("libmseed cannot pack the samples: " + libmseed_said(lock, "no reason given"));
      }
      m.starttime = start;
      m.sequence_number = sequence;
      lock.clear_messages();
      if (pack(m, DE_INT32, records) < 0) {
        return Status::internal("libmseed cannot pack the samples: " + libmseed_said(lock, "no reason given"));
      }
    }
  }
  for (const auto& r : records) {
    if (r.size() != kV3RecordSize) {
      return Status::internal(fmt::format("libmseed packed a {}-byte record, not {}", r.size(), kV3RecordSize));
    }
  }
  restore_rate_fields(records, rate_factor, rate_multiplier);
  restore_codes(records, record);
  return records;
}

}  // namespace

Result<std::vector<std::string>> repack_to_512(std::span<const uint8_t> record) {
  FixedHeader header;
  if (!read_fixed_header(record, header)) {
    return Status::invalid_argument(
        fmt::format("not a miniSEED 2 record: {} bytes without a valid fixed header", record.size()));
  }
  const long stated = stated_record_length(record, header);
  if (stated == 0) return Status::invalid_argument("blockette 1000 states a record length outside 128 bytes..1 MiB");
  if (stated > 0 && static_cast<size_t>(stated) != record.size()) {
    return Status::invalid_argument(
        fmt::format("blockette 1000 states a {}-byte record but {} bytes were given", stated, record.size()));
  }
  if (stated < 0 && !is_record_length(record.size())) {
    return Status::invalid_argument(fmt::format(
        "a record without blockette 1000 must be a power of two from 128 bytes to 1 MiB long, not {} bytes",
        record.size()));
  }
  if (record.size() == kV3RecordSize) {
    std::vector<std::string> same;
    same.emplace_back(reinterpret_cast<const char*>(record.data()), record.size());
    return same;
  }
  return repack(record);
}

char record_type(std::span<const uint8_t> record) {
  FixedHeader header;
  if (!read_fixed_header(record, header)) return '\0';
  char type = 0;
  bool opaque = false;
  for_each_blockette(record, header, [&](uint16_t blockette, size_t) {
    if (blockette >= 200 && blockette <= 299) type = 'E';
    else if (blockette >= 300 && blockette <= 399) type = 'C';
    else if (blockette >= 500 && blockette <= 599) type = 'T';
    else if (blockette == 2000) opaque = true;
    return type == 0;
  });
  if (type != 0) return type;
  if (header.rate_factor == 0) {
    if (header.num_samples != 0) return 'L';
    if (opaque) return 'O';
  }
  return 'D';
}

}  // namespace seisvault::server::seedlink
