"""fdsnws-availability 1.0 (/query and /extent) against a real seisvaultd.

The spans expected here are computed from the corpus files' headers (libmseed's
contiguity rule: the next record starts one sample period after the last
sample, within half a period) and checked against the MANIFEST's
"segments (N gaps, M overlaps)" column. A span's start is its first sample
(written with six fractional digits, rounded down); its end is accepted as
the last sample's time or up to one sample period after it (services differ
on whether the end is the last sample or the end of its period).
"""

import json
import re
import time
import unittest

from fdsnws_support import (BALST, GAPS, KW1, NS, THREE_CHANNEL, Seisvaultd, check_error_document, corpus_dir,
                            corpus_records, iso, manifest, ns_from_iso, push_checked, require_environment, segments, select, split_records)

QUERY = "/fdsnws/availability/1/query"
EXTENT = "/fdsnws/availability/1/extent"
DATASELECT = "/fdsnws/dataselect/1/query"


class AvailabilityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_environment()
        # No window limit: some requests cover 2008 to 2025.
        cls.server = Seisvaultd("--max-window-days", "0")
        cls.addClassCleanup(cls.server.close)
        # One push per file, in this order, so that "updated" orders them: KW1 oldest, GAPS newest.
        cls.pushed_after_ns = time.time_ns()
        for name in (KW1, THREE_CHANNEL, BALST, GAPS):
            push_checked(cls.server, corpus_dir() / name)
            time.sleep(0.02)
        cls.pushed_before_ns = time.time_ns()
        cls.records = {name: corpus_records(name) for name in (KW1, THREE_CHANNEL, BALST, GAPS)}
        cls.all_records = [r for rs in cls.records.values() for r in rs]

    # --- helpers ----------------------------------------------------------

    def get(self, path, **params):
        return self.server.get(path, params=params)

    def ok(self, resp, what=""):
        self.assertEqual(resp.status_code, 200, f"{what}: HTTP {resp.status_code} for {resp.url}:\n{resp.text[:800]}")
        return resp

    def text_rows(self, resp, what=""):
        """Text format: the '#' header's column names and the rows (whitespace-separated)."""
        self.ok(resp, what)
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("text/plain"), resp.headers)
        lines = resp.text.splitlines()
        self.assertTrue(lines and lines[0].startswith("#"), f"{what}: no '#' header line:\n{resp.text[:400]}")
        header = lines[0][1:].split()
        for col in ("Network", "Station", "Location", "Channel", "Earliest", "Latest"):
            self.assertIn(col, header, f"{what}: header {lines[0]!r} has no column {col}")
        rows = []
        for line in lines[1:]:
            if not line.strip():
                continue
            cells = line.split()
            self.assertEqual(len(cells), len(header), f"{what}: row {line!r} does not fit header {lines[0]!r}")
            rows.append(dict(zip(header, cells)))
        return rows

    def channel_spans(self, records):
        """Expected spans of one channel: (start_ns, last_ns, period_ns) per segment."""
        segs = segments(records)
        return [(s[0].start_ns, max(r.last_ns for r in s), int(NS / s[0].rate)) for s in segs]

    def assertSpan(self, got_start: str, got_end: str, want, what=""):
        start, last, period = want
        gs, ge = ns_from_iso(got_start), ns_from_iso(got_end)
        self.assertEqual(gs, start // 1000 * 1000, f"{what}: span starts {got_start}, want {iso(start)}")
        self.assertTrue(last // 1000 * 1000 <= ge <= last + period,
                        f"{what}: span ends {got_end}, want the last sample {iso(last)} "
                        f"(or up to one period, {period / 1e9} s, later)")

    def assertSpans(self, pairs, want, what=""):
        self.assertEqual(len(pairs), len(want), f"{what}: {len(pairs)} spans, want {len(want)}: {pairs}")
        for (s, e), w in zip(pairs, want):
            self.assertSpan(s, e, w, what)

    # --- /query in each format ---------------------------------------------

    def test_query_text_lists_each_continuous_span(self):
        gaps = self.records[GAPS]
        want = self.channel_spans(gaps)
        self.assertEqual(len(want), 4, "obspy__gaps.mseed: MANIFEST says 4 segments (3 gaps)")
        rows = self.text_rows(self.get(QUERY, net="BW", sta="BGLD", loc="--", cha="EHE", format="text"), "text")
        self.assertSpans([(r["Earliest"], r["Latest"]) for r in rows], want, "BW.BGLD..EHE")
        for r in rows:
            self.assertEqual((r["Network"], r["Station"], r["Location"], r["Channel"]), ("BW", "BGLD", "--", "EHE"))
            if "Quality" in r:
                self.assertEqual(r["Quality"], "D")
            if "SampleRate" in r:
                self.assertEqual(float(r["SampleRate"]), 200.0)
            self.assertTrue(r["Earliest"].endswith("Z") and r["Latest"].endswith("Z"), r)
        # text is the default format
        self.assertEqual(self.text_rows(self.get(QUERY, net="BW", sta="BGLD")), rows)

    def test_query_spans_match_the_manifest_gaps_and_overlaps(self):
        m = manifest()
        for name in (GAPS, KW1, BALST, THREE_CHANNEL):
            by_channel = {}
            for r in self.records[name]:
                by_channel.setdefault(r.source_id, []).append(r)
            want_total = int(re.match(r"(\d+)", m[name]["segments"]).group(1))
            got_total = 0
            for sid, recs in sorted(by_channel.items()):
                net, sta, loc, cha = sid.split(".")
                with self.subTest(channel=sid):
                    rows = self.text_rows(self.get(QUERY, net=net, sta=sta, loc=loc or "--", cha=cha), sid)
                    self.assertSpans([(r["Earliest"], r["Latest"]) for r in rows], self.channel_spans(recs), sid)
                    got_total += len(rows)
            self.assertEqual(got_total, want_total, f"{name}: MANIFEST segments {m[name]['segments']}")

    def test_query_geocsv(self):
        resp = self.ok(self.get(QUERY, net="BW", sta="BGLD", format="geocsv"), "geocsv")
        lines = resp.text.splitlines()
        self.assertEqual(lines[0], "#dataset: GeoCSV 2.0", lines[:3])
        meta = [l for l in lines if l.startswith("#")]
        self.assertIn("#delimiter: |", meta)
        body = [l for l in lines if not l.startswith("#") and l.strip()]
        header = body[0].split("|")
        for col in ("Network", "Station", "Location", "Channel", "Earliest", "Latest"):
            self.assertIn(col, header)
        for line in meta:
            if line.startswith(("#field_unit:", "#field_type:")):
                self.assertEqual(len(line.split(":", 1)[1].strip().split("|")), len(header), line)
        rows = [dict(zip(header, l.split("|"))) for l in body[1:]]
        self.assertTrue(all(len(l.split("|")) == len(header) for l in body[1:]))
        self.assertSpans([(r["Earliest"], r["Latest"]) for r in rows], self.channel_spans(self.records[GAPS]),
                         "geocsv")
        self.assertTrue(all(r["Location"] in ("", "--") for r in rows), rows[:1])

    def test_query_json(self):
        resp = self.ok(self.get(QUERY, net="BW,XX", format="json"), "json")
        self.assertIn("json", resp.headers.get("Content-Type", ""))
        doc = json.loads(resp.text)
        for key in ("created", "version", "datasources"):
            self.assertIn(key, doc)
        ns_from_iso(doc["created"])
        self.assertEqual(float(doc["version"]), 1.0)
        sources = {(d["network"], d["station"], d["location"], d["channel"]): d for d in doc["datasources"]}
        self.assertEqual(sorted(sources), [("BW", "BGLD", "", "EHE"), ("XX", "KW1", "01", "001")])
        bw = sources[("BW", "BGLD", "", "EHE")]
        self.assertEqual(bw["quality"], "D")
        self.assertEqual(float(bw["samplerate"]), 200.0)
        self.assertSpans([tuple(s) for s in bw["timespans"]], self.channel_spans(self.records[GAPS]), "json BW")
        kw1 = sources[("XX", "KW1", "01", "001")]
        self.assertSpans([tuple(s) for s in kw1["timespans"]], self.channel_spans(self.records[KW1]), "json KW1")

    def test_extent_gives_earliest_and_latest_per_channel(self):
        gaps = self.records[GAPS]
        first, last = min(r.start_ns for r in gaps), max(r.last_ns for r in gaps)
        doc = json.loads(self.ok(self.get(EXTENT, net="BW", format="json")).text)
        self.assertEqual(len(doc["datasources"]), 1, doc)
        d = doc["datasources"][0]
        self.assertEqual((d["network"], d["station"], d["location"], d["channel"]), ("BW", "BGLD", "", "EHE"))
        self.assertSpan(d["earliest"], d["latest"], (first, last, NS // 200), "extent json")
        if "timespanCount" in d:
            self.assertEqual(d["timespanCount"], 4)
        rows = self.text_rows(self.get(EXTENT, net="BW"), "extent text")
        self.assertEqual(len(rows), 1, rows)
        self.assertSpan(rows[0]["Earliest"], rows[0]["Latest"], (first, last, NS // 200), "extent text")
        self.assertEqual(rows[0]["Location"], "--")

    def test_request_format_lines_post_to_dataselect(self):
        resp = self.ok(self.get(QUERY, net="BW,XX", format="request"), "request")
        lines = [l for l in resp.text.splitlines() if l.strip()]
        self.assertEqual(len(lines), 4 + 3, lines)
        for line in lines:
            f = line.split()
            self.assertEqual(len(f), 6, line)
            ns_from_iso(f[4])
            ns_from_iso(f[5])
            self.assertNotEqual(f[2], "", line)
        self.assertTrue(any(l.startswith("BW BGLD -- EHE ") for l in lines), lines)
        data = self.server.post(DATASELECT, resp.text.encode(), headers={"Content-Type": "text/plain"})
        self.assertEqual(data.status_code, 200, data.text[:500])
        got = split_records(data.content)
        want = select(self.records[GAPS] + self.records[KW1])
        self.assertEqual([g.raw for g in got], [w.raw for w in want],
                         f"the request lines give {len(got)} records, want {len(want)}")

    # --- merging, limits, order ----------------------------------------------

    def kw1_spans(self, **params):
        rows = self.text_rows(self.get(QUERY, net="XX", sta="KW1", **params), str(params))
        return [(r["Earliest"], r["Latest"]) for r in rows]

    def test_merge_overlap_joins_overlapping_spans(self):
        r = sorted(self.records[KW1], key=lambda x: x.start_ns)
        p = NS // 200
        # #0 and #1 overlap (#1 starts 0.6 s before #0's last sample), #2 follows a 1 s gap.
        self.assertSpans(self.kw1_spans(), [(r[0].start_ns, r[0].last_ns, p), (r[1].start_ns, r[1].last_ns, p),
                                            (r[2].start_ns, r[2].last_ns, p)], "no merge")
        self.assertSpans(self.kw1_spans(merge="overlap"),
                         [(r[0].start_ns, r[1].last_ns, p), (r[2].start_ns, r[2].last_ns, p)], "merge=overlap")

    def test_mergegaps_joins_gaps_up_to_the_given_length(self):
        r = sorted(self.records[KW1], key=lambda x: x.start_ns)
        p = NS // 200
        self.assertEqual(len(self.kw1_spans(mergegaps="0.5")), 3, "mergegaps=0.5 (the gap is 1 s)")
        self.assertSpans(self.kw1_spans(mergegaps="2"),
                         [(r[0].start_ns, r[0].last_ns, p), (r[1].start_ns, r[2].last_ns, p)], "mergegaps=2")
        self.assertSpans(self.kw1_spans(mergegaps="2", merge="overlap"), [(r[0].start_ns, r[2].last_ns, p)],
                         "mergegaps=2&merge=overlap")
        # obspy__gaps.mseed: gaps of about 2.06, 2.06 and 4.1 s.
        gaps = self.text_rows(self.get(QUERY, net="BW", mergegaps="3"))
        self.assertEqual(len(gaps), 2, gaps)
        gaps = self.text_rows(self.get(QUERY, net="BW", mergegaps="5"))
        self.assertEqual(len(gaps), 1, gaps)

    def test_limit_caps_the_number_of_rows(self):
        all_rows = self.text_rows(self.get(QUERY, net="BW"))
        self.assertEqual(len(all_rows), 4)
        self.assertEqual(self.text_rows(self.get(QUERY, net="BW", limit="2")), all_rows[:2])
        self.assertEqual(self.text_rows(self.get(QUERY, net="BW", limit="10")), all_rows)
        doc = json.loads(self.ok(self.get(QUERY, net="BW", limit="3", format="json")).text)
        self.assertEqual(len(doc["datasources"][0]["timespans"]), 3)

    def test_orderby_orders_extent_rows(self):
        sel = dict(net="BW,XX,CH")
        ids = lambda rows: [f"{r['Network']}.{r['Station']}.{r['Location']}.{r['Channel']}" for r in rows]
        default = ids(self.text_rows(self.get(EXTENT, **sel)))
        self.assertEqual(default, ["BW.BGLD.--.EHE", "CH.BALST.--.LHE", "CH.BALST.--.LHZ", "XX.KW1.01.001"])
        self.assertEqual(ids(self.text_rows(self.get(EXTENT, **sel, orderby="nslc_time_quality_samplerate"))),
                         default)
        # 4, 3, 1, 1 spans; ties in the default order.
        self.assertEqual(ids(self.text_rows(self.get(EXTENT, **sel, orderby="timespancount_desc"))),
                         ["BW.BGLD.--.EHE", "XX.KW1.01.001", "CH.BALST.--.LHE", "CH.BALST.--.LHZ"])
        self.assertEqual(ids(self.text_rows(self.get(EXTENT, **sel, orderby="timespancount"))),
                         ["CH.BALST.--.LHE", "CH.BALST.--.LHZ", "XX.KW1.01.001", "BW.BGLD.--.EHE"])
        # Pushed in the order KW1, (3-channel), BALST, GAPS.
        self.assertEqual(ids(self.text_rows(self.get(EXTENT, **sel, orderby="latestupdate"))),
                         ["XX.KW1.01.001", "CH.BALST.--.LHE", "CH.BALST.--.LHZ", "BW.BGLD.--.EHE"])
        self.assertEqual(ids(self.text_rows(self.get(EXTENT, **sel, orderby="latestupdate_desc")))[0],
                         "BW.BGLD.--.EHE")

    def test_show_latestupdate_adds_the_update_time(self):
        rows = self.text_rows(self.get(QUERY, net="BW,XX", show="latestupdate"))
        self.assertTrue(rows and "Updated" in rows[0], rows[:1])
        lo, hi = self.pushed_after_ns - 2 * NS, self.pushed_before_ns + 2 * NS
        for r in rows:
            self.assertTrue(lo <= ns_from_iso(r["Updated"]) <= hi, f"Updated {r['Updated']} is not when we pushed")
        self.assertNotIn("Updated", self.text_rows(self.get(QUERY, net="BW"))[0])
        doc = json.loads(self.ok(self.get(QUERY, net="BW,XX", show="latestupdate", format="json")).text)
        updated = {d["network"]: ns_from_iso(d["updated"]) for d in doc["datasources"]}
        self.assertLessEqual(updated["XX"], updated["BW"])

    def test_quality_selects_and_merge_quality_drops_the_column(self):
        self.assertEqual(len(self.text_rows(self.get(QUERY, net="IU", sta="COLA", quality="M"))), 3)
        resp = self.get(QUERY, net="IU", sta="COLA", quality="D")
        self.assertEqual(resp.status_code, 204, resp.text[:300])
        rows = self.text_rows(self.get(QUERY, net="IU", sta="COLA", merge="quality"))
        self.assertEqual(len(rows), 3)
        self.assertNotIn("Quality", rows[0])

    def test_window_trims_the_spans(self):
        g = sorted(self.records[GAPS], key=lambda r: r.start_ns)
        t0, t1 = g[1].start_ns + NS // 2, g[50].start_ns
        rows = self.text_rows(self.get(QUERY, net="BW", start=iso(t0), end=iso(t1)))
        self.assertEqual(len(rows), 3, rows)  # spans 2, 3 and the start of 4
        self.assertEqual(ns_from_iso(rows[0]["Earliest"]), t0 // 1000 * 1000, "first span is cut to the window")
        self.assertLessEqual(ns_from_iso(rows[-1]["Latest"]), t1, "last span is cut to the window")

    # --- no data and errors -------------------------------------------------

    def test_no_data_is_204_or_404(self):
        for path in (QUERY, EXTENT):
            with self.subTest(path=path):
                resp = self.get(path, net="BW", start="2001-01-01", end="2001-01-02")
                self.assertEqual(resp.status_code, 204, resp.text[:300])
                self.assertEqual(resp.content, b"")
                check_error_document(self, self.get(path, net="BW", start="2001-01-01", end="2001-01-02",
                                                    nodata="404"), 404)

    def test_bad_parameters_are_400(self):
        for params, needle in ((dict(bogus="1"), "bogus"), (dict(format="xml"), "format"),
                               (dict(merge="everything"), "merge"), (dict(orderby="random"), "orderby"),
                               (dict(start="2008-13-01"), ""), (dict(limit="-1"), "limit"),
                               (dict(start="2008-01-02", end="2008-01-01"), "")):
            with self.subTest(**params):
                check_error_document(self, self.get(QUERY, net="BW", **params), 400, *([needle] if needle else []))


if __name__ == "__main__":
    unittest.main()
