"""Hostile and careless SeedLink clients: garbage, random commands, too many
connections, idle handshakes. Each is answered or dropped, and the server
goes on serving everyone else with bounded memory."""

import random
import socket
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fdsnws"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fdsnws_support import (BALST, Seisvaultd, corpus_dir, corpus_records, push_checked,  # noqa: E402
                            require_environment, rss_kib)
from seedlink_client import SeedLinkClient  # noqa: E402

VERBS = ["HELLO", "SLPROTO", "CAPABILITIES", "GETCAPABILITIES", "USERAGENT", "AUTH", "STATION", "SELECT", "DATA",
         "FETCH", "TIME", "INFO", "BATCH", "CAT", "END", "ENDFETCH", "BYE", "FROB", "GET"]
ARGS = ["", "0x", "ALL", "-1", "4.0", "3.1", "99.99", "IU_*", "*", "ANMO IU", "?", "!", "!*_B_H_?", "00BHZ.D", "--LHZ",
        "2024,1,1,0,0,0", "2024-01-01T00:00:00Z", "2024,13,40,25,61,61", "FFFFFFFFFFFFFFFFFF", "18446744073709551616",
        "EXTREPLY", "ID", "STREAMS", "CONNECTIONS", "GAPS", "\x00\xff", "A" * 300, "  ", "\t"]


def drain(sock: socket.socket, seconds: float = 0.2) -> bytes:
    sock.settimeout(seconds)
    out = b""
    try:
        while len(out) < 1 << 20:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, OSError):
        pass
    return out


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd("--seedlink-max-connections-per-address", "20", "--seedlink-handshake-timeout-s", "1")
        push_checked(cls.server, corpus_dir() / BALST)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def address(self):
        host, port = self.server.seedlink.rsplit(":", 1)
        return host, int(port)

    def still_serves(self):
        self.assertIsNone(self.server.proc.poll(), "seisvaultd exited")
        want = {r.raw for r in corpus_records(BALST) if r.channel == "LHZ"}
        with SeedLinkClient(self.server.seedlink) as c:
            c.hello()
            self.assertEqual(c.command("STATION BALST CH"), "OK")
            self.assertEqual(c.command("SELECT LHZ"), "OK")
            self.assertEqual(c.command("DATA 1"), "OK")
            c.send("END")
            self.assertEqual({p.payload for p in c.read_packets(len(want))}, want)

    def test_garbage_bytes_are_answered_or_dropped_and_the_server_goes_on(self):
        rng = random.Random(1303)
        before = rss_kib(self.server.proc.pid)
        for i in range(300):
            with socket.create_connection(self.address(), timeout=5) as s:
                blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
                if i % 3 == 0:
                    blob = blob.replace(b"\r", b"").replace(b"\n", b"")  # one endless line
                try:
                    s.sendall(blob)
                except OSError:
                    pass
                drain(s, 0.02)
        self.still_serves()
        self.assertLess(rss_kib(self.server.proc.pid), before + 200 * 1024)

    def test_random_command_sequences_never_break_the_server(self):
        rng = random.Random(4242)
        for _ in range(200):
            with socket.create_connection(self.address(), timeout=5) as s:
                lines = []
                for _ in range(rng.randrange(1, 12)):
                    line = rng.choice(VERBS)
                    for _ in range(rng.randrange(0, 4)):
                        line += rng.choice([" ", "  ", "\t"]) + rng.choice(ARGS)
                    lines.append(line + rng.choice(["\r\n", "\r", "\n"]))
                try:
                    s.sendall("".join(lines).encode("latin-1"))
                except OSError:
                    pass
                drain(s, 0.02)
        self.still_serves()

    def test_connections_beyond_the_per_address_limit_are_refused_and_the_rest_serve(self):
        held = []
        try:
            for _ in range(20):
                s = socket.create_connection(self.address(), timeout=5)
                s.sendall(b"HELLO\r\n")
                held.append(s)
            for s in held:  # quickly: the handshake timeout of this server is 1 s
                got = b""
                while got.count(b"\r\n") < 2:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                self.assertIn(b"SeedLink", got)
            extra = socket.create_connection(self.address(), timeout=5)
            reply = drain(extra, 0.5)
            extra.close()
            self.assertTrue(reply.startswith(b"ERROR"), reply)
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)
        self.still_serves()

    def test_a_client_that_stops_talking_during_the_handshake_is_closed(self):
        with socket.create_connection(self.address(), timeout=10) as s:
            s.sendall(b"HELLO\r\nSTATION BALST CH\r\n")
            start = time.monotonic()
            s.settimeout(10)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.assertLess(time.monotonic() - start, 8)


if __name__ == "__main__":
    unittest.main()
