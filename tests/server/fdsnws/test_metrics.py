"""/metrics (Prometheus text format 0.0.4), /healthz, /readyz and the bearer token on the HTTP face.

The exposition is read by a strict parser of our own (fdsnws_support.parse_prometheus):
HELP/TYPE comments, sample syntax and label escaping, one TYPE per family
before its samples, samples of a family together, no repeated series,
histograms with increasing cumulative buckets ending in le="+Inf" equal to
_count. Metric names are matched by pattern, not spelled out: which counter
counts stored records is the server's choice, that it counts them is not.
"""

import os
import tempfile
import time
import unittest
from pathlib import Path

from fdsnws_support import (GAPS, THREE_CHANNEL, ExpositionError, Seisvaultd, check_error_document, corpus_dir,
                            corpus_records, parse_prometheus, push_checked, require_environment)

DATASELECT = "/fdsnws/dataselect/1/query"


class ExpositionParserTest(unittest.TestCase):
    """The parser itself: what it accepts and what it refuses (no server)."""

    GOOD = (
        "# HELP x_total Things, with a \\\\ and a \\n in the help.\n"
        "# TYPE x_total counter\n"
        'x_total{a="1",b="q\\"uote\\\\back\\nline"} 3\n'
        'x_total{a="2"} 4 1700000000000\n'
        "# a plain comment\n"
        "# TYPE h histogram\n"
        'h_bucket{le="0.1"} 1\n'
        'h_bucket{le="1"} 2\n'
        'h_bucket{le="+Inf"} 3\n'
        "h_sum 1.5\n"
        "h_count 3\n"
        "# TYPE g gauge\n"
        "g NaN\n"
        "g{x=\"y\",} -Inf\n"
    )

    def test_parser_accepts_a_valid_page(self):
        fams = parse_prometheus(self.GOOD)
        self.assertEqual(fams["x_total"].type, "counter")
        self.assertEqual(fams["x_total"].samples[0][1]["b"], 'q"uote\\back\nline')
        self.assertEqual(len(fams["h"].samples), 5)

    def test_parser_refuses_malformed_pages(self):
        bad = {
            "no final newline": "a 1",
            "bad type": "# TYPE a countr\na 1\n",
            "TYPE after samples": "a 1\n# TYPE a gauge\n",
            "two TYPEs": "# TYPE a gauge\n# TYPE a gauge\na 1\n",
            "bad value": "a one\n",
            "bad escape": 'a{l="\\t"} 1\n',
            "unterminated label": 'a{l="x} 1\n',
            "no value": "a\n",
            "repeated series": "a{l=\"1\"} 1\na{l=\"1\"} 2\n",
            "interleaved families": "a 1\nb 1\na{l=\"2\"} 1\n",
            "bad label name": 'a{1l="x"} 1\n',
            "non-integer timestamp": "a 1 1.5\n",
            "negative counter": "# TYPE c counter\nc -1\n",
            "no +Inf bucket": '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
            "not cumulative": '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
            "count != +Inf": '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
            "no _count": '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\n',
        }
        for what, page in bad.items():
            with self.subTest(what):
                with self.assertRaises(ExpositionError):
                    parse_prometheus(page)


def series_sum(families, match_family, match_labels) -> float:
    """Sum of the samples of families whose name satisfies match_family, with labels satisfying match_labels."""
    return sum(v for f in families.values() if match_family(f)
               for _, labels, v in f.samples if match_labels(labels))


class MetricsTest(unittest.TestCase):
    """A server that starts empty: counters move by what this class does."""

    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd()
        cls.addClassCleanup(cls.server.close)

    def metrics(self):
        resp = self.server.get("/metrics")
        self.assertEqual(resp.status_code, 200, resp.text[:400])
        ctype = resp.headers.get("Content-Type", "")
        self.assertTrue(ctype.startswith("text/plain") and "version=0.0.4" in ctype.replace(" ", ""),
                        f"Content-Type {ctype!r} is not the 0.0.4 text format")
        try:
            return parse_prometheus(resp.text)
        except ExpositionError as e:
            self.fail(f"/metrics is not valid Prometheus text 0.0.4: {e}")

    def test_healthz_answers_200(self):
        resp = self.server.get("/healthz")
        self.assertEqual(resp.status_code, 200, resp.text)

    def test_readyz_answers_200_on_a_healthy_server(self):
        resp = self.server.get("/readyz")
        self.assertEqual(resp.status_code, 200, resp.text)

    def test_metrics_page_is_valid_prometheus_text(self):
        fams = self.metrics()
        ours = [n for n in fams if n.startswith("seisvault_")]
        self.assertTrue(ours, f"no seisvault_ family among {sorted(fams)[:20]}")
        for name, f in fams.items():
            self.assertIn(f.type, ("counter", "gauge", "histogram", "summary", "untyped"))
            if f.type == "counter":
                self.assertTrue(all(v >= 0 for _, _, v in f.samples), name)
        self.assertTrue(any(f.type == "histogram" for f in fams.values()), "no histogram on the page")

    def test_records_counter_grows_by_the_records_pushed(self):
        # A counter family about records, with a station label: its BGLD series grows by the records pushed.
        n = len(corpus_records(GAPS))
        before = self.metrics()
        push_checked(self.server, corpus_dir() / GAPS)
        deadline = time.monotonic() + 10
        while True:
            after = self.metrics()
            grown = {}
            for name, f in after.items():
                if not (name.startswith("seisvault_") and "record" in name and f.type in ("counter", "untyped")):
                    continue
                if not any("station" in labels for _, labels, _ in f.samples):
                    continue
                def bgld(labels):
                    return labels.get("station") == "BGLD" and labels.get("network", "BW") == "BW"
                was = series_sum(before, lambda g: g.name == name, bgld)
                now = series_sum(after, lambda g: g.name == name, bgld)
                grown[name] = now - was
            if any(d == n for d in grown.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(grown, "no seisvault_ counter family about records with a station label: "
                               f"{sorted(k for k in after if 'record' in k)}")
        self.assertIn(n, grown.values(),
                      f"pushed {n} records of BW.BGLD; per-station record counters moved by {grown}")
        # Without a station label, some records counter moved by n too (stored/received in total).
        totals = {}
        for name, f in after.items():
            if name.startswith("seisvault_") and "record" in name and f.type == "counter":
                totals[name] = (series_sum(after, lambda g: g.name == name, lambda l: True)
                                - series_sum(before, lambda g: g.name == name, lambda l: True))
        self.assertIn(n, totals.values(), f"record counters moved by {totals}")

    def test_dataselect_request_counter_grows(self):
        def count(fams):
            return series_sum(fams, lambda f: f.name.startswith("seisvault_") and "request" in f.name
                              and f.type == "counter",
                              lambda l: any("dataselect" in v for v in l.values())
                              and any("query" in v for v in l.values()))
        before = count(self.metrics())
        resp = self.server.get(DATASELECT, params=dict(net="XX", start="2020-01-01", end="2020-01-02"))
        self.assertIn(resp.status_code, (200, 204))
        # The count is taken when the response is done: allow it a moment.
        deadline = time.monotonic() + 5
        while True:
            after = count(self.metrics())
            if after > before or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(after - before, 1, "a counter of dataselect query requests did not grow by 1")


class TokenTest(unittest.TestCase):
    """--api-token-file: the HTTP face wants 'Authorization: Bearer TOKEN', except on the probes."""

    TOKEN = "fdsnws-test-token-5f1c0e7a9b3d"

    @classmethod
    def setUpClass(cls):
        require_environment()
        cls._tmp = tempfile.TemporaryDirectory(prefix="seisvault-fdsnws-token-")
        cls.addClassCleanup(cls._tmp.cleanup)
        token_file = Path(cls._tmp.name) / "token"
        token_file.write_text(cls.TOKEN + "\n")
        os.chmod(token_file, 0o600)
        cls.server = Seisvaultd("--api-token-file", str(token_file))
        cls.addClassCleanup(cls.server.close)
        push_checked(cls.server, corpus_dir() / THREE_CHANNEL)

    def auth(self, token=None):
        return {"Authorization": f"Bearer {token or self.TOKEN}"}

    def test_fdsnws_needs_the_token(self):
        q = dict(net="IU", sta="COLA", start="2010-02-27T06:50:00", end="2010-02-27T07:00:00")
        for path, params in ((DATASELECT, q), ("/fdsnws/dataselect/1/version", None),
                             ("/fdsnws/dataselect/1/application.wadl", None),
                             ("/fdsnws/station/1/query", None), ("/fdsnws/availability/1/query", None)):
            with self.subTest(path=path):
                resp = self.server.get(path, params=params)
                self.assertEqual(resp.status_code, 401, f"{path} without a token: {resp.status_code}")
                self.assertIn("Bearer", resp.headers.get("WWW-Authenticate", ""), "401 without WWW-Authenticate")
                resp = self.server.get(path, params=params, headers=self.auth("wrong-token"))
                self.assertEqual(resp.status_code, 401, f"{path} with a wrong token: {resp.status_code}")
                resp = self.server.get(path, params=params, headers={"Authorization": self.TOKEN})
                self.assertEqual(resp.status_code, 401, f"{path} with the token but no 'Bearer': {resp.status_code}")
        check_error_document(self, self.server.get(DATASELECT, params=q), 401)
        resp = self.server.get(DATASELECT, params=q, headers=self.auth())
        self.assertEqual(resp.status_code, 200, resp.text[:300])
        self.assertEqual(len(resp.content) % 512, 0)
        self.assertTrue(resp.content)
        resp = self.server.post(DATASELECT, b"IU COLA 00 LHZ 2010-02-27T06:50:00 2010-02-27T07:00:00",
                                headers={**self.auth(), "Content-Type": "text/plain"})
        self.assertEqual(resp.status_code, 200, resp.text[:300])
        resp = self.server.post(DATASELECT, b"IU COLA 00 LHZ 2010-02-27T06:50:00 2010-02-27T07:00:00",
                                headers={"Content-Type": "text/plain"})
        self.assertEqual(resp.status_code, 401)
        self.assertEqual(self.server.get("/fdsnws/dataselect/1/version", headers=self.auth()).status_code, 200)

    def test_metrics_needs_the_token(self):
        self.assertEqual(self.server.get("/metrics").status_code, 401)
        self.assertEqual(self.server.get("/metrics", headers=self.auth("nope")).status_code, 401)
        resp = self.server.get("/metrics", headers=self.auth())
        self.assertEqual(resp.status_code, 200, resp.text[:300])

    def test_probes_need_no_token(self):
        self.assertEqual(self.server.get("/healthz").status_code, 200)
        self.assertEqual(self.server.get("/readyz").status_code, 200)


if __name__ == "__main__":
    unittest.main()
