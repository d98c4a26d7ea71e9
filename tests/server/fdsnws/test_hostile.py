"""Hostile input on the HTTP face: every malformed, oversized or garbage request gets an answer (an error
status, never a dropped server), the server stays up and keeps serving a good request, and its memory stays
small. A fixed random seed makes a failure reproducible; every wait is bounded."""

import os
import random
import socket
import time
import unittest

import requests

from fdsnws_support import GAPS, Seisvaultd, corpus_dir, push_checked, require_environment, rss_kib

PATHS = ["/fdsnws/dataselect/1/query", "/fdsnws/station/1/query", "/fdsnws/availability/1/query",
         "/fdsnws/availability/1/extent"]
NAMES = ["net", "sta", "loc", "cha", "start", "end", "quality", "minimumlength", "longestonly", "format", "nodata",
         "level", "lat", "lon", "maxradius", "merge", "mergegaps", "orderby", "limit", "show", "minlat",
         "updatedafter", "bogus"]
VALUES = ["", "*", "?", "--", "IU,CH,,", "A" * 5000, ",".join(["X"] * 3000), "2010-02-30", "9999-99-99T99:99:99",
          "-1e308", "nan", "inf", "1e400", "\x00", "true", "TRUE", "2010-02-27T06:30:00.1234567891", "B", "Z",
          "404", "205", "samplerate,quality,overlap,overlap", "999999999999999999999", "BW", "BGLD", "EHE"]


class HostileInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd()
        cls.addClassCleanup(cls.server.close)
        push_checked(cls.server, corpus_dir() / GAPS)

    def assert_still_serving(self):
        self.assertIsNone(self.server.proc.poll(), f"seisvaultd exited:\n{self.server.log()}")
        r = self.server.get("/fdsnws/dataselect/1/query", params=dict(net="BW", sta="BGLD", cha="EHE"))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(len(r.content) % 512, 0)

    def test_random_parameters_and_bodies_get_answers_and_the_server_keeps_serving(self):
        rnd = random.Random(12)
        statuses = {}
        for _ in range(400):
            path = rnd.choice(PATHS)
            if rnd.random() < 0.3:
                body = rnd.choice([bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 3000))),
                                   b"quality=B\n" + b"BW BGLD * * * *\n" * rnd.randint(1, 2000),
                                   b"a=b\n", b"BW BGLD -- EHE 2010-01-01 2009-01-01", b"\n\n\n",
                                   b"BW BGLD -- EHE x y z w"])
                r = self.server.post(path, body)
            else:
                params = {rnd.choice(NAMES): rnd.choice(VALUES) for _ in range(rnd.randint(0, 6))}
                r = self.server.get(path, params=params)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            self.assertIn(r.status_code, (200, 204, 400, 404, 413, 414), (path, r.text[:300]))
            if r.status_code in (400, 404) and r.text:
                self.assertTrue(r.text.startswith(f"Error {r.status_code}: "), r.text[:200])
        self.assertGreater(statuses.get(400, 0), 100, statuses)
        self.assert_still_serving()

    def test_garbage_on_the_socket_and_oversized_requests_do_not_bring_the_server_down(self):
        host, port = self.server.http.rsplit(":", 1)
        rnd = random.Random(5)
        before = rss_kib(self.server.proc.pid)
        sends = [lambda: os.urandom(rnd.randint(1, 20000)),
                 lambda: b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 lambda: b"POST /fdsnws/dataselect/1/query HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nabc",
                 lambda: b"GET /metrics HTTP/1.1\r\n" + b"X-Junk: y\r\n" * 5000 + b"\r\n",
                 lambda: b"GET /fdsnws/dataselect/1/query?net=BW&cha=EH?&sta=BGL? HTTP/1.1\r\nHost: x\r\n\r\n"]
        for i in range(50):
            with socket.create_connection((host, int(port)), timeout=5) as s:
                try:
                    s.sendall(sends[i % len(sends)]())
                    s.shutdown(socket.SHUT_WR)  # nothing more comes: the server need not wait for it
                    s.recv(256)
                except OSError:
                    pass  # the server may close first: that is an answer too
        # A request the server cannot read whole is refused before its body is read.
        r = requests.post(self.server.base + "/fdsnws/dataselect/1/query", data=b"x" * (2 << 20), timeout=30)
        self.assertEqual(r.status_code, 413)
        self.assert_still_serving()
        time.sleep(0.2)
        self.assertLess(rss_kib(self.server.proc.pid), max(before, 1) + 200 * 1024,
                        "the server's memory grew by more than 200 MiB on hostile input")
