"""A small SeedLink 3.1 / 4.0 test client on plain sockets, written from the
protocol (INTEROP.md, the FDSN SeedLink 4 specification, libslink's
framing): what the suite uses to talk to seisvaultd's SeedLink face."""

import socket
import struct
import time
from dataclasses import dataclass

TIMEOUT_S = 20.0


@dataclass
class Packet:
    kind: str          # "data" (v3 SL / v4 SE), "info" (v3 SLINFO), "end"
    sequence: int = 0
    payload: bytes = b""
    station: str = ""  # v4 NET_STA
    format: str = ""   # v4
    subformat: str = ""
    more: bool = False  # v3 INFO: "SLINFO *"


class ProtocolError(AssertionError):
    pass


class SeedLinkClient:
    def __init__(self, address: str, timeout: float = TIMEOUT_S):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.v4 = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- bytes -------------------------------------------------------------

    def send(self, line: str, end: str = "\r\n"):
        self.sock.sendall(line.encode() + end.encode())

    def _fill(self, n: int):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed with {len(self.buf)} of {n} bytes")
            self.buf += chunk

    def _take(self, n: int) -> bytes:
        self._fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self) -> str:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed before a line end; have {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def closed_by_server(self, wait: float = 5.0) -> bool:
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except OSError:
            return True

    # --- commands ----------------------------------------------------------

    def command(self, line: str, end: str = "\r\n") -> str:
        self.send(line, end)
        return self.read_line()

    def hello(self) -> tuple:
        self.send("HELLO")
        # Both lines must come in one write (ObsPy reads one recv()).
        data = self.sock.recv(65536)
        self.buf += data
        if data.count(b"\r\n") < 2:
            raise ProtocolError(f"HELLO answer not in one write: {data!r}")
        return self.read_line(), self.read_line()

    def slproto4(self):
        reply = self.command("SLPROTO 4.0")
        if reply != "OK":
            raise ProtocolError(f"SLPROTO 4.0 answered {reply!r}")
        self.v4 = True

    # --- packets -----------------------------------------------------------

    def read_packet(self) -> Packet:
        self._fill(3)
        if self.buf.startswith(b"END"):
            self._take(3)
            return Packet("end")
        if self.v4:
            self._fill(17)
            if self.buf[:2] != b"SE":
                raise ProtocolError(f"v4 packet does not start with SE: {self.buf[:20]!r}")
            fmt, sub = chr(self.buf[2]), chr(self.buf[3])
            length, seq, idlen = struct.unpack("<IQB", self.buf[4:17])
            header = self._take(17 + idlen)
            station = header[17:].decode()
            return Packet("data" if fmt in "23" else "info", seq, self._take(length), station, fmt, sub)
        self._fill(8)
        head = self._take(8)
        if head.startswith(b"SLINFO"):
            return Packet("info", 0, self._take(512), more=head[7:8] == b"*")
        if not head.startswith(b"SL"):
            raise ProtocolError(f"v3 packet does not start with SL: {head!r}")
        seq = int(head[2:8].decode(), 16)
        return Packet("data", seq, self._take(512))

    def read_packets(self, count: int, deadline_s: float = TIMEOUT_S) -> list:
        out = []
        end = time.monotonic() + deadline_s
        while len(out) < count:
            if time.monotonic() > end:
                raise ProtocolError(f"only {len(out)} of {count} packets within {deadline_s} s")
            p = self.read_packet()
            if p.kind == "data":
                out.append(p)
        return out

    def read_until_end(self, limit: int = 1_000_000) -> list:
        out = []
        while len(out) < limit:
            p = self.read_packet()
            if p.kind == "end":
                return out
            if p.kind == "data":
                out.append(p)
        raise ProtocolError("no END")

    def read_info(self) -> bytes:
        """v3: the INFO text carried in the miniSEED text records; v4: the JSON."""
        if self.v4:
            p = self.read_packet()
            if p.format != "J":
                raise ProtocolError(f"v4 INFO answer of format {p.format!r}")
            return p.payload
        text = b""
        while True:
            p = self.read_packet()
            if p.kind != "info":
                raise ProtocolError(f"expected INFO packets, got {p.kind}")
            rec = p.payload
            nsamp = struct.unpack(">H", rec[30:32])[0]
            data_offset = struct.unpack(">H", rec[44:46])[0]
            text += rec[data_offset:data_offset + nsamp]
            if not p.more:
                return text
