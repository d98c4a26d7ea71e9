"""A Python client for the SeisVault query API (``proto/waveform.proto``).

The server, ``seisvaultd``, serves the ``seisvault.waveform.v1.Waveforms``
gRPC service on its ``--api`` address. This module wraps it::

    from seisvault import Client

    with Client("127.0.0.1:16601", token="s3cret") as c:
        for ch in c.list_channels("IU.*.00.LH?"):
            print(ch.source_id, ch.record_count)
        for seg in c.get_samples("IU.COLA.00.LHZ",
                                 "2010-02-27T06:50:00Z", "2010-02-27T07:00:00Z"):
            print(seg.source_id, seg.start, seg.sample_rate, seg.data.mean())

Conventions used by every method:

* **Selections** are SEED patterns ``NET.STA.LOC.CHA`` with the wildcards
  ``?`` and ``*`` and comma lists inside a field (``"IU.ANMO,COLA.00.BH?"``);
  ``--`` is an empty location code and missing trailing fields mean ``*``.
  Pass one pattern, several separated by white space, or a list of them
  (they are OR-ed). ``None`` (or an empty list) selects every channel.
* **Times** may be ISO 8601 strings (``"2010-02-27T06:50:00.069539Z"``, up
  to nanosecond precision, ``Z``/``+hh:mm`` offsets; no offset means UTC;
  a date alone is midnight UTC; ordinal dates ``2010-058T06:50`` work too),
  :class:`datetime.datetime` (naive means UTC), :class:`datetime.date`,
  :class:`numpy.datetime64`, or ``int`` nanoseconds since 1970-01-01 UTC.
  ``None`` leaves that end of a window open. Windows are inclusive.
* Times returned are ``int`` nanoseconds since 1970-01-01 UTC; the objects
  returned have ``datetime`` properties for convenience and
  :func:`format_ns` prints them.
* A failed call raises :class:`SeisVaultError` (or a subclass), which
  carries the gRPC status ``code`` and the server's ``message``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import grpc
import numpy as np

try:
    from . import waveform_pb2 as _pb
    from . import waveform_pb2_grpc as _pb_grpc
except ImportError as _e:  # pragma: no cover - only without a build
    raise ImportError(
        "seisvault: the generated gRPC stubs (waveform_pb2.py, waveform_pb2_grpc.py) "
        "are missing next to this file. They are made at build time: build the "
        "CMake project (ninja -C build) and put <build>/client/python on "
        "PYTHONPATH instead of the source directory. (%s)" % _e
    ) from _e

__all__ = [
    "Client",
    "SeisVaultError",
    "InvalidArgumentError",
    "AuthenticationError",
    "UnavailableError",
    "Channel",
    "Record",
    "Segment",
    "Span",
    "Gap",
    "ChannelAvailability",
    "Skipped",
    "Subscription",
    "Stats",
    "VerifyProblem",
    "VerifyResult",
    "to_ns",
    "ns_to_datetime",
    "format_ns",
    "DEFAULT_TARGET",
]

DEFAULT_TARGET = "127.0.0.1:16601"
"""Where ``seisvaultd`` serves the query API unless told otherwise."""

_NS_PER_S = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_S
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_MAX_MESSAGE = 64 * 1024 * 1024

TimeLike = Union[str, int, _dt.datetime, _dt.date, "np.datetime64"]
SelectionLike = Union[None, str, Iterable[str]]


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class SeisVaultError(Exception):
    """A query failed.

    Attributes:
        code: the :class:`grpc.StatusCode` of the failure (for example
            ``grpc.StatusCode.INVALID_ARGUMENT`` for a malformed selection or
            an end before a start, ``UNAUTHENTICATED`` for a missing or wrong
            token, ``UNAVAILABLE`` when no server answers).
        message: the server's explanation, which says what to fix.
    """

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message

    @property
    def code_name(self) -> str:
        """The status code's name, e.g. ``"INVALID_ARGUMENT"``."""
        return self.code.name


class InvalidArgumentError(SeisVaultError):
    """The request was malformed (selection, window, tolerance, limits)."""


class AuthenticationError(SeisVaultError):
    """The server wants a (different) token: UNAUTHENTICATED or PERMISSION_DENIED."""


class UnavailableError(SeisVaultError):
    """No server answered at the target (UNAVAILABLE), or it is shutting down."""


_ERROR_CLASSES = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
}


def _error_from_rpc(e: grpc.RpcError) -> SeisVaultError:
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    if code is None:
        code = grpc.StatusCode.UNKNOWN
    details = e.details() if hasattr(e, "details") else None
    message = details or str(e)
    return _ERROR_CLASSES.get(code, SeisVaultError)(code, message)


def _protocol_error(message: str) -> SeisVaultError:
    return SeisVaultError(grpc.StatusCode.INTERNAL, "unexpected answer from the server: " + message)


# --------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"""^\s*
    (?P<year>[+-]?\d{4})-
    (?:(?P<month>\d{2})-(?P<day>\d{2})|(?P<yday>\d{3}))
    (?:[Tt\ ]
       (?P<hour>\d{2})
       (?::?(?P<minute>\d{2})
          (?::?(?P<second>\d{2})
             (?:[.,](?P<frac>\d+))?
          )?
       )?
    )?
    \s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    \s*$""",
    re.VERBOSE,
)


def _parse_iso(text: str) -> int:
    m = _ISO_RE.match(text)
    if not m:
        raise ValueError(
            f"cannot read {text!r} as a time: give ISO 8601 like "
            "'2010-02-27T06:50:00.069539Z' (or a datetime, or int nanoseconds)"
        )
    year = int(m["year"])
    try:
        if m["yday"] is not None:
            yday = int(m["yday"])
            if not 1 <= yday <= (366 if _is_leap(year) else 365):
                raise ValueError(f"day of year {yday} does not exist in {year}")
            date = _dt.date(year, 1, 1) + _dt.timedelta(days=yday - 1)
        else:
            date = _dt.date(year, int(m["month"]), int(m["day"]))
        hour = int(m["hour"] or 0)
        minute = int(m["minute"] or 0)
        second = int(m["second"] or 0)
        _dt.time(hour, minute, second)  # range check
    except ValueError as e:
        raise ValueError(f"cannot read {text!r} as a time: {e}") from None
    frac = m["frac"] or ""
    if len(frac) > 9:
        if frac[9:].strip("0"):
            raise ValueError(f"cannot read {text!r} as a time: finer than a nanosecond")
        frac = frac[:9]
    frac_ns = int(frac.ljust(9, "0")) if frac else 0
    offset_s = 0
    tz = m["tz"]
    if tz and tz not in ("Z", "z"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_s = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    days = date.toordinal() - _EPOCH_ORDINAL
    return days * _NS_PER_DAY + (hour * 3600 + minute * 60 + second - offset_s) * _NS_PER_S + frac_ns


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def to_ns(value: TimeLike) -> int:
    """Convert a time to int nanoseconds since 1970-01-01T00:00:00Z.

    Accepts ISO 8601 strings, :class:`datetime.datetime` (naive = UTC),
    :class:`datetime.date` (midnight UTC), :class:`numpy.datetime64` and
    ``int`` nanoseconds (returned unchanged).

    Raises:
        TypeError: for other types (a ``float`` is refused: seconds or
            nanoseconds would be a guess).
        ValueError: for a string that is not a time.
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not a time")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        return _parse_iso(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        delta = value - _dt.datetime(1970, 1, 1)
        return (delta.days * 86_400 + delta.seconds) * _NS_PER_S + delta.microseconds * 1000
    if isinstance(value, _dt.date):
        return (value.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ValueError("NaT is not a time")
        return int(value.astype("datetime64[ns]").astype(np.int64))
    raise TypeError(
        f"cannot use {type(value).__name__} as a time: give an ISO 8601 string, "
        "a datetime, or int nanoseconds since 1970-01-01 UTC"
    )


def _opt_ns(value: Optional[TimeLike]) -> Optional[int]:
    return None if value is None else to_ns(value)


def ns_to_datetime(ns: int) -> _dt.datetime:
    """An aware UTC :class:`datetime.datetime` for ``ns`` (truncated to microseconds)."""
    us = ns // 1000  # floor, so times before 1970 stay on the right microsecond
    return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(microseconds=us)


def format_ns(ns: int) -> str:
    """ISO 8601 UTC text for ``ns``, e.g. ``2010-02-27T06:50:00.069539Z``.

    Shows microseconds, or nanoseconds when the time has them.
    """
    seconds, sub = divmod(int(ns), _NS_PER_S)
    base = (_dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if sub % 1000:
        return f"{base}.{sub:09d}Z"
    return f"{base}.{sub // 1000:06d}Z"


def _tolerance_ns(value) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a bool is not a tolerance")
    if isinstance(value, _dt.timedelta):
        return (value.days * 86_400 + value.seconds) * _NS_PER_S + value.microseconds * 1000
    if isinstance(value, (int, np.integer)):
        return int(value)
    raise TypeError("tolerance: give int nanoseconds or a datetime.timedelta")


# --------------------------------------------------------------------------
# Selections
# --------------------------------------------------------------------------


def _selection(selection: SelectionLike) -> "_pb.Selection":
    if selection is None:
        return _pb.Selection()
    if isinstance(selection, (bytes, bytearray)):
        selection = selection.decode("ascii")
    if isinstance(selection, str):
        patterns = selection.split()
    else:
        patterns = []
        for p in selection:
            if isinstance(p, (bytes, bytearray)):
                p = p.decode("ascii")
            if not isinstance(p, str):
                raise TypeError(f"a selection pattern must be a str, not {type(p).__name__}")
            patterns.extend(p.split())
    return _pb.Selection(patterns=patterns)


def _window(start: Optional[TimeLike], end: Optional[TimeLike]) -> "_pb.TimeWindow":
    w = _pb.TimeWindow()
    s, e = _opt_ns(start), _opt_ns(end)
    if s is not None:
        w.start_ns = s
    if e is not None:
        w.end_ns = e
    return w


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """A stored channel, as listed by :meth:`Client.list_channels`."""

    source_id: str
    """``NET.STA.LOC.CHA``"""
    first_start_ns: int
    """Start of the earliest record."""
    last_end_ns: int
    """Time of the latest last sample."""
    sample_rate: float
    """Hz, of the latest data."""
    record_count: int
    byte_count: int
    last_receive_ns: int
    """When the latest record arrived."""

    @property
    def first_start(self) -> _dt.datetime:
        return ns_to_datetime(self.first_start_ns)

    @property
    def last_end(self) -> _dt.datetime:
        return ns_to_datetime(self.last_end_ns)

    @classmethod
    def _from_pb(cls, m) -> "Channel":
        return cls(m.source_id, m.first_start_ns, m.last_end_ns, m.sample_rate, m.record_count,
                   m.byte_count, m.last_receive_ns)


@dataclass(frozen=True)
class Record:
    """A stored miniSEED record, byte-identical to what the station sent."""

    source_id: str
    start_ns: int
    end_ns: int
    """Time of the record's last sample."""
    receive_ns: int
    """When the server received it."""
    sha256: bytes
    """SHA-256 of ``mseed`` (32 bytes), as verified on arrival."""
    mseed: bytes = field(repr=False)
    """The raw miniSEED 2 record."""

    @property
    def start(self) -> _dt.datetime:
        return ns_to_datetime(self.start_ns)

    @property
    def end(self) -> _dt.datetime:
        return ns_to_datetime(self.end_ns)

    def sha256_ok(self) -> bool:
        """Whether ``mseed`` still hashes to ``sha256``."""
        return hashlib.sha256(self.mseed).digest() == self.sha256

    @classmethod
    def _from_pb(cls, m) -> "Record":
        return cls(m.source_id, m.start_ns, m.end_ns, m.receive_ns, bytes(m.sha256), bytes(m.mseed))


_SAMPLE_TYPES = {
    _pb.INT32: ("int32", np.int32, "int32_samples"),
    _pb.FLOAT32: ("float32", np.float32, "float32_samples"),
    _pb.FLOAT64: ("float64", np.float64, "float64_samples"),
}


class Segment:
    """A time-contiguous run of samples of one channel.

    Consecutive segments of the same channel are separated by a gap or an
    overlap. A segment is built from one or more server messages (long runs
    are split by the server and merged back here).

    Attributes:
        source_id: ``NET.STA.LOC.CHA``.
        start_ns: time of the first sample (int ns since 1970 UTC).
        sample_rate: Hz (0 for text/log records).
        sample_type: ``"int32"``, ``"float32"``, ``"float64"`` or ``"text"``.
        data: a 1-D :class:`numpy.ndarray` of that dtype, or a ``str`` for
            text (decoded as Latin-1, so every byte maps to one character
            and ``data.encode("latin-1")`` gives the bytes back).
    """

    __slots__ = ("source_id", "start_ns", "sample_rate", "sample_type", "data")

    def __init__(self, source_id: str, start_ns: int, sample_rate: float, sample_type: str, data):
        self.source_id = source_id
        self.start_ns = start_ns
        self.sample_rate = sample_rate
        self.sample_type = sample_type
        self.data = data

    @property
    def sample_count(self) -> int:
        """Number of samples (characters for text)."""
        return len(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def period_ns(self) -> float:
        """Sample period in nanoseconds (0 when the rate is 0)."""
        return _NS_PER_S / self.sample_rate if self.sample_rate > 0 else 0.0

    @property
    def end_ns(self) -> int:
        """Time of the last sample."""
        if self.sample_rate <= 0 or len(self.data) == 0:
            return self.start_ns
        return self.start_ns + round((len(self.data) - 1) * _NS_PER_S / self.sample_rate)

    @property
    def start(self) -> _dt.datetime:
        return ns_to_datetime(self.start_ns)

    @property
    def end(self) -> _dt.datetime:
        return ns_to_datetime(self.end_ns)

    def times(self) -> np.ndarray:
        """The time of every sample, as int64 nanoseconds since 1970 UTC."""
        n = len(self.data)
        if self.sample_rate <= 0:
            return np.full(n, self.start_ns, dtype=np.int64)
        offsets = np.rint(np.arange(n, dtype=np.float64) * (_NS_PER_S / self.sample_rate)).astype(np.int64)
        return offsets + np.int64(self.start_ns)

    def __repr__(self) -> str:
        return (f"Segment({self.source_id}, {format_ns(self.start_ns)}, {self.sample_rate:g} Hz, "
                f"{len(self.data)} {self.sample_type} samples)")

    def __eq__(self, other) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        if (self.source_id, self.start_ns, self.sample_rate, self.sample_type) != (
                other.source_id, other.start_ns, other.sample_rate, other.sample_type):
            return False
        if isinstance(self.data, str) or isinstance(other.data, str):
            return self.data == other.data
        return bool(np.array_equal(self.data, other.data))

    __hash__ = None  # mutable


class _SegmentParts:
    """Accumulates the messages of one segment before making its array."""

    __slots__ = ("source_id", "start_ns", "sample_rate", "type_code", "parts", "count")

    def __init__(self, m):
        self.source_id = m.source_id
        self.start_ns = m.start_ns
        self.sample_rate = m.sample_rate
        self.type_code = m.sample_type
        self.parts = []
        self.count = 0
        self.add(m)

    def continued_by(self, m) -> bool:
        return (m.continues_previous and m.source_id == self.source_id and m.sample_type == self.type_code
                and m.sample_rate == self.sample_rate)

    def add(self, m):
        if self.type_code == _pb.TEXT:
            part = bytes(m.text)
        else:
            spec = _SAMPLE_TYPES.get(self.type_code)
            if spec is None:
                raise _protocol_error(f"segment of {m.source_id} has unknown sample type {m.sample_type}")
            container = getattr(m, spec[2])
            part = np.fromiter(container, dtype=spec[1], count=len(container))
        if len(part) != m.sample_count:
            raise _protocol_error(f"segment of {m.source_id} says {m.sample_count} samples but holds {len(part)}")
        self.parts.append(part)
        self.count += len(part)

    def build(self) -> Segment:
        if self.type_code == _pb.TEXT:
            data = b"".join(self.parts).decode("latin-1")
            name = "text"
        else:
            name, dtype, _ = _SAMPLE_TYPES[self.type_code]
            data = self.parts[0] if len(self.parts) == 1 else np.concatenate(self.parts).astype(dtype, copy=False)
        return Segment(self.source_id, self.start_ns, self.sample_rate, name, data)


@dataclass(frozen=True)
class Span:
    """A stretch of data without gaps."""

    start_ns: int
    end_ns: int
    """Time of the last sample."""
    sample_rate: float

    @property
    def start(self) -> _dt.datetime:
        return ns_to_datetime(self.start_ns)

    @property
    def end(self) -> _dt.datetime:
        return ns_to_datetime(self.end_ns)


@dataclass(frozen=True)
class Gap:
    """Between two consecutive spans of a channel."""

    start_ns: int
    """End of the span before."""
    end_ns: int
    """Start of the span after (before ``start_ns`` for an overlap)."""
    overlap: bool

    @property
    def duration_ns(self) -> int:
        """``end_ns - start_ns`` (negative or zero for an overlap)."""
        return self.end_ns - self.start_ns


@dataclass(frozen=True)
class ChannelAvailability:
    """What :meth:`Client.get_availability` says about one channel."""

    source_id: str
    spans: List[Span]
    gaps: List[Gap]
    """Between consecutive spans: ``len(gaps) == len(spans) - 1``."""


@dataclass(frozen=True)
class Skipped:
    """A :meth:`Client.subscribe` notice: the subscriber fell behind and the
    server dropped ``records`` records for it (ingest never waits)."""

    records: int


@dataclass(frozen=True)
class Stats:
    """Server statistics, from :meth:`Client.get_stats`."""

    records_stored: int
    bytes_stored: int
    channels: int
    records_ingested: int
    """Since start-up, as are the next two."""
    records_duplicate: int
    records_rejected: int
    rejections: dict
    """Rejection reason -> count."""
    ingest_records_per_second: float
    ingest_bytes_per_second: float
    connected_stations: int
    uptime_seconds: float
    subscribers: int

    @classmethod
    def _from_pb(cls, m) -> "Stats":
        return cls(m.records_stored, m.bytes_stored, m.channels, m.records_ingested, m.records_duplicate,
                   m.records_rejected, {r.reason: r.count for r in m.rejections}, m.ingest_records_per_second,
                   m.ingest_bytes_per_second, m.connected_stations, m.uptime_seconds, m.subscribers)


@dataclass(frozen=True)
class VerifyProblem:
    """A stored record that no longer checks out."""

    source_id: str
    start_ns: int
    problem: str


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :meth:`Client.verify`."""

    records_checked: int
    problems: List[VerifyProblem]

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


# --------------------------------------------------------------------------
# Subscription
# --------------------------------------------------------------------------


class Subscription:
    """The live stream returned by :meth:`Client.subscribe`.

    Iterate it to get :class:`Record` objects (and a :class:`Skipped` notice
    whenever the server had to drop records because this subscriber fell
    behind). Iteration blocks until the next record; it ends when
    :meth:`cancel` is called (from any thread), when the subscription's
    ``timeout`` has passed, or when the server shuts down. Use it as a
    context manager to cancel on exit.
    """

    def __init__(self, call, has_deadline: bool):
        self._call = call
        self._has_deadline = has_deadline
        self._cancelled = threading.Event()

    def __iter__(self) -> "Subscription":
        return self

    def __next__(self) -> Union[Record, Skipped]:
        while True:
            try:
                event = next(self._call)
            except StopIteration:
                raise
            except grpc.RpcError as e:
                code = e.code()
                if self._cancelled.is_set() and code == grpc.StatusCode.CANCELLED:
                    raise StopIteration from None
                if self._has_deadline and code == grpc.StatusCode.DEADLINE_EXCEEDED:
                    raise StopIteration from None
                raise _error_from_rpc(e) from None
            kind = event.WhichOneof("event")
            if kind == "record":
                return Record._from_pb(event.record)
            if kind == "skipped":
                return Skipped(event.skipped.records)
            # An event kind newer than this client: skip it.

    def cancel(self) -> None:
        """Stop following; a blocked iteration ends (StopIteration)."""
        self._cancelled.set()
        self._call.cancel()

    close = cancel

    @property
    def active(self) -> bool:
        """Whether the stream is still open."""
        return self._call.is_active()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.cancel()


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------


class _Default:
    def __repr__(self):
        return "<client default>"


_DEFAULT = _Default()


def _read_pem(value) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value)
    if "-----BEGIN" in text:
        return text.encode("ascii")
    with open(text, "rb") as f:
        return f.read()


class Client:
    """A connection to one ``seisvaultd`` query API.

    Args:
        target: the server's ``--api`` address, ``host:port``.
        token: the bearer token, when the server runs with
            ``--api-token-file``; sent as ``authorization: Bearer TOKEN``.
        tls_root_cert: for a server with ``--api-tls-cert``: the CA (or the
            self-signed server certificate) that signs it, as a PEM file
            path, PEM text or bytes. Giving it turns TLS on.
        timeout: seconds each call may take at most (for streaming calls:
            the whole stream); ``None`` for no limit. Every method also takes
            a ``timeout`` of its own that overrides this one.
        token_file: read the token from this file (its first line, trailing
            white space removed, as the server does) instead of ``token``.
        tls: use TLS with the system's root certificates even without
            ``tls_root_cert``.
        tls_server_name: the name to check the server's certificate against,
            when it differs from the host in ``target``.
        options: extra gRPC channel options, ``[(name, value), ...]``.

    The client is thread-safe. Close it with :meth:`close` or use it as a
    context manager.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        token: Optional[str] = None,
        tls_root_cert=None,
        timeout: Optional[float] = 60.0,
        *,
        token_file: Optional[str] = None,
        tls: bool = False,
        tls_server_name: Optional[str] = None,
        options: Sequence = (),
    ):
        if token_file is not None:
            if token is not None:
                raise ValueError("give token or token_file, not both")
            with open(token_file, "r", encoding="utf-8") as f:
                token = f.readline().rstrip()
            if not token:
                raise ValueError(f"no token in {token_file}")
        self.target = target
        self.timeout = timeout
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        opts = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ]
        if tls_server_name:
            opts.append(("grpc.ssl_target_name_override", tls_server_name))
        opts.extend(options)
        if tls_root_cert is not None or tls:
            root = _read_pem(tls_root_cert) if tls_root_cert is not None else None
            creds = grpc.ssl_channel_credentials(root_certificates=root)
            self._channel = grpc.secure_channel(target, creds, options=opts)
        else:
            self._channel = grpc.insecure_channel(target, options=opts)
        self._stub = _pb_grpc.WaveformsStub(self._channel)

    # -- plumbing ----------------------------------------------------------

    def close(self) -> None:
        """Close the connection; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.target!r})"

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until the connection to the server is up.

        Raises:
            UnavailableError: when it is not up within ``timeout`` seconds.
        """
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise UnavailableError(grpc.StatusCode.UNAVAILABLE,
                                   f"no SeisVault query API answered at {self.target} within {timeout} s") from None

    def _timeout(self, timeout) -> Optional[float]:
        return self.timeout if timeout is _DEFAULT else timeout

    def _unary(self, method, request, timeout):
        try:
            return method(request, timeout=self._timeout(timeout), metadata=self._metadata)
        except grpc.RpcError as e:
            raise _error_from_rpc(e) from None

    def _stream(self, method, request, timeout) -> Iterator:
        call = method(request, timeout=self._timeout(timeout), metadata=self._metadata)
        return _iterate_call(call)

    # -- the API -----------------------------------------------------------

    def list_channels(self, selection: SelectionLike = None, *, timeout=_DEFAULT) -> List[Channel]:
        """The stored channels that match ``selection`` (all when ``None``).

        Returns:
            a list of :class:`Channel`, sorted by source id.
        """
        resp = self._unary(self._stub.ListChannels, _pb.ListChannelsRequest(selection=_selection(selection)),
                           timeout)
        return [Channel._from_pb(c) for c in resp.channels]

    def get_records(self, selection: SelectionLike = None, start: Optional[TimeLike] = None,
                    end: Optional[TimeLike] = None, *, timeout=_DEFAULT) -> Iterator[Record]:
        """The stored miniSEED records of ``selection`` that overlap ``[start, end]``.

        Records are returned whole and byte-identical to what the station
        sent, in channel then start-time order. The result is a lazy
        iterator: the server is asked at once, but errors (for example
        :class:`InvalidArgumentError` for an end before a start) are raised
        when iteration starts. Closing the iterator early cancels the call.

        Yields:
            :class:`Record`
        """
        request = _pb.GetRecordsRequest(selection=_selection(selection), window=_window(start, end))
        batches = self._stream(self._stub.GetRecords, request, timeout)
        return (Record._from_pb(r) for batch in batches for r in batch.records)

    def iter_samples(self, selection: SelectionLike = None, start: Optional[TimeLike] = None,
                     end: Optional[TimeLike] = None, *, timeout=_DEFAULT) -> Iterator[Segment]:
        """Like :meth:`get_samples`, but yields segments one at a time as they
        arrive, so that long requests need not be held in memory at once."""
        request = _pb.GetSamplesRequest(selection=_selection(selection), window=_window(start, end))
        messages = self._stream(self._stub.GetSamples, request, timeout)
        return _merge_segments(messages)

    def get_samples(self, selection: SelectionLike = None, start: Optional[TimeLike] = None,
                    end: Optional[TimeLike] = None, *, timeout=_DEFAULT) -> List[Segment]:
        """Decoded samples of ``selection`` in ``[start, end]``.

        Samples outside the window are trimmed away. Each channel's data
        comes as time-contiguous :class:`Segment` objects in time order; a
        gap or an overlap starts a new segment. Runs the server split over
        several messages are merged back into one segment.

        Returns:
            a list of :class:`Segment`, in channel then time order; empty
            when nothing is stored there.
        """
        return list(self.iter_samples(selection, start, end, timeout=timeout))

    def get_availability(self, selection: SelectionLike = None, start: Optional[TimeLike] = None,
                         end: Optional[TimeLike] = None, tolerance=None, *,
                         timeout=_DEFAULT) -> List[ChannelAvailability]:
        """Spans of continuous data and the gaps between them.

        Args:
            tolerance: records continue a span when they start within this
                of one sample period after it ends: ``int`` nanoseconds or a
                :class:`datetime.timedelta`. ``None``: the server's default,
                half a sample period.

        Returns:
            a list of :class:`ChannelAvailability`, one per channel.
        """
        request = _pb.GetAvailabilityRequest(selection=_selection(selection), window=_window(start, end))
        tol = _tolerance_ns(tolerance)
        if tol is not None:
            request.tolerance_ns = tol
        resp = self._unary(self._stub.GetAvailability, request, timeout)
        return [
            ChannelAvailability(
                c.source_id,
                [Span(s.start_ns, s.end_ns, s.sample_rate) for s in c.spans],
                [Gap(g.start_ns, g.end_ns, g.overlap) for g in c.gaps],
            )
            for c in resp.channels
        ]

    def subscribe(self, selection: SelectionLike = None, since: Optional[TimeLike] = None, *,
                  timeout: Optional[float] = None) -> Subscription:
        """Follow new records of ``selection`` as they arrive.

        Args:
            since: when given, first the stored records that start at or
                after this time (the backlog), then the live ones.
                ``None``: live records only.
            timeout: stop following after this many seconds (iteration then
                simply ends). The client's default timeout does not apply.

        Returns:
            a :class:`Subscription`: iterate it for :class:`Record` (and
            :class:`Skipped`) items; cancel it to stop.
        """
        request = _pb.SubscribeRequest(selection=_selection(selection))
        if since is not None:
            request.since_ns = to_ns(since)
        call = self._stub.Subscribe(request, timeout=timeout, metadata=self._metadata)
        return Subscription(call, has_deadline=timeout is not None)

    def get_stats(self, *, timeout=_DEFAULT) -> Stats:
        """The server's counters: what is stored, ingest rates, rejections."""
        resp = self._unary(self._stub.GetStats, _pb.GetStatsRequest(), timeout)
        return Stats._from_pb(resp)

    def verify(self, selection: SelectionLike = None, start: Optional[TimeLike] = None,
               end: Optional[TimeLike] = None, *, timeout=_DEFAULT) -> VerifyResult:
        """Re-hash and re-validate the stored records of ``selection`` in
        ``[start, end]`` on the server.

        Returns:
            a :class:`VerifyResult` with the number of records checked and
            every problem found (``result.ok`` when there is none).
        """
        request = _pb.VerifyRequest(selection=_selection(selection), window=_window(start, end))
        problems = []
        summary = None
        for report in self._stream(self._stub.Verify, request, timeout):
            kind = report.WhichOneof("report")
            if kind == "problem":
                p = report.problem
                problems.append(VerifyProblem(p.source_id, p.start_ns, p.problem))
            elif kind == "summary":
                summary = report.summary
        if summary is None:
            raise _protocol_error("the verify stream ended without a summary")
        if summary.problems != len(problems):
            raise _protocol_error(f"verify summary counts {summary.problems} problems, "
                                  f"but {len(problems)} were sent")
        return VerifyResult(summary.records_checked, problems)


def _iterate_call(call) -> Iterator:
    """Iterate a server-streaming call, turning gRPC errors into SeisVaultError
    and cancelling the call when the consumer stops early."""
    try:
        while True:
            try:
                msg = next(call)
            except StopIteration:
                return
            except grpc.RpcError as e:
                raise _error_from_rpc(e) from None
            yield msg
    finally:
        call.cancel()


def _merge_segments(messages: Iterator) -> Iterator[Segment]:
    current: Optional[_SegmentParts] = None
    for m in messages:
        if current is not None and current.continued_by(m):
            current.add(m)
            continue
        if current is not None:
            yield current.build()
        current = _SegmentParts(m)
    if current is not None:
        yield current.build()
