"""End-to-end tests of the Python client against a real seisvaultd.

Run (from anywhere)::

    env PYTHONPATH=<build>/client/python SEISVAULTD=<build>/server/seisvaultd \\
        /usr/bin/python3 -m unittest discover -s <repo>/client/python/tests -v

Environment:
    SEISVAULTD          the server binary (default: <repo>/build/server/seisvaultd)
    SEISVAULT_TESTDATA  the miniSEED corpus (default: <repo>/../shared/testdata/miniseed)

Each test class starts its own seisvaultd (--insecure, loopback only, data in
a temporary directory), pushes real miniSEED records through the real
ingest socket with pyzmq (python3-zmq), queries it through seisvault.Client
and stops it. When the corpus or the server binary is missing the server
tests are skipped, visibly. Every wait is bounded.
"""

import csv
import datetime as dt
import hashlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY_SRC = HERE.parent               # client/python (sources, without generated stubs)
REPO = HERE.parents[2]             # the repository root

# The package must come from the build tree (PYTHONPATH), where the stubs are
# generated: never let the source directory (the cwd, when run from there)
# shadow it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != PY_SRC]

import grpc  # noqa: E402  (python3-grpcio)
import numpy as np  # noqa: E402  (python3-numpy)

try:
    import seisvault  # noqa: E402
    from seisvault import ingest_pb2  # noqa: E402  (generated at build time)
except ImportError as e:  # pragma: no cover
    raise ImportError(
        f"cannot import the built seisvault package ({e}): build the project and set "
        "PYTHONPATH=<build>/client/python") from e

try:
    import zmq  # noqa: E402  (python3-zmq)
except ImportError as e:  # pragma: no cover
    raise ImportError("these tests push records with pyzmq: apt-get install python3-zmq") from e

STARTUP_TIMEOUT_S = 30.0
ACK_TIMEOUT_S = 30.0
SUBSCRIBE_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

THREE_CHANNEL = "libmseed__testdata-3channel-signal.mseed2"
GAPS = "obspy__gaps.mseed"
THREE_CHANNEL_IDS = ["IU.COLA.00.LH1", "IU.COLA.00.LH2", "IU.COLA.00.LHZ"]
THREE_CHANNEL_SAMPLES_SHA256 = "6d08554e2a320a8630b50212b6fdb62102524085e6079fbe89c35ac042c9a8b6"


# --------------------------------------------------------------------------
# Test data and server helpers
# --------------------------------------------------------------------------


def corpus_dir() -> Path:
    env = os.environ.get("SEISVAULT_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "testdata" / "miniseed"


def server_binary() -> Path:
    env = os.environ.get("SEISVAULTD")
    return Path(env) if env else REPO / "build" / "server" / "seisvaultd"


def require_environment(testcase_cls):
    """Skip (visibly) when the server, or the corpus the class needs, is not there."""
    corpus = corpus_dir()
    if getattr(testcase_cls, "needs_corpus", True) and not (corpus / "MANIFEST.tsv").is_file():
        raise unittest.SkipTest(f"miniSEED corpus not found at {corpus} (set SEISVAULT_TESTDATA)")
    binary = server_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise unittest.SkipTest(f"seisvaultd not found at {binary} (set SEISVAULTD)")


def manifest_row(name: str) -> dict:
    with open(corpus_dir() / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["file"] == name:
                return row
    raise AssertionError(f"{name} is not in MANIFEST.tsv")


def file_records(name: str) -> list:
    """The records of a corpus file with one fixed record length, in file order."""
    row = manifest_row(name)
    reclen = int(row["reclen"])
    data = (corpus_dir() / name).read_bytes()
    assert len(data) % reclen == 0, f"{name}: {len(data)} bytes is not a multiple of {reclen}"
    records = [data[i:i + reclen] for i in range(0, len(data), reclen)]
    assert len(records) == int(row["records"]), name
    return records


def header_sample_count(record: bytes) -> int:
    """Number of samples from a miniSEED 2 fixed header (no decoding)."""
    year_be = struct.unpack_from(">H", record, 20)[0]
    order = ">" if 1900 <= year_be <= 2100 else "<"
    return struct.unpack_from(order + "H", record, 30)[0]


class Seisvaultd:
    """A seisvaultd child process with its own temporary data directory."""

    def __init__(self, *extra_args: str):
        self._tmp = tempfile.TemporaryDirectory(prefix="seisvault-pytest-")
        self.dir = Path(self._tmp.name)
        self.data_dir = self.dir / "data"
        self.log_path = self.dir / "seisvaultd.log"
        self._log = open(self.log_path, "wb")
        self._zmq = zmq.Context()
        self._batch_id = 0
        args = [
            str(server_binary()),
            "--data-dir", str(self.data_dir),
            "--insecure",
            "--ingest", "tcp://127.0.0.1:*",
            "--api", "127.0.0.1:0",
            "--http", "127.0.0.1:0", "--seedlink", "127.0.0.1:0",
            # A small free-space reserve: tests run on machines with little disk.
            "--min-free-space", "64MiB",
            *extra_args,
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.api = self._wait_endpoint("api.endpoint", r"^\S+:[1-9]\d*$")
            self.ingest = self._wait_endpoint("ingest.endpoint", r"^tcp://\S+:[1-9]\d*$")
        except BaseException:
            self.stop()
            raise

    def _wait_endpoint(self, name: str, pattern: str) -> str:
        path = self.data_dir / name
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"seisvaultd exited with {self.proc.returncode} during start-up:\n{self.log()}")
            try:
                text = path.read_text().strip()
            except FileNotFoundError:
                text = ""
            if re.match(pattern, text):
                return text
            time.sleep(0.05)
        raise RuntimeError(f"seisvaultd wrote no {name} within {STARTUP_TIMEOUT_S} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def push(self, records: list) -> list:
        """Send one IngestBatch over a ZeroMQ DEALER; return the record statuses."""
        self._batch_id += 1
        batch = ingest_pb2.IngestBatch(protocol_version=1, batch_id=self._batch_id)
        for r in records:
            batch.records.add(mseed=r, sha256=hashlib.sha256(r).digest())
        sock = self._zmq.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.ingest)
            sock.send(batch.SerializeToString())
            if not sock.poll(int(ACK_TIMEOUT_S * 1000), zmq.POLLIN):
                raise AssertionError(f"no IngestAck within {ACK_TIMEOUT_S} s:\n{self.log()}")
            ack = ingest_pb2.IngestAck()
            ack.ParseFromString(sock.recv())
        finally:
            sock.close()
        if ack.error:
            raise AssertionError(f"batch refused: {ack.error_message}")
        assert ack.batch_id == self._batch_id, (ack.batch_id, self._batch_id)
        assert len(ack.results) == len(records)
        return [r.status for r in ack.results]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._zmq.term()
        self._log.close()
        self._tmp.cleanup()


class ServerTestCase(unittest.TestCase):
    """Starts one seisvaultd for the class; subclasses push what they need."""

    server_args: tuple = ()
    needs_corpus = True
    server: Seisvaultd
    client: seisvault.Client

    @classmethod
    def setUpClass(cls):
        require_environment(cls)
        cls.server = Seisvaultd(*cls.server_args)
        cls.addClassCleanup(cls.server.stop)
        cls.client = cls.make_client()
        cls.addClassCleanup(cls.client.close)
        cls.client.wait_ready(timeout=STARTUP_TIMEOUT_S)

    @classmethod
    def make_client(cls, **kwargs) -> seisvault.Client:
        return seisvault.Client(cls.server.api, timeout=30.0, **kwargs)


# --------------------------------------------------------------------------
# Queries over stored data
# --------------------------------------------------------------------------


class QueryTest(ServerTestCase):
    """The 3-channel file and the file with gaps, pushed once, queried many ways."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.records = file_records(THREE_CHANNEL)
        cls.gap_records = file_records(GAPS)
        statuses = cls.server.push(cls.records)
        assert statuses == [ingest_pb2.STORED] * len(cls.records), statuses
        statuses = cls.server.push(cls.gap_records)
        assert statuses == [ingest_pb2.STORED] * len(cls.gap_records), statuses
        cls.row = manifest_row(THREE_CHANNEL)

    def test_list_channels(self):
        channels = self.client.list_channels("IU.*")
        self.assertEqual([c.source_id for c in channels], THREE_CHANNEL_IDS)
        self.assertEqual(sum(c.record_count for c in channels), len(self.records))
        self.assertEqual(sum(c.byte_count for c in channels), sum(len(r) for r in self.records))
        for c in channels:
            self.assertIsInstance(c, seisvault.Channel)
            self.assertEqual(c.sample_rate, 1.0)
            self.assertEqual(c.first_start_ns, seisvault.to_ns("2010-02-27T06:50:00.069539Z"))
            self.assertEqual(c.last_end_ns, seisvault.to_ns(self.row["end"]))
        # No selection: every channel; wildcards, comma lists, lists, "--".
        self.assertEqual([c.source_id for c in self.client.list_channels()], ["BW.BGLD..EHE"] + THREE_CHANNEL_IDS)
        self.assertEqual(len(self.client.list_channels("IU.COLA.00.LH1,LHZ")), 2)
        self.assertEqual(len(self.client.list_channels(["IU.COLA.00.LH2", "BW"])), 2)
        self.assertEqual(len(self.client.list_channels("IU.COLA.00.LH2 BW")), 2)
        self.assertEqual([c.source_id for c in self.client.list_channels("*.*.--")], ["BW.BGLD..EHE"])
        self.assertEqual([c.source_id for c in self.client.list_channels("IU.COLA.00.LH?")], THREE_CHANNEL_IDS)
        self.assertEqual(self.client.list_channels("XX.NONE"), [])

    def test_get_records_byte_identical(self):
        got = list(self.client.get_records("IU.COLA", "2010-02-27", "2010-02-28"))
        self.assertEqual(len(got), len(self.records))
        self.assertEqual(sorted(r.mseed for r in got), sorted(self.records))
        for r in got:
            self.assertIsInstance(r, seisvault.Record)
            self.assertEqual(r.sha256, hashlib.sha256(r.mseed).digest())
            self.assertTrue(r.sha256_ok())
            self.assertEqual(r.source_id, "{}.{}.{}.{}".format(
                r.mseed[18:20].decode().strip(), r.mseed[8:13].decode().strip(),
                r.mseed[13:15].decode().strip(), r.mseed[15:18].decode().strip()))
            self.assertLessEqual(r.start_ns, r.end_ns)
            self.assertGreater(r.receive_ns, seisvault.to_ns("2020-01-01"))
        # Channel then start-time order.
        keys = [(r.source_id, r.start_ns) for r in got]
        self.assertEqual(keys, sorted(keys))
        # A window keeps the records that overlap it, whole.
        t = got[5].start_ns + 1
        inside = list(self.client.get_records("IU.COLA.00.LH1", t, t))
        self.assertEqual([r.mseed for r in inside], [got[5].mseed])
        # Nothing stored there: an empty result, not an error.
        self.assertEqual(list(self.client.get_records("IU.COLA", "1990-01-01", "1990-01-02")), [])

    def test_get_samples_counts_and_contiguity(self):
        segments = self.client.get_samples("IU.COLA.00.LH?")
        self.assertEqual(sum(len(s) for s in segments), int(self.row["samples"]))  # 12600
        per_channel_header = {}
        for r in self.client.get_records("IU.COLA"):
            per_channel_header[r.source_id] = per_channel_header.get(r.source_id, 0) + header_sample_count(r.mseed)
        self.assertEqual(sorted({s.source_id for s in segments}), THREE_CHANNEL_IDS)
        for sid in THREE_CHANNEL_IDS:
            segs = [s for s in segments if s.source_id == sid]
            # The manifest says 3 segments for 3 channels: 0 gaps, 0 overlaps.
            self.assertEqual(len(segs), 1, segs)
            seg = segs[0]
            self.assertIsInstance(seg.data, np.ndarray)
            self.assertEqual(seg.data.dtype, np.int32)
            self.assertEqual(seg.sample_type, "int32")
            self.assertEqual(seg.sample_rate, 1.0)
            self.assertEqual(len(seg), per_channel_header[sid])
            self.assertEqual(seg.start_ns, seisvault.to_ns("2010-02-27T06:50:00.069539Z"))
            self.assertLessEqual(abs(seg.end_ns - seisvault.to_ns(self.row["end"])), 500_000_000)
            self.assertEqual(len(seg.times()), len(seg))

    def test_samples_hash_matches_manifest(self):
        # The manifest hashes every sample as little-endian int32 in FILE
        # order (records interleave the channels); the API returns channels in
        # time order. So ask for each record's own window, in file order.
        stored = {r.sha256: r for r in self.client.get_records("IU.COLA")}
        parts = []
        for raw in self.records:
            rec = stored[hashlib.sha256(raw).digest()]
            segs = self.client.get_samples(rec.source_id, rec.start_ns, rec.end_ns)
            self.assertEqual(len(segs), 1, (rec, segs))
            self.assertEqual(segs[0].start_ns, rec.start_ns)
            self.assertEqual(len(segs[0]), header_sample_count(raw))
            parts.append(segs[0].data)
        samples = np.concatenate(parts)
        self.assertEqual(len(samples), int(self.row["samples"]))
        digest = hashlib.sha256(samples.astype("<i4").tobytes()).hexdigest()
        self.assertEqual(digest, self.row["decoded_samples_sha256"])
        self.assertEqual(digest, THREE_CHANNEL_SAMPLES_SHA256)
        # And the per-record pieces are exactly the whole channel's samples.
        whole = {s.source_id: s.data for s in self.client.get_samples("IU.COLA")}
        by_channel = {}
        for raw, part in zip(self.records, parts):
            by_channel.setdefault(stored[hashlib.sha256(raw).digest()].source_id, []).append(part)
        for sid, pieces in by_channel.items():
            np.testing.assert_array_equal(np.concatenate(pieces), whole[sid])

    def test_samples_window_is_trimmed(self):
        (whole,) = self.client.get_samples("IU.COLA.00.LHZ")
        # Half a period around samples 100..109: record start times jitter by
        # a few microseconds, so exact sample times would be ambiguous.
        start = whole.start_ns + 99_500_000_000
        end = whole.start_ns + 109_500_000_000
        for s, e in [(start, end), (seisvault.format_ns(start), seisvault.format_ns(end)),
                     (seisvault.ns_to_datetime(start), seisvault.ns_to_datetime(end))]:
            (seg,) = self.client.get_samples("IU.COLA.00.LHZ", s, e)
            self.assertEqual(len(seg), 10)
            self.assertLessEqual(abs(seg.start_ns - (whole.start_ns + 100_000_000_000)), 1_000_000)
            np.testing.assert_array_equal(seg.data, whole.data[100:110])

    def test_gaps_are_explicit(self):
        row = manifest_row(GAPS)   # 4 segments, 3 gaps
        segments = self.client.get_samples("BW.BGLD..EHE")
        self.assertEqual(len(segments), 4)
        self.assertEqual(sum(len(s) for s in segments), int(row["samples"]))
        for a, b in zip(segments, segments[1:]):
            self.assertGreater(b.start_ns, a.end_ns + a.period_ns * 1.5)
        # The file is in time order, so channel order is file order here.
        digest = hashlib.sha256(np.concatenate([s.data for s in segments]).astype("<i4").tobytes()).hexdigest()
        self.assertEqual(digest, row["decoded_samples_sha256"])
        (avail,) = self.client.get_availability("BW.BGLD..EHE")
        self.assertEqual(len(avail.spans), 4)
        self.assertEqual(len(avail.gaps), 3)
        for gap, seg_before, seg_after in zip(avail.gaps, segments, segments[1:]):
            self.assertFalse(gap.overlap)
            self.assertGreater(gap.duration_ns, 0)
            self.assertEqual(gap.end_ns, seg_after.start_ns)
            self.assertLessEqual(abs(gap.start_ns - seg_before.end_ns), 1000)

    def test_availability(self):
        avail = self.client.get_availability("IU.COLA", "2010-02-27", "2010-02-28")
        self.assertEqual([a.source_id for a in avail], THREE_CHANNEL_IDS)
        for a in avail:
            self.assertIsInstance(a, seisvault.ChannelAvailability)
            self.assertEqual(len(a.spans), 1, a)
            self.assertEqual(a.gaps, [])
            self.assertEqual(a.spans[0].start_ns, seisvault.to_ns("2010-02-27T06:50:00.069539Z"))
            self.assertEqual(a.spans[0].end_ns, seisvault.to_ns(self.row["end"]))
            self.assertEqual(a.spans[0].sample_rate, 1.0)
        # An explicit tolerance is accepted (int ns or timedelta).
        self.assertEqual(len(self.client.get_availability("IU.COLA", tolerance=dt.timedelta(seconds=0.5))), 3)
        with self.assertRaises(seisvault.SeisVaultError) as cm:
            self.client.get_availability("IU.COLA", tolerance=-1)
        self.assertEqual(cm.exception.code, grpc.StatusCode.INVALID_ARGUMENT)

    def test_invalid_window_is_invalid_argument(self):
        start, end = "2010-02-27T08:00:00Z", "2010-02-27T07:00:00Z"
        calls = {
            "get_samples": lambda: self.client.get_samples("IU.COLA", start, end),
            "get_records": lambda: list(self.client.get_records("IU.COLA", start, end)),
            "get_availability": lambda: self.client.get_availability("IU.COLA", start, end),
            "verify": lambda: self.client.verify("IU.COLA", start, end),
        }
        for name, call in calls.items():
            with self.subTest(name), self.assertRaises(seisvault.SeisVaultError) as cm:
                call()
            self.assertEqual(cm.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
            self.assertIsInstance(cm.exception, seisvault.InvalidArgumentError)
            self.assertIn("before it starts", cm.exception.message)

    def test_bad_selection_is_invalid_argument(self):
        for sel in ["IU.COLA.00.LHZ.X", "IU.CO;LA", "IU.[AB]"]:
            with self.subTest(sel), self.assertRaises(seisvault.SeisVaultError) as cm:
                self.client.list_channels([sel])
            self.assertEqual(cm.exception.code, grpc.StatusCode.INVALID_ARGUMENT)

    def test_empty_results(self):
        self.assertEqual(self.client.get_samples("IU.COLA", "1990-01-01", "1990-01-02"), [])
        self.assertEqual(self.client.get_samples("XX.NONE"), [])
        self.assertEqual(self.client.get_availability("XX.NONE"), [])

    def test_stats_and_verify(self):
        stats = self.client.get_stats()
        self.assertIsInstance(stats, seisvault.Stats)
        self.assertEqual(stats.records_stored, len(self.records) + len(self.gap_records))
        self.assertEqual(stats.channels, 4)
        self.assertEqual(stats.records_rejected, 0)
        self.assertGreater(stats.uptime_seconds, 0)
        result = self.client.verify("IU.COLA")
        self.assertEqual(result.records_checked, len(self.records))
        self.assertTrue(result.ok, result.problems)
        self.assertEqual(self.client.verify("XX.NONE").records_checked, 0)

    def test_resend_is_duplicate(self):
        statuses = self.server.push(self.records[:3])
        self.assertEqual(statuses, [ingest_pb2.DUPLICATE] * 3)
        self.assertEqual(len(list(self.client.get_records("IU.COLA"))), len(self.records))


def int32_record(seq: int, start: dt.datetime, rate_hz: int, samples: np.ndarray,
                 net="XX", sta="LONG", loc="", cha="HHZ", reclen=4096) -> bytes:
    """A minimal SYNTHETIC miniSEED 2 record: big-endian, INT32 encoding,
    blockette 1000 only. Used where the corpus has no long enough run."""
    header = struct.pack(
        ">6scc5s2s3s2sHHBBBBHHhhBBBBiHH",
        b"%06d" % seq, b"D", b" ",
        sta.ljust(5).encode(), loc.ljust(2).encode(), cha.ljust(3).encode(), net.ljust(2).encode(),
        start.year, start.timetuple().tm_yday, start.hour, start.minute, start.second, 0,
        start.microsecond // 100,
        len(samples), rate_hz, 1,
        0, 0, 0, 1, 0,
        64, 48)
    b1000 = struct.pack(">HHBBBB", 1000, 0, 3, 1, reclen.bit_length() - 1, 0)
    data = samples.astype(">i4").tobytes()
    record = header + b1000 + b"\0" * 8 + data
    assert len(record) <= reclen
    return record + b"\0" * (reclen - len(record))


class LongRunTest(ServerTestCase):
    """A run longer than the server puts in one GetSamples message comes back
    as ONE merged Segment (continues_previous messages are joined)."""

    needs_corpus = False
    RATE = 100
    PER_RECORD = (4096 - 64) // 4     # 1008 int32 samples in a 4096-byte record
    RECORDS = 300                     # 302400 samples: more than one message holds

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = np.random.default_rng(7)
        cls.samples = rng.integers(-2**31, 2**31 - 1, size=cls.RECORDS * cls.PER_RECORD, dtype=np.int64).astype(np.int32)
        cls.t0 = dt.datetime(2020, 1, 1, 0, 0, 0)
        per_record_s = cls.PER_RECORD / cls.RATE   # 10.08 s: whole 0.0001 s ticks
        records = []
        for i in range(cls.RECORDS):
            start = cls.t0 + dt.timedelta(seconds=i * per_record_s)
            records.append(int32_record(i + 1, start, cls.RATE,
                                        cls.samples[i * cls.PER_RECORD:(i + 1) * cls.PER_RECORD]))
        statuses = cls.server.push(records)
        assert statuses == [ingest_pb2.STORED] * len(records), statuses
        cls.records = records

    def test_records_over_several_messages(self):
        # 1.2 MB of records: more than one RecordBatch message of ~1 MiB.
        got = list(self.client.get_records("XX.LONG"))
        self.assertEqual([r.mseed for r in got], self.records)

    def test_one_segment(self):
        segments = self.client.get_samples("XX.LONG.--.HHZ")
        self.assertEqual(len(segments), 1, segments)
        seg = segments[0]
        self.assertEqual(seg.start_ns, seisvault.to_ns(self.t0))
        self.assertEqual(seg.sample_rate, float(self.RATE))
        self.assertEqual(seg.data.dtype, np.int32)
        np.testing.assert_array_equal(seg.data, self.samples)
        self.assertEqual(seg.end_ns, seg.start_ns + (len(self.samples) - 1) * 10_000_000)
        # The server did split it: several messages, the later ones continuing.
        from seisvault import waveform_pb2
        request = waveform_pb2.GetSamplesRequest(selection=waveform_pb2.Selection(patterns=["XX.LONG"]))
        messages = list(self.client._stub.GetSamples(request, timeout=30))
        self.assertGreater(len(messages), 1)
        self.assertFalse(messages[0].continues_previous)
        self.assertTrue(all(m.continues_previous for m in messages[1:]))
        self.assertEqual(sum(m.sample_count for m in messages), len(self.samples))

    def test_iter_samples_and_window(self):
        segs = list(self.client.iter_samples("XX.LONG", self.t0, None))
        self.assertEqual([len(s) for s in segs], [len(self.samples)])
        # A window across the message boundary (sample 262144) is still one segment.
        t = seisvault.to_ns(self.t0)
        segs = self.client.get_samples("XX.LONG", t + 262_000 * 10_000_000, t + 262_299 * 10_000_000)
        self.assertEqual(len(segs), 1)
        np.testing.assert_array_equal(segs[0].data, self.samples[262_000:262_300])


class RecordWindowTest(ServerTestCase):
    """Asking for a record's own [start_ns, end_ns] (as GetRecords reports
    them) must give all of its samples, also at a rate whose sample period is
    not a whole number of nanoseconds (20.00022125 Hz here)."""

    NAME = "libmseed__Steim1-AllDifferences-LE.mseed"   # 1 record, 623 samples

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.records = file_records(cls.NAME)
        assert cls.server.push(cls.records) == [ingest_pb2.STORED]

    def test_whole_channel(self):
        (seg,) = self.client.get_samples("XX.TEST.--.BHZ")
        self.assertEqual(len(seg), 623)
        digest = hashlib.sha256(seg.data.astype("<i4").tobytes()).hexdigest()
        self.assertEqual(digest, manifest_row(self.NAME)["decoded_samples_sha256"])

    # A record's own [start, end] (end rounded to whole ns at 20.00022 Hz)
    # returns every sample of it.
    def test_record_window(self):
        (rec,) = self.client.get_records("XX.TEST.--.BHZ")
        segs = self.client.get_samples("XX.TEST.--.BHZ", rec.start_ns, rec.end_ns)
        self.assertEqual(sum(len(s) for s in segs), header_sample_count(rec.mseed))
        (ch,) = self.client.list_channels("XX.TEST.--.BHZ")
        segs = self.client.get_samples("XX.TEST.--.BHZ", ch.first_start_ns, ch.last_end_ns)
        self.assertEqual(sum(len(s) for s in segs), 623)

    # A window [t, t] at a sample's own time (start + round(k * period),
    # whole ns) returns exactly that sample.
    def test_point_window_at_sample_time(self):
        (seg,) = self.client.get_samples("XX.TEST.--.BHZ")
        times = seg.times()
        empty = [k for k in range(0, len(times), 25)
                 if sum(len(s) for s in self.client.get_samples("XX.TEST.--.BHZ", int(times[k]), int(times[k]))) != 1]
        self.assertEqual(empty, [])


# --------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------


class Collector(threading.Thread):
    """Reads a Subscription in the background until it has `want` records."""

    def __init__(self, subscription, want: int):
        super().__init__(daemon=True)
        self.subscription = subscription
        self.want = want
        self.records = []
        self.skipped = []
        self.error = None
        self.done = threading.Event()

    def run(self):
        try:
            for event in self.subscription:
                if isinstance(event, seisvault.Skipped):
                    self.skipped.append(event)
                    continue
                self.records.append(event)
                if len(self.records) >= self.want:
                    break
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.done.set()


class SubscribeTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.records = file_records(THREE_CHANNEL)

    def wait_subscribers(self, n: int):
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
        while self.client.get_stats().subscribers != n:
            if time.monotonic() > deadline:
                self.fail(f"the server never counted {n} subscriber(s)")
            time.sleep(0.05)

    def test_live_then_backlog(self):
        # 1. Live: a subscriber registered before the push gets every record.
        with self.client.subscribe("IU.COLA", timeout=SUBSCRIBE_TIMEOUT_S) as sub:
            other = self.client.subscribe("BW", timeout=SUBSCRIBE_TIMEOUT_S)
            collector = Collector(sub, len(self.records))
            collector.start()
            self.wait_subscribers(2)
            statuses = self.server.push(self.records)
            self.assertEqual(statuses, [ingest_pb2.STORED] * len(self.records))
            self.assertTrue(collector.done.wait(SUBSCRIBE_TIMEOUT_S), "subscriber did not get every record")
            self.assertIsNone(collector.error)
            self.assertEqual(collector.skipped, [])
            self.assertEqual(sorted(r.mseed for r in collector.records), sorted(self.records))
            for r in collector.records:
                self.assertTrue(r.sha256_ok())
            # A subscriber to another network got none of it: cancel ends it.
            other_collector = Collector(other, 1)
            other_collector.start()
            time.sleep(0.5)
            other.cancel()
            self.assertTrue(other_collector.done.wait(SUBSCRIBE_TIMEOUT_S))
            self.assertIsNone(other_collector.error)
            self.assertEqual(other_collector.records, [])
        collector.join(SUBSCRIBE_TIMEOUT_S)
        self.wait_subscribers(0)

        # 2. Backlog: `since` replays what is stored from then on.
        since = "2010-02-27T07:30:00Z"
        expected = [r for r in self.client.get_records("IU.COLA.00.LHZ") if r.start_ns >= seisvault.to_ns(since)]
        self.assertGreater(len(expected), 0)
        with self.client.subscribe("IU.COLA.00.LHZ", since=since, timeout=SUBSCRIBE_TIMEOUT_S) as sub:
            collector = Collector(sub, len(expected))
            collector.start()
            self.assertTrue(collector.done.wait(SUBSCRIBE_TIMEOUT_S), "backlog incomplete")
            self.assertIsNone(collector.error)
            self.assertEqual([r.mseed for r in collector.records], [r.mseed for r in expected])

    def test_timeout_ends_iteration(self):
        t0 = time.monotonic()
        with self.client.subscribe("XX.NONE", timeout=0.5) as sub:
            self.assertEqual(list(sub), [])
        self.assertLess(time.monotonic() - t0, SUBSCRIBE_TIMEOUT_S)


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


class TokenTest(ServerTestCase):
    needs_corpus = False
    TOKEN = "py-client-test-token-0123456789"

    @classmethod
    def setUpClass(cls):
        require_environment(cls)
        cls._token_dir = tempfile.TemporaryDirectory(prefix="seisvault-token-")
        cls.addClassCleanup(cls._token_dir.cleanup)
        cls.token_file = Path(cls._token_dir.name) / "token"
        cls.token_file.write_text(cls.TOKEN + "\n")
        cls.server_args = ("--api-token-file", str(cls.token_file))
        super().setUpClass()   # cls.client has no token

    def test_without_token_is_unauthenticated(self):
        for name, call in {
            "list_channels": lambda: self.client.list_channels(),
            "get_stats": lambda: self.client.get_stats(),
            "get_records": lambda: list(self.client.get_records("IU")),
        }.items():
            with self.subTest(name), self.assertRaises(seisvault.SeisVaultError) as cm:
                call()
            self.assertEqual(cm.exception.code, grpc.StatusCode.UNAUTHENTICATED)
            self.assertIsInstance(cm.exception, seisvault.AuthenticationError)

    def test_wrong_token_is_unauthenticated(self):
        with self.make_client(token="not-the-token") as c, self.assertRaises(seisvault.SeisVaultError) as cm:
            c.list_channels()
        self.assertEqual(cm.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_with_token_succeeds(self):
        with self.make_client(token=self.TOKEN) as c:
            self.assertEqual(c.list_channels(), [])
            self.assertEqual(c.get_stats().records_stored, 0)
        with self.make_client(token_file=str(self.token_file)) as c:
            self.assertEqual(c.list_channels(), [])


class TlsTest(ServerTestCase):
    """TLS on the query API (a throwaway self-signed certificate), with a token."""

    needs_corpus = False
    TOKEN = "tls-token"

    @classmethod
    def setUpClass(cls):
        require_environment(cls)
        openssl = shutil.which("openssl")
        if not openssl:
            raise unittest.SkipTest("openssl command not found: cannot make a test certificate")
        cls._dir = tempfile.TemporaryDirectory(prefix="seisvault-tls-")
        cls.addClassCleanup(cls._dir.cleanup)
        d = Path(cls._dir.name)
        cls.cert, key, token = d / "cert.pem", d / "key.pem", d / "token"
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(cls.cert), "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        token.write_text(cls.TOKEN)
        cls.server_args = ("--api-tls-cert", str(cls.cert), "--api-tls-key", str(key),
                           "--api-token-file", str(token))
        super().setUpClass()

    @classmethod
    def make_client(cls, **kwargs) -> seisvault.Client:
        kwargs.setdefault("tls_root_cert", str(cls.cert))
        kwargs.setdefault("token", cls.TOKEN)
        return seisvault.Client(cls.server.api, timeout=30.0, **kwargs)

    def test_tls(self):
        self.assertEqual(self.client.get_stats().records_stored, 0)
        port = self.server.api.rsplit(":", 1)[1]
        with seisvault.Client(f"localhost:{port}", token=self.TOKEN, tls_root_cert=self.cert.read_bytes(),
                              timeout=30) as c:
            self.assertEqual(c.list_channels(), [])

    def test_plaintext_client_fails(self):
        with seisvault.Client(self.server.api, token=self.TOKEN, timeout=10) as c:
            with self.assertRaises(seisvault.SeisVaultError) as cm:
                c.get_stats()
            self.assertEqual(cm.exception.code, grpc.StatusCode.UNAVAILABLE)


# --------------------------------------------------------------------------
# No server needed
# --------------------------------------------------------------------------


class TimeTest(unittest.TestCase):
    def test_iso_forms(self):
        base = 1267253400069539000  # 2010-02-27T06:50:00.069539Z
        for text in ["2010-02-27T06:50:00.069539Z", "2010-02-27T06:50:00.069539", "2010-02-27 06:50:00.069539000",
                     "2010-02-27T07:50:00.069539+01:00", "2010-02-27T05:50:00.069539-0100", "2010-058T06:50:00.069539Z",
                     "2010-02-27T06:50:00,069539Z"]:
            with self.subTest(text):
                self.assertEqual(seisvault.to_ns(text), base)
        self.assertEqual(seisvault.to_ns("2010-02-27T06:50:00.000000001Z") % 10, 1)
        self.assertEqual(seisvault.to_ns("1970-01-01"), 0)
        self.assertEqual(seisvault.to_ns("1969-12-31T23:59:59.5Z"), -500_000_000)
        self.assertEqual(seisvault.to_ns("2010-02-27T06:50Z"), base - 69539000)

    def test_other_types(self):
        base = 1267253400069539000
        self.assertEqual(seisvault.to_ns(base), base)
        self.assertEqual(seisvault.to_ns(dt.datetime(2010, 2, 27, 6, 50, 0, 69539)), base)
        self.assertEqual(seisvault.to_ns(dt.datetime(2010, 2, 27, 7, 50, 0, 69539,
                                                     tzinfo=dt.timezone(dt.timedelta(hours=1)))), base)
        self.assertEqual(seisvault.to_ns(dt.date(1970, 1, 2)), 86_400_000_000_000)
        self.assertEqual(seisvault.to_ns(np.datetime64("2010-02-27T06:50:00.069539")), base)
        self.assertEqual(seisvault.to_ns(np.int64(5)), 5)
        self.assertEqual(seisvault.format_ns(base), "2010-02-27T06:50:00.069539Z")
        self.assertEqual(seisvault.format_ns(base + 1), "2010-02-27T06:50:00.069539001Z")
        self.assertEqual(seisvault.ns_to_datetime(base), dt.datetime(2010, 2, 27, 6, 50, 0, 69539, tzinfo=dt.timezone.utc))
        self.assertEqual(seisvault.to_ns(seisvault.format_ns(-1)), -1)

    def test_rejects(self):
        for bad in ["yesterday", "2010-02-30", "2010-13-01", "2010-02-27T25:00", "2010-366", "2010-02-27T06:50:00.0000000001"]:
            with self.subTest(bad), self.assertRaises(ValueError):
                seisvault.to_ns(bad)
        for bad in [1.5, True, object()]:
            with self.subTest(repr(bad)), self.assertRaises(TypeError):
                seisvault.to_ns(bad)

    def test_unreachable_server(self):
        with seisvault.Client("127.0.0.1:1", timeout=5) as c:
            with self.assertRaises(seisvault.SeisVaultError) as cm:
                c.get_stats()
            self.assertEqual(cm.exception.code, grpc.StatusCode.UNAVAILABLE)
            with self.assertRaises(seisvault.UnavailableError):
                c.wait_ready(timeout=0.2)


if __name__ == "__main__":
    unittest.main()
