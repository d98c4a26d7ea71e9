// miniSEED 2 records for SeedLink v3 clients: repacking any record into
// 512-byte records, and the SeedLink stream type of a record.
//
// SeedLink v3 sends exactly 512-byte miniSEED 2 records (ObsPy reads nothing
// else); the store keeps records of any length (128 bytes to libmseed's
// 1 MiB). repack_to_512() turns one stored record into the 512-byte records
// a v3 client gets; record_type() gives the 'D'/'E'/'C'/'T'/'L'/'O' letter
// that SeedLink SELECT ".T" suffixes, INFO STREAMS and v4 subformats use.
//
// repack_to_512(record)
//   Input: exactly one miniSEED 2 record (the span's size is its length)
//   that ingest's RecordValidator accepts: what the store holds. Bytes it
//   refuses (a blockette running past the record, more samples than the
//   data section holds) can make libmseed read out of bounds when it
//   decodes them (fuzzing finding F6); the SeedLink face validates a record
//   before repacking it.
//   Output, on success, one or more strings of exactly 512 bytes each:
//   - A record that is already 512 bytes comes back byte for byte (nothing
//     is decoded, whatever its byte order or blockettes).
//   - Otherwise its samples are decoded with libmseed (msr_unpack) and packed
//     again with msr_pack at record length 512, big-endian (header and data),
//     with:
//       * the same network, station, location, channel and quality
//         indicator; the same sequence number for the first record (libmseed
//         counts up from it for the next ones);
//       * the same sample-rate factor and multiplier, copied raw into every
//         record (msr_pack would pick its own pair for the same rate, e.g.
//         40/1 for 32760/-819), and every blockette of the original (100,
//         200-series, 300-series, 500, 1001, 2000...) in every record;
//       * the first record starting at the original's start time (libmseed's
//         corrected time: a time correction the original had not applied is
//         kept in the header and marked applied, activity flag bit 1, so it
//         is not added twice), each next record at the time of its first
//         sample as libmseed computes it from the rate (blockette 100's rate
//         when present); records of rate 0 (text/log) all keep the start;
//       * a blockette 1001 added when the original has none but a start time
//         needs microseconds (the start is not a multiple of 100 us, or the
//         sample period is not): libmseed 2.19 neither adds one itself nor
//         keeps microseconds without it;
//       * blockette 1000 with record length 9 (2^9 = 512), word order 1;
//       * the same encoding when libmseed can write it: text (0), INT16 (1),
//         INT32 (3), FLOAT32 (4), FLOAT64 (5), Steim-1 (10), Steim-2 (11).
//         Encodings libmseed reads but cannot write (INT24, GEOSCOPE, CDSN,
//         SRO, DWWSSN, ...) become Steim-2 for integer samples (INT32 if a
//         difference does not fit Steim-2's 30 bits), FLOAT32 for float and
//         FLOAT64 for double samples. A Steim-1/2 packing that fails (a
//         difference beyond 32/30 bits) is retried as INT32.
//   - A record without samples (an event-detection, opaque or empty record)
//     becomes one 512-byte record with the same fixed header and blockettes
//     and no data (libmseed's msr_pack_header), if they fit in 512 bytes.
//   Errors (never an exception, never a partial result):
//     kInvalidArgument - not a miniSEED 2 record: shorter than 48 bytes, no
//       valid fixed header, blockette 1000's length differs from the span's
//       size, or (without blockette 1000) the size is not a power of two
//       from 128 to 1 MiB;
//     kCorruption - libmseed cannot unpack it or logs an error while doing
//       so (e.g. a failed Steim integrity check): the samples are suspect;
//     kResourceExhausted - a sample-less record whose blockettes do not fit
//       in 512 bytes;
//     kInternal - libmseed refused to pack what it decoded.
//   Takes the process-wide LibmseedLock for the decoding and packing (about
//   as long as decoding and packing the record takes); thread-safe.
//
// record_type(record)
//   The SeedLink type letter, by SeisComP seedlink's rule (apps/seedlink/
//   monitor.cc packet_type(); libslink names the same letters):
//     walk the blockette chain; the first blockette of type 200-299 gives
//     'E' (event detection), 300-399 'C' (calibration), 500-599 'T'
//     (timing); otherwise, with a sample-rate factor of 0, a record with
//     samples is 'L' (log/text) and one without samples but with blockette
//     2000 is 'O' (opaque); everything else is 'D' (data).
//   Reads only the fixed header and the blockette headers, bounds-checked:
//   the byte order is detected as libmseed does (year 1900-2100, day 1-366);
//   the walk stops at a blockette that would lie outside the record, before
//   offset 48, or at or before the previous one (so a looping chain ends),
//   and the type is decided from what was read. Returns '\0' when `record`
//   is shorter than 48 bytes or does not start with a miniSEED 2 fixed
//   header. No allocation, no libmseed call; thread-safe.
//
// Sources checked (read, not copied): libmseed 2.19.8 (Debian's; behaviour
// of msr_unpack/msr_pack/msr_pack_header tried on the corpus), SeisComP
// seedlink apps/seedlink/monitor.cc (packet_type), ringserver src/slclient.c
// (ringserver itself sends every miniSEED packet as subformat 'D'), libslink
// slutils.c (sl_formatstr: the subformat letters), the FDSN SeedLink 4
// specification (docs.fdsn.org/projects/seedlink: format 2 subformats
// D/E/C/T/L/O).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::server::seedlink {

Result<std::vector<std::string>> repack_to_512(std::span<const uint8_t> record);

char record_type(std::span<const uint8_t> record);

}  // namespace seisvault::server::seedlink
