"""Helpers of the FDSN web service suite: the corpus, a miniSEED 2 header
reader, a seisvaultd child process, HTTP calls and a strict Prometheus text
format (0.0.4) parser.

Only Debian's python3 standard library, python3-requests, python3-lxml and
python3-numpy are used (no ObsPy).

Environment:
    SEISVAULTD          the server binary (default: <repo>/build/server/seisvaultd)
    SEISVAULT           the CLI (default: <repo>/build/client/seisvault)
    SEISVAULT_TESTDATA  the miniSEED corpus (default: <repo>/../shared/testdata/miniseed)
"""

import csv
import datetime as dt
import math
import os
import re
import signal
import struct
import subprocess
import tempfile
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
PUSH_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 60.0

MSEED_CONTENT_TYPE = "application/vnd.fdsn.mseed"

# Corpus files whose records the byte-identity tests predict. Each is clean
# miniSEED 2 (libmseed parses it, no time correction) and no other corpus
# file holds records of their channels in the windows the tests ask for
# (test_reference_channels_hold_exactly_the_reference_records checks it).
BALST = "obspy__CH.BALST..LH_two_channels"                  # CH.BALST..LHE/LHZ, 611 records, 1 Hz, D
GAPS = "obspy__gaps.mseed"                                  # BW.BGLD..EHE, 128 records, 200 Hz, 3 gaps, D
THREE_CHANNEL = "libmseed__testdata-3channel-signal.mseed2"  # IU.COLA.00.LH1/LH2/LHZ, 107 records, 1 Hz, M
WILDCARDS = "obspy__dataselect_example_wildcards.mseed"     # IU.ADK/AFI..., 54 records, 20/40 Hz, M
KW1 = "obspy__2015282_225051_0ae4c_1_1.msd"                 # XX.KW1.01.001, 3 records: 1 gap, 1 overlap
MIXED = "libmseed__testdata-oneseries-mixedlengths-mixedorder.mseed2"  # XX.TEST.00.LHZ, 7 records 128..8192 B, R
INT32_256 = "libmseed__Int32-256byte.mseed"                 # XX.TEST.00.LHZ, 1 record, R (same channel as MIXED)
REFERENCE_FILES = (BALST, GAPS, THREE_CHANNEL, WILDCARDS, KW1, MIXED, INT32_256)


# --------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------


def corpus_dir() -> Path:
    env = os.environ.get("SEISVAULT_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "testdata" / "miniseed"


def server_binary() -> Path:
    env = os.environ.get("SEISVAULTD")
    return Path(env) if env else REPO / "build" / "server" / "seisvaultd"


def cli_binary() -> Path:
    env = os.environ.get("SEISVAULT")
    return Path(env) if env else REPO / "build" / "client" / "seisvault"


def station_fixture() -> Path:
    """The hand-written StationXML of the corpus stations (tests/data/stationxml), else our own copy."""
    shared = REPO / "tests" / "data" / "stationxml" / "seisvault_test_inventory.xml"
    return shared if shared.is_file() else HERE / "corpus_inventory.xml"


def require_environment(needs_corpus: bool = True) -> None:
    """Skip (visibly) when the binaries, or the corpus, are not there."""
    if needs_corpus and not (corpus_dir() / "MANIFEST.tsv").is_file():
        raise unittest.SkipTest(f"miniSEED corpus not found at {corpus_dir()} (set SEISVAULT_TESTDATA)")
    for b, var in ((server_binary(), "SEISVAULTD"), (cli_binary(), "SEISVAULT")):
        if not (b.is_file() and os.access(b, os.X_OK)):
            raise unittest.SkipTest(f"{b} not found (set {var})")


def manifest() -> dict:
    with open(corpus_dir() / "MANIFEST.tsv", newline="", encoding="utf-8") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


# --------------------------------------------------------------------------
# Times (integer nanoseconds since the epoch, UTC)
# --------------------------------------------------------------------------

NS = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def ns_from_iso(text: str) -> int:
    """'2010-02-27T06:50:00.069539Z' (any number of fraction digits up to 9) -> ns."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?Z?", text.strip())
    if not m:
        raise ValueError(f"not an ISO time: {text!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=dt.timezone.utc)
    whole = (t - _EPOCH) // dt.timedelta(seconds=1)
    return whole * NS + (int((frac or "").ljust(9, "0")) if frac else 0)


def iso(ns: int, digits: int = 6, z: bool = False) -> str:
    """ns -> 'YYYY-MM-DDTHH:MM:SS.ffffff' (rounded down to `digits` fraction digits; ObsPy sends 6, no Z)."""
    sec, sub = divmod(ns, NS)
    t = _EPOCH + dt.timedelta(seconds=sec)
    out = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        out += "." + f"{sub:09d}"[:digits]
    return out + ("Z" if z else "")


# --------------------------------------------------------------------------
# miniSEED 2 records: the fixed header, read with struct
# --------------------------------------------------------------------------


@dataclass
class Record:
    raw: bytes
    network: str
    station: str
    location: str
    channel: str
    quality: str
    start_ns: int      # first sample, as libmseed computes it (B1001 microseconds, time correction rule)
    last_ns: int       # last sample: start + (nsamples - 1) / rate, rounded to the ns
    nsamples: int
    rate: float
    reclen: int
    origin: str = ""   # "file#index" for messages

    @property
    def source_id(self) -> str:
        return f"{self.network}.{self.station}.{self.location}.{self.channel}"

    def key(self):
        return (self.source_id, self.start_ns)

    def describe(self) -> str:
        return f"{self.source_id} {iso(self.start_ns)}..{iso(self.last_ns)} ({self.origin}, {self.reclen} B)"


def _sample_rate(factor: int, multiplier: int) -> float:
    if factor == 0 or multiplier == 0:
        return 0.0
    if factor > 0 and multiplier > 0:
        return float(factor * multiplier)
    if factor > 0 > multiplier:
        return -factor / multiplier
    if factor < 0 < multiplier:
        return -multiplier / factor
    return 1.0 / (factor * multiplier)


def parse_record(buf: bytes, offset: int = 0, origin: str = "") -> Record:
    """Reads one miniSEED 2 record starting at `offset` (its length from blockette 1000)."""
    h = buf[offset:offset + 48]
    if len(h) < 48 or not re.fullmatch(rb"[0-9 ]{6}[DRQM]", h[:7]):
        raise ValueError(f"{origin}: no miniSEED 2 fixed header at byte {offset}: {h[:8]!r}")
    year_be = struct.unpack_from(">H", h, 20)[0]
    day_be = struct.unpack_from(">H", h, 22)[0]
    bo = ">" if 1900 <= year_be <= 2100 and 1 <= day_be <= 366 else "<"
    year, day, hour, minute, sec, _unused, frac = struct.unpack_from(bo + "HHBBBBH", h, 20)
    nsamples, factor, multiplier = struct.unpack_from(bo + "Hhh", h, 30)
    activity = h[36]
    correction = struct.unpack_from(bo + "i", h, 40)[0]
    first_blockette = struct.unpack_from(bo + "H", h, 46)[0]
    start = dt.datetime(year, 1, 1, hour, minute, sec, tzinfo=dt.timezone.utc) + dt.timedelta(days=day - 1)
    start_ns = ((start - _EPOCH) // dt.timedelta(seconds=1)) * NS + frac * 100_000
    # libmseed applies the time correction only when "time correction applied" (activity bit 1) is clear.
    if correction and not activity & 0x02:
        start_ns += correction * 100_000
    rate = _sample_rate(factor, multiplier)
    reclen = None
    b = first_blockette
    seen = set()
    while b and b not in seen:
        seen.add(b)
        btype, nxt = struct.unpack_from(bo + "HH", buf, offset + b)
        if btype == 1000:
            reclen = 1 << buf[offset + b + 6]
        elif btype == 1001:
            start_ns += struct.unpack_from("b", buf, offset + b + 5)[0] * 1000  # microseconds
        elif btype == 100:
            rate = struct.unpack_from(bo + "f", buf, offset + b + 4)[0]
        b = nxt
    if reclen is None:
        raise ValueError(f"{origin}: record at byte {offset} has no blockette 1000")
    last_ns = start_ns
    if nsamples > 1 and rate > 0:
        last_ns = start_ns + int(round((nsamples - 1) * 1e9 / rate))
    raw = bytes(buf[offset:offset + reclen])

    def code(a, b_):
        return h[a:b_].decode("ascii", "replace").strip()

    return Record(raw=raw, network=code(18, 20), station=code(8, 13), location=code(13, 15),
                  channel=code(15, 18), quality=chr(h[6]), start_ns=start_ns, last_ns=last_ns,
                  nsamples=nsamples, rate=rate, reclen=reclen, origin=origin)


def split_records(data: bytes, origin: str = "") -> list:
    """The records of a byte string (a corpus file or an HTTP body), in order."""
    out = []
    offset = 0
    while offset < len(data):
        r = parse_record(data, offset, f"{origin}#{len(out)}")
        if offset + r.reclen > len(data):
            raise ValueError(f"{origin}: record {len(out)} at byte {offset} is cut: {r.reclen} B announced, "
                             f"{len(data) - offset} left")
        out.append(r)
        offset += r.reclen
    return out


def corpus_records(name: str) -> list:
    return split_records((corpus_dir() / name).read_bytes(), name)


# --------------------------------------------------------------------------
# Selections, as FDSN defines them, computed on our side
# --------------------------------------------------------------------------


def code_matches(patterns: str, value: str, is_location: bool = False) -> bool:
    """FDSN code list: comma list of patterns, '?' one character, '*' any run, '--' blank location."""
    for p in patterns.split(","):
        p = p.strip()
        if is_location and p == "--":
            p = ""
        rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p)
        if re.fullmatch(rx, value):
            return True
    return False


def overlaps(r: Record, start_ns, end_ns) -> bool:
    """A record overlaps a window when it starts no later than the end and its last sample is no earlier
    than the start (both bounds inclusive; None is open)."""
    return (end_ns is None or r.start_ns <= end_ns) and (start_ns is None or r.last_ns >= start_ns)


def select(records, net="*", sta="*", loc="*", cha="*", start_ns=None, end_ns=None, quality=None) -> list:
    """Records a dataselect query must return, deduplicated, in source-id then start-time order."""
    out = {}
    for r in records:
        if not (code_matches(net, r.network) and code_matches(sta, r.station)
                and code_matches(loc, r.location, True) and code_matches(cha, r.channel)):
            continue
        if quality and quality != "B" and r.quality != quality:
            continue
        if overlaps(r, start_ns, end_ns):
            out.setdefault(r.raw, r)
    return sorted(out.values(), key=lambda r: (r.source_id, r.start_ns))


def segments(records, tolerance=0.5) -> list:
    """Contiguous spans of one channel's records (libmseed's rule: the next record starts one sample period
    after the last sample, within `tolerance` periods). Each segment: a list of records."""
    recs = sorted(records, key=lambda r: (r.start_ns, r.last_ns))
    out = []
    for r in recs:
        if out:
            prev = out[-1][-1]
            period = NS / prev.rate if prev.rate > 0 else 0
            due = max(x.last_ns for x in out[-1]) + period
            if abs(r.start_ns - due) <= tolerance * period:
                out[-1].append(r)
                continue
        out.append([r])
    return out


def gaps_and_overlaps(segs) -> tuple:
    """(gaps, overlaps) between consecutive segments, as libmseed counts them."""
    gaps = ovl = 0
    for a, b in zip(segs, segs[1:]):
        end = max(x.last_ns for x in a)
        period = NS / a[-1].rate
        if b[0].start_ns > end + period:
            gaps += 1
        else:
            ovl += 1
    return gaps, ovl


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class Seisvaultd:
    """A seisvaultd child process on loopback, with its own temporary data directory (or a given one)."""

    def __init__(self, *extra_args: str, data_dir: Path = None, tmp=None):
        self._own_tmp = None
        if data_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="seisvault-fdsnws-")
            data_dir = Path(self._own_tmp.name) / "data"
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir.parent / f"seisvaultd-{os.getpid()}-{id(self)}.log"
        self.extra_args = extra_args
        self.proc = None
        self._log = None
        self.start()

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        args = [str(server_binary()), "--data-dir", str(self.data_dir), "--insecure",
                "--ingest", "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0",
                "--seedlink", "127.0.0.1:0", "--min-free-space", "64MiB", *self.extra_args]
        for name in ("ingest.endpoint", "http.endpoint", "api.endpoint", "seedlink.endpoint"):
            try:
                (self.data_dir / name).unlink()
            except FileNotFoundError:
                pass
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            # ingest.endpoint is written last: the other two exist by then.
            self.ingest = self._wait_endpoint("ingest.endpoint", r"^tcp://\S+:[1-9]\d*$")
            self.http = (self.data_dir / "http.endpoint").read_text().strip()
            seedlink_file = self.data_dir / "seedlink.endpoint"
            self.seedlink = seedlink_file.read_text().strip() if seedlink_file.exists() else ""
            if not re.fullmatch(r"\S+:[1-9]\d*", self.http):
                raise RuntimeError(f"http.endpoint holds {self.http!r}, not HOST:PORT")
        except BaseException:
            self.stop()
            raise
        self.base = f"http://{self.http}"

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

    def push(self, *paths) -> subprocess.CompletedProcess:
        """`seisvault push` through the real ingest socket; exit 1 means some records were rejected."""
        return subprocess.run([str(cli_binary()), "push", "--insecure", "--server", self.ingest,
                               *[str(p) for p in paths]],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PUSH_TIMEOUT_S)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        self.stop()
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None

    # HTTP -----------------------------------------------------------------

    def get(self, path: str, params=None, **kwargs) -> requests.Response:
        return requests.get(self.base + path, params=params, timeout=HTTP_TIMEOUT_S, **kwargs)

    def post(self, path: str, data, **kwargs) -> requests.Response:
        return requests.post(self.base + path, data=data, timeout=HTTP_TIMEOUT_S, **kwargs)


def rss_kib(pid: int) -> int:
    """The resident memory of a process, KiB (/proc/PID/status VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def push_checked(server: Seisvaultd, *paths, allow_rejects: bool = False) -> str:
    """Pushes and checks the exit code (0; or 1 when records are rejected on purpose)."""
    done = server.push(*paths)
    ok = (0, 1) if allow_rejects else (0,)
    if done.returncode not in ok:
        raise AssertionError(f"seisvault push exited {done.returncode}:\n{done.stdout}\n{done.stderr}\n"
                             f"server log:\n{server.log()}")
    return done.stdout + done.stderr


def check_error_document(tc: unittest.TestCase, resp: requests.Response, status: int, *needles: str) -> str:
    """Asserts the status and an FDSN error document: 'Error <code>: <reason>' first, then sections
    'Request:', 'Request Submitted:' (a UTC time), 'Service version:' (dot-separated integers)."""
    body = resp.text
    tc.assertEqual(resp.status_code, status, f"expected HTTP {status}, got {resp.status_code}: {body[:600]!r}")
    tc.assertTrue(resp.headers.get("Content-Type", "").startswith("text/plain"),
                  f"error document Content-Type is {resp.headers.get('Content-Type')!r}, not text/plain")
    lines = body.splitlines()
    tc.assertTrue(lines, "empty error document")
    tc.assertRegex(lines[0], rf"^Error {status}: \S.*$", f"first line of the error document: {lines[0]!r}")
    for section in ("Request:", "Request Submitted:", "Service version:"):
        tc.assertIn(section, lines, f"error document has no line {section!r}:\n{body}")

    def after(section):
        i = lines.index(section) + 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        return lines[i].strip() if i < len(lines) else ""

    tc.assertRegex(after("Request Submitted:"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?$",
                   f"'Request Submitted:' is not followed by a UTC time:\n{body}")
    tc.assertRegex(after("Service version:"), r"^\d+(\.\d+)*$",
                   f"'Service version:' is not followed by a version:\n{body}")
    tc.assertIn("/fdsnws/", after("Request:"), f"'Request:' is not followed by the request URL:\n{body}")
    for n in needles:
        tc.assertIn(n, body, f"error document does not mention {n!r}:\n{body}")
    return body


# --------------------------------------------------------------------------
# Prometheus text exposition format 0.0.4, parsed strictly
# --------------------------------------------------------------------------

_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class ExpositionError(AssertionError):
    pass


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str = None
    samples: list = field(default_factory=list)  # (sample name, labels dict, value)


def _parse_value(text: str, where: str) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ExpositionError(f"{where}: {text!r} is not a Prometheus float")
    return float(text)


def _parse_labels(text: str, i: int, where: str) -> tuple:
    """Parses '{a="b",c="d"}' starting at text[i] == '{'; returns (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        m = re.compile(_LABEL_NAME).match(text, i)
        if not m:
            raise ExpositionError(f"{where}: bad label name at column {i}: {text[i:i + 20]!r}")
        name = m.group(0)
        i = m.end()
        if text[i:i + 2] != '="':
            raise ExpositionError(f"{where}: label {name} is not followed by =\"")
        i += 2
        value = []
        while True:
            if i >= len(text):
                raise ExpositionError(f"{where}: unterminated value of label {name}")
            c = text[i]
            if c == "\\":
                esc = text[i + 1:i + 2]
                if esc not in ("\\", '"', "n"):
                    raise ExpositionError(f"{where}: bad escape \\{esc} in label {name}")
                value.append("\n" if esc == "n" else esc)
                i += 2
                continue
            if c == '"':
                i += 1
                break
            if c == "\n":
                raise ExpositionError(f"{where}: raw line break in label {name}")
            value.append(c)
            i += 1
        if name in labels:
            raise ExpositionError(f"{where}: label {name} given twice")
        labels[name] = "".join(value)
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "}":
            return labels, i + 1
        raise ExpositionError(f"{where}: expected , or }} after label {name}, got {text[i:i + 10]!r}")


def _family_of(sample_name: str, families: dict) -> str:
    if sample_name in families:
        return sample_name
    for suffix in ("_bucket", "_count", "_sum"):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            if base in families and families[base].type in ("histogram", "summary"):
                if suffix == "_bucket" and families[base].type != "histogram":
                    continue
                return base
    return sample_name


def parse_prometheus(text: str) -> dict:
    """Parses a /metrics page strictly; returns {family name: Family}. Raises ExpositionError."""
    if text and not text.endswith("\n"):
        raise ExpositionError("the page does not end with a line feed")
    families = {}
    seen_series = set()
    finished = set()     # families whose samples are over (samples of one family must be together)
    current = None
    for n, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        where = f"line {n} ({line[:80]!r})"
        if line.strip() == "":
            continue
        if line.startswith("#"):
            m = re.fullmatch(rf"# (HELP|TYPE) ({_METRIC_NAME})(?: (.*))?", line)
            if not m:
                continue  # a plain comment
            kind, name, rest = m.groups()
            fam = families.get(name)
            if fam is None:
                fam = families[name] = Family(name)
            if kind == "HELP":
                if fam.help is not None:
                    raise ExpositionError(f"{where}: second HELP for {name}")
                rest = rest or ""
                if re.search(r"\\[^\\n]", rest.replace("\\\\", "")):
                    raise ExpositionError(f"{where}: bad escape in HELP text")
                fam.help = rest
            else:
                if rest not in _TYPES:
                    raise ExpositionError(f"{where}: type {rest!r} is not one of {_TYPES}")
                if fam.samples:
                    raise ExpositionError(f"{where}: TYPE of {name} after its samples")
                if getattr(fam, "_typed", False):
                    raise ExpositionError(f"{where}: second TYPE for {name}")
                fam.type = rest
                fam._typed = True
            continue
        m = re.compile(_METRIC_NAME).match(line)
        if not m:
            raise ExpositionError(f"{where}: no metric name")
        sname = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = _parse_labels(line, i, where)
        rest = line[i:]
        if not rest.startswith(" "):
            raise ExpositionError(f"{where}: no blank between the series and its value")
        parts = rest.strip(" ").split(" ")
        if len(parts) not in (1, 2) or "" in parts:
            raise ExpositionError(f"{where}: expected 'value [timestamp]', got {rest!r}")
        value = _parse_value(parts[0], where)
        if len(parts) == 2 and not re.fullmatch(r"-?\d+", parts[1]):
            raise ExpositionError(f"{where}: timestamp {parts[1]!r} is not an integer (ms)")
        fname = _family_of(sname, families)
        fam = families.setdefault(fname, Family(fname))
        if fname != current:
            if fname in finished:
                raise ExpositionError(f"{where}: samples of {fname} are not together")
            if current is not None:
                finished.add(current)
            current = fname
        key = (sname, tuple(sorted(labels.items())))
        if key in seen_series:
            raise ExpositionError(f"{where}: series {sname}{labels} given twice")
        seen_series.add(key)
        if fam.type == "histogram" and sname == fname:
            raise ExpositionError(f"{where}: histogram {fname} has a plain sample (want _bucket/_sum/_count)")
        if fam.type == "counter" and not (value >= 0):
            raise ExpositionError(f"{where}: counter {fname} is {value}")
        fam.samples.append((sname, labels, value))
    for fam in families.values():
        if fam.type == "histogram":
            _check_histogram(fam)
        if fam.type == "summary":
            _check_summary(fam)
    return families


def _check_histogram(fam: Family) -> None:
    groups = {}
    for sname, labels, value in fam.samples:
        if sname == fam.name + "_bucket":
            if "le" not in labels:
                raise ExpositionError(f"{fam.name}: bucket without le: {labels}")
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            groups.setdefault(rest, {"buckets": [], "count": None, "sum": None})["buckets"].append(
                (_parse_value(labels["le"], f"{fam.name} le"), labels["le"], value))
        elif sname in (fam.name + "_count", fam.name + "_sum"):
            if "le" in labels:
                raise ExpositionError(f"{fam.name}: {sname} with an le label")
            g = groups.setdefault(tuple(sorted(labels.items())), {"buckets": [], "count": None, "sum": None})
            g["count" if sname.endswith("_count") else "sum"] = value
        else:
            raise ExpositionError(f"{fam.name}: unexpected sample {sname}")
    for rest, g in groups.items():
        b = g["buckets"]
        if not b:
            raise ExpositionError(f"{fam.name}{dict(rest)}: no buckets")
        les = [x[0] for x in b]
        if les != sorted(les) or len(set(les)) != len(les):
            raise ExpositionError(f"{fam.name}{dict(rest)}: buckets not in increasing le order: {[x[1] for x in b]}")
        if b[-1][1] != "+Inf":
            raise ExpositionError(f"{fam.name}{dict(rest)}: last bucket is le={b[-1][1]!r}, not le=\"+Inf\"")
        counts = [x[2] for x in b]
        if any(c2 < c1 for c1, c2 in zip(counts, counts[1:])):
            raise ExpositionError(f"{fam.name}{dict(rest)}: buckets are not cumulative: {counts}")
        if g["count"] is None or g["sum"] is None:
            raise ExpositionError(f"{fam.name}{dict(rest)}: missing _count or _sum")
        if g["count"] != counts[-1]:
            raise ExpositionError(f"{fam.name}{dict(rest)}: _count {g['count']} != le=\"+Inf\" bucket {counts[-1]}")


def _check_summary(fam: Family) -> None:
    for sname, labels, value in fam.samples:
        if sname == fam.name:
            if "quantile" not in labels:
                raise ExpositionError(f"{fam.name}: summary sample without quantile: {labels}")
            q = _parse_value(labels["quantile"], fam.name)
            if not 0 <= q <= 1:
                raise ExpositionError(f"{fam.name}: quantile {q} out of [0, 1]")
        elif sname not in (fam.name + "_count", fam.name + "_sum"):
            raise ExpositionError(f"{fam.name}: unexpected sample {sname}")
