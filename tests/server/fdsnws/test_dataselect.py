"""fdsnws-dataselect 1 against a real seisvaultd filled through the real ingest path.

Run (from anywhere)::

    env SEISVAULTD=<build>/server/seisvaultd SEISVAULT=<build>/client/seisvault \\
        /usr/bin/python3 -m unittest discover -s <repo>/tests/server/fdsnws -v

The expectations are computed here from the corpus files themselves (their
miniSEED 2 fixed headers, read with struct): a record overlaps a window when
it starts no later than the window's end and its last sample is no earlier
than the window's start; the answer is every such record, byte-identical to
the corpus, in NET.STA.LOC.CHA then start-time order.
"""

import unittest
import urllib.error
import urllib.request

from fdsnws_support import (BALST, GAPS, KW1, MIXED, MSEED_CONTENT_TYPE, NS, REFERENCE_FILES, Seisvaultd,
                            check_error_document, corpus_dir, corpus_records, iso, manifest, ns_from_iso,
                            push_checked, require_environment, segments, select, split_records)

QUERY = "/fdsnws/dataselect/1/query"


class DataselectCase(unittest.TestCase):
    """Shared helpers: comparisons of a response with the records we expect."""

    server: Seisvaultd
    corpus: list = []
    by_raw: dict = {}

    def query(self, **params):
        return self.server.get(QUERY, params=params)

    def raw_query(self, query_string: str):
        """GET with the query string exactly as given (no encoding by requests)."""
        return self.server.get(QUERY + "?" + query_string)

    def expect(self, **kw):
        return select(self.corpus, **kw)

    def assertRecords(self, resp, expected, what=""):
        self.assertTrue(expected, f"{what}: the test expects no record; use assertNoData")
        self.assertEqual(resp.status_code, 200,
                         f"{what}: HTTP {resp.status_code} for {resp.url}, want 200 with {len(expected)} records:\n"
                         f"{resp.text[:800]}")
        ctype = resp.headers.get("Content-Type", "")
        self.assertEqual(ctype.split(";")[0].strip(), MSEED_CONTENT_TYPE, f"{what}: Content-Type {ctype!r}")
        got = split_records(resp.content, "response")
        if [g.raw for g in got] == [e.raw for e in expected]:
            return
        lines = [f"{what}: {resp.url}", f"got {len(got)} records, want {len(expected)}"]
        for i in range(max(len(got), len(expected))):
            g = got[i] if i < len(got) else None
            e = expected[i] if i < len(expected) else None
            if g is not None and e is not None and g.raw == e.raw:
                continue
            gd = "-" if g is None else (self.by_raw[g.raw].describe() if g.raw in self.by_raw
                                        else g.describe() + " NOT BYTE-IDENTICAL TO ANY CORPUS RECORD")
            lines.append(f"  first difference at #{i}: got {gd}")
            lines.append(f"  {' ' * len(str(i))}                   want {'-' if e is None else e.describe()}")
            break
        extra = {g.raw for g in got} - {e.raw for e in expected}
        missing = [e for e in expected if e.raw not in {g.raw for g in got}]
        if extra:
            lines.append(f"  {len(extra)} unexpected, e.g. " + "; ".join(
                (self.by_raw[r].describe() if r in self.by_raw else "unknown bytes") for r in list(extra)[:3]))
        if missing:
            lines.append(f"  {len(missing)} missing, e.g. " + "; ".join(m.describe() for m in missing[:3]))
        if len({g.raw for g in got}) != len(got):
            lines.append("  some records are repeated")
        self.fail("\n".join(lines))

    def assertNoData(self, resp, what="", nodata=204):
        if nodata == 204:
            self.assertEqual(resp.status_code, 204,
                             f"{what}: HTTP {resp.status_code} for {resp.url}, want 204 (no data): {resp.text[:400]!r}")
            self.assertEqual(resp.content, b"", f"{what}: a 204 must have an empty body")
        else:
            check_error_document(self, resp, 404)


class DataselectTest(DataselectCase):
    """One server, the whole corpus pushed once (corrupt files are rejected on purpose)."""

    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd()
        cls.addClassCleanup(cls.server.close)
        out = push_checked(cls.server, corpus_dir(), allow_rejects=True)
        assert "stored" in out, out
        cls.files = {f: corpus_records(f) for f in REFERENCE_FILES}
        cls.corpus = [r for f in REFERENCE_FILES for r in cls.files[f]]
        cls.by_raw = {}
        for r in cls.corpus:
            cls.by_raw.setdefault(r.raw, r)
        cls.balst_lhe = sorted((r for r in cls.files[BALST] if r.channel == "LHE"), key=lambda r: r.start_ns)
        cls.gaps = sorted(cls.files[GAPS], key=lambda r: r.start_ns)

    # --- the corpus as stored ---------------------------------------------

    def test_reference_channels_hold_exactly_the_reference_records(self):
        # Every channel of the reference files, over its whole extent: the
        # records of those files, nothing more (no record of another corpus
        # file, no repeat), byte-identical, in start-time order.
        by_channel = {}
        for r in self.corpus:
            by_channel.setdefault(r.source_id, []).append(r)
        for sid, recs in sorted(by_channel.items()):
            net, sta, loc, cha = sid.split(".")
            t0 = min(r.start_ns for r in recs) - NS
            t1 = max(r.last_ns for r in recs) + NS
            with self.subTest(channel=sid):
                resp = self.query(net=net, sta=sta, loc=loc or "--", cha=cha, start=iso(t0), end=iso(t1))
                self.assertRecords(resp, self.expect(net=net, sta=sta, loc=loc or "--", cha=cha,
                                                     start_ns=t0, end_ns=t1), sid)

    def test_corpus_quality_indicators_match_the_manifest(self):
        # The quality tests rely on header byte 6 differing between files.
        m = manifest()
        for f in REFERENCE_FILES:
            self.assertEqual({r.quality for r in self.files[f]}, set(m[f]["quality"].split(",")), f)

    # --- parameters and aliases ---------------------------------------------

    def test_long_and_short_parameter_names_select_the_same_records(self):
        t0 = self.gaps[3].start_ns
        t1 = self.gaps[10].last_ns
        want = self.expect(net="BW", sta="BGLD", loc="--", cha="EHE", start_ns=t0, end_ns=t1)
        self.assertEqual(len(want), 8)
        for names in (("network", "station", "location", "channel", "starttime", "endtime"),
                      ("net", "sta", "loc", "cha", "start", "end"),
                      ("network", "sta", "location", "cha", "start", "endtime"),
                      ("net", "station", "loc", "channel", "starttime", "end")):
            params = dict(zip(names, ("BW", "BGLD", "--", "EHE", iso(t0), iso(t1))))
            with self.subTest(names=names):
                self.assertRecords(self.query(**params), want, " ".join(names))

    def test_blank_location_is_selected_with_double_dash(self):
        day = dict(start="2025-11-10T00:00:00", end="2025-11-10T01:00:00")
        t0, t1 = ns_from_iso(day["start"]), ns_from_iso(day["end"])
        want = self.expect(net="CH", sta="BALST", loc="--", cha="*", start_ns=t0, end_ns=t1)
        self.assertEqual({r.source_id for r in want}, {"CH.BALST..LHE", "CH.BALST..LHZ"})
        self.assertRecords(self.query(net="CH", loc="--", **day), want, "loc=--")
        self.assertRecords(self.query(net="CH", loc="--,00", **day), want, "loc=--,00")
        self.assertNoData(self.query(net="CH", loc="00", **day), "CH has no location 00")
        # IU's channels all have a location code: '--' selects none of them.
        self.assertNoData(self.query(net="IU", loc="--", start="2010-02-27T06:30:00", end="2010-02-27T08:00:00"),
                          "IU with loc=--")

    def test_wildcards_and_comma_lists_select_matching_channels(self):
        start, end = "2010-02-27T06:30:00", "2010-02-27T06:31:00"
        t0, t1 = ns_from_iso(start), ns_from_iso(end)
        cases = [
            dict(net="IU", sta="A?K"),
            dict(net="IU", sta="A*"),
            dict(net="I?", sta="ANMO", loc="1?"),
            dict(net="IU", sta="ADK,AFI", loc="00"),
            dict(net="IU", sta="ANMO,ANTO,NONE", loc="00,10", cha="BH?"),
            dict(net="IU", sta="*", loc="*0", cha="B*Z"),
            dict(net="IU,CH", sta="AFI", cha="*"),
            dict(net="*", sta="AN*", loc="10", cha="BHZ,LHZ"),
        ]
        for sel in cases:
            want = self.expect(**sel, start_ns=t0, end_ns=t1)
            with self.subTest(**sel):
                self.assertRecords(self.query(**sel, start=start, end=end), want, str(sel))
                # '*' and ',' unencoded in the URL, as a browser or curl sends them ('?': next test).
                qs = "&".join(f"{k}={v.replace('?', '%3F')}" for k, v in sel.items()) + f"&start={start}&end={end}"
                self.assertRecords(self.raw_query(qs), want, qs)
        self.assertNoData(self.query(net="IU", sta="Z*", start=start, end=end), "sta=Z*")
        self.assertNoData(self.query(net="IU", sta="AD", start=start, end=end), "sta=AD (no implicit wildcard)")

    def test_unencoded_question_mark_wildcard_in_the_url_is_accepted(self):
        # RFC 3986 allows '?' in a query string, and the FDSN documentation's example URLs write
        # "cha=BH?" as is (curl and browsers send it so); ObsPy sends %3F.
        start, end = "2010-02-27T06:30:00", "2010-02-27T06:31:00"
        want = self.expect(net="IU", sta="A?K", cha="BH?", start_ns=ns_from_iso(start), end_ns=ns_from_iso(end))
        qs = f"net=IU&sta=A?K&cha=BH?&start={start}&end={end}"
        self.assertRecords(self.raw_query(qs), want, qs)

    def test_time_formats_are_accepted_with_and_without_fraction_and_z(self):
        sel = dict(net="BW", sta="BGLD", loc="--", cha="EHE")
        for start, end in (("2008-01-01T00:00:05.500000", "2008-01-01T00:00:12.250000"),  # ObsPy: six digits, no Z
                           ("2008-01-01T00:00:05.500000Z", "2008-01-01T00:00:12.250000Z"),
                           ("2008-01-01T00:00:05", "2008-01-01T00:00:12"),
                           ("2008-01-01T00:00:05Z", "2008-01-01T00:00:12Z"),
                           ("2008-01-01", "2008-01-01T00:00:03"),   # a date is its midnight
                           ("2007-12-31", "2008-01-01")):
            want = self.expect(**sel, start_ns=ns_from_iso(start), end_ns=ns_from_iso(end))
            with self.subTest(start=start, end=end):
                self.assertRecords(self.query(**sel, start=start, end=end), want, f"{start}..{end}")
                self.assertRecords(self.query(**sel, starttime=start, endtime=end), want, f"{start}..{end}")

    def test_open_ended_windows_reach_the_data_s_ends(self):
        # No endtime: to the end of the data; no starttime: from its start.
        sel = dict(net="BW", sta="BGLD", loc="--", cha="EHE")
        t = self.gaps[100].start_ns
        self.assertRecords(self.query(**sel, start=iso(t)), self.expect(**sel, start_ns=t), "start only")
        self.assertRecords(self.query(**sel, end=iso(t)), self.expect(**sel, end_ns=t), "end only")
        self.assertRecords(self.query(**sel), self.gaps, "no time")

    def test_quality_selects_records_by_header_quality_indicator(self):
        # IU.COLA.00 (3-channel file) is M, XX.TEST.00.LHZ (mixed lengths) is R, in the same hour.
        start, end = "2010-02-27T06:45:00", "2010-02-27T07:00:00"
        t0, t1 = ns_from_iso(start), ns_from_iso(end)
        sel = dict(net="IU,XX", sta="COLA,TEST", loc="00")
        everything = self.expect(**sel, start_ns=t0, end_ns=t1)
        self.assertEqual({r.quality for r in everything}, {"M", "R"})
        for q in ("M", "R"):
            with self.subTest(quality=q):
                want = self.expect(**sel, start_ns=t0, end_ns=t1, quality=q)
                resp = self.query(**sel, start=start, end=end, quality=q)
                self.assertRecords(resp, want, f"quality={q}")
                self.assertEqual({chr(r.raw[6]) for r in split_records(resp.content)}, {q})
        self.assertRecords(self.query(**sel, start=start, end=end, quality="B"), everything, "quality=B")
        self.assertRecords(self.query(**sel, start=start, end=end), everything, "no quality (default B)")
        for q in ("D", "Q"):
            with self.subTest(quality=q):
                self.assertNoData(self.query(**sel, start=start, end=end, quality=q), f"quality={q}")
        # CH.BALST is D.
        day = dict(start="2025-11-10T00:00:00", end="2025-11-10T00:30:00")
        self.assertRecords(self.query(net="CH", quality="D", **day),
                           self.expect(net="CH", start_ns=ns_from_iso(day["start"]),
                                       end_ns=ns_from_iso(day["end"])), "CH quality=D")
        self.assertNoData(self.query(net="CH", quality="M", **day), "CH quality=M")

    def gap_segments(self):
        segs = segments(self.gaps)
        self.assertEqual(len(segs), 4, "obspy__gaps.mseed: the manifest says 4 segments (3 gaps)")
        return segs  # lengths 2.055 s, 4.115 s, 4.115 s, 253.335 s

    def test_minimumlength_keeps_only_long_enough_continuous_spans(self):
        segs = self.gap_segments()
        sel = dict(net="BW", sta="BGLD", loc="--", cha="EHE")
        whole = dict(start="2007-12-31T23:59:00", end="2008-01-01T00:10:00")
        cases = [("0", [0, 1, 2, 3]), ("3", [1, 2, 3]), ("3.0", [1, 2, 3]), ("10", [3]), ("200.5", [3])]
        for minlen, keep in cases:
            want = sorted((r for i in keep for r in segs[i]), key=lambda r: r.start_ns)
            with self.subTest(minimumlength=minlen):
                self.assertRecords(self.query(**sel, **whole, minimumlength=minlen), want,
                                   f"minimumlength={minlen}")
        self.assertNoData(self.query(**sel, **whole, minimumlength="300"), "minimumlength=300")
        # In a window: spans are what lies in it (the first segment is cut to 1.97 s).
        window = dict(start="2008-01-01T00:00:00", end="2008-01-01T00:00:30")
        first = {r.raw for r in segs[0]}
        want = [r for r in self.expect(**sel, start_ns=ns_from_iso(window["start"]),
                                       end_ns=ns_from_iso(window["end"])) if r.raw not in first]
        self.assertRecords(self.query(**sel, **window, minimumlength="4"), want, "minimumlength=4 in a window")

    def test_longestonly_keeps_the_longest_continuous_span(self):
        segs = self.gap_segments()
        sel = dict(net="BW", sta="BGLD", loc="--", cha="EHE")
        whole = dict(start="2007-12-31T23:59:00", end="2008-01-01T00:10:00")
        self.assertRecords(self.query(**sel, **whole, longestonly="true"), segs[3], "longestonly=true")
        self.assertRecords(self.query(**sel, **whole, longestonly="false"), self.gaps, "longestonly=false")
        window = dict(start="2008-01-01T00:00:05", end="2008-01-01T00:00:30")
        want = [r for r in segs[3] if r.start_ns <= ns_from_iso(window["end"])]
        self.assertRecords(self.query(**sel, **window, longestonly="true"), want, "longestonly in a window")
        # Per channel: each keeps its own longest span. XX.KW1's longest is its first record, which the
        # second record overlaps: the answer is the records overlapping that span (both).
        kw1 = sorted(self.files[KW1], key=lambda r: r.start_ns)
        kw1_segs = segments(kw1)
        self.assertEqual(len(kw1_segs), 3, "the manifest says 3 segments (1 gap, 1 overlap)")
        longest = max(kw1_segs, key=lambda s: max(r.last_ns for r in s) - s[0].start_ns)
        kw1_want = self.expect(net="XX", sta="KW1", start_ns=longest[0].start_ns,
                               end_ns=max(r.last_ns for r in longest))
        self.assertEqual(len(kw1_want), 2)
        body = ("longestonly=TRUE\n"
                "XX KW1 01 001 2015-10-09T00:00:00.000000 2015-10-10T00:00:00.000000\n"
                "BW BGLD -- EHE 2007-12-31T00:00:00.000000 2008-01-02T00:00:00.000000\n")
        resp = self.server.post(QUERY, body.encode(), headers={"Content-Type": "text/plain"})
        self.assertRecords(resp, segs[3] + kw1_want, "longestonly over two channels (POST)")

    def test_booleans_are_accepted_in_any_case(self):
        segs = self.gap_segments()
        sel = dict(net="BW", sta="BGLD", loc="--", cha="EHE", start="2007-12-31T23:59:00", end="2008-01-01T00:10:00")
        for value in ("true", "TRUE", "True", "tRuE"):
            with self.subTest(longestonly=value):
                self.assertRecords(self.query(**sel, longestonly=value), segs[3], f"longestonly={value}")
        for value in ("false", "FALSE", "False"):
            with self.subTest(longestonly=value):
                self.assertRecords(self.query(**sel, longestonly=value), self.gaps, f"longestonly={value}")
        check_error_document(self, self.query(**sel, longestonly="yes"), 400, "longestonly")

    def test_format_miniseed_is_accepted(self):
        sel = dict(net="BW", sta="BGLD", start=iso(self.gaps[0].start_ns), end=iso(self.gaps[2].last_ns))
        want = self.gaps[:3]
        self.assertRecords(self.query(**sel, format="miniseed"), want, "format=miniseed")

    def test_nodata_204_gives_an_empty_body(self):
        far = dict(net="BW", start="2001-01-01", end="2001-01-02")
        self.assertNoData(self.query(**far), "default nodata")
        self.assertNoData(self.query(**far, nodata="204"), "nodata=204")

    def test_nodata_404_gives_the_error_document(self):
        resp = self.query(net="BW", start="2001-01-01", end="2001-01-02", nodata="404")
        check_error_document(self, resp, 404)
        resp = self.query(net="NOPE", start="2008-01-01", end="2008-01-02", nodata="404")
        check_error_document(self, resp, 404)

    # --- POST ---------------------------------------------------------------

    def bulk_lines(self):
        """Two channels, listed out of source-id order (CH before BW), and what they must return."""
        c0, c1 = self.balst_lhe[50].start_ns + NS // 2, self.balst_lhe[53].last_ns
        g0, g1 = self.gaps[5].start_ns, self.gaps[9].last_ns
        lines = [f"CH BALST -- LHE {iso(c0)} {iso(c1)}", f"BW BGLD -- EHE {iso(g0)} {iso(g1)}"]
        want = (self.expect(net="BW", sta="BGLD", loc="--", cha="EHE", start_ns=g0, end_ns=g1)
                + self.expect(net="CH", sta="BALST", loc="--", cha="LHE", start_ns=c0, end_ns=c1))
        self.assertEqual(len(want), 5 + 4)
        return lines, want

    def post(self, body: str, content_type: str = "text/plain"):
        return self.server.post(QUERY, body.encode(), headers={"Content-Type": content_type})

    def test_post_with_key_value_lines_first(self):
        lines, want = self.bulk_lines()
        body = "quality=B\nminimumlength=0.0\nlongestonly=false\nformat=miniseed\nnodata=404\n" + "\n".join(lines) + "\n"
        self.assertRecords(self.post(body), want, "POST with key=value lines")
        body = "quality=M\nnodata=404\n" + "\n".join(lines) + "\n"
        check_error_document(self, self.post(body), 404)

    def test_post_without_key_value_lines(self):
        lines, want = self.bulk_lines()
        self.assertRecords(self.post("\n".join(lines) + "\n"), want, "POST without key=value lines")

    def test_post_last_line_without_newline(self):
        lines, want = self.bulk_lines()
        self.assertRecords(self.post("\n".join(lines)), want, "POST, no final newline")
        self.assertRecords(self.post("quality=D\n" + "\r\n".join(lines)), want, "POST, CRLF, no final newline")

    def test_post_form_urlencoded_like_urllib(self):
        # What Python's urllib (ObsPy's get_waveforms_bulk) sends: data= without a Content-Type header
        # goes out as application/x-www-form-urlencoded; the body is still the bulk text.
        lines, want = self.bulk_lines()
        body = ("quality=B\n" + "\n".join(lines)).encode()
        req = urllib.request.Request(self.server.base + QUERY, data=body)
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.assertEqual(req.get_header("Content-type"), "application/x-www-form-urlencoded")
            self.assertEqual(resp.status, 200)
            self.assertEqual(resp.headers.get_content_type(), MSEED_CONTENT_TYPE)
            got = split_records(resp.read(), "urllib response")
        self.assertEqual([g.raw for g in got], [w.raw for w in want],
                         f"urllib POST: got {[g.describe() for g in got]}")
        self.assertRecords(self.post("\n".join(lines), "application/x-www-form-urlencoded"), want,
                           "POST as application/x-www-form-urlencoded")

    def test_post_text_plain(self):
        lines, want = self.bulk_lines()
        self.assertRecords(self.post("\n".join(lines) + "\n", "text/plain"), want, "POST text/plain")
        self.assertRecords(self.post("\n".join(lines) + "\n", "text/plain; charset=utf-8"), want,
                           "POST text/plain; charset=utf-8")

    def test_post_overlapping_lines_return_each_record_once(self):
        g = self.gaps
        lines = [f"BW BGLD -- EHE {iso(g[20].start_ns)} {iso(g[30].last_ns)}",
                 f"BW BGLD -- EHE {iso(g[25].start_ns)} {iso(g[40].last_ns)}",
                 f"BW BGLD -- E?E {iso(g[22].start_ns)} {iso(g[24].last_ns)}"]
        self.assertRecords(self.post("\n".join(lines)), g[20:41], "overlapping POST lines")

    def test_post_with_wildcards(self):
        t0, t1 = "2010-02-27T06:30:10.000000", "2010-02-27T06:30:20.000000"
        body = f"IU A* * BH? {t0} {t1}\nIU ANMO 10 BHZ {t0} {t1}"
        want = self.expect(net="IU", sta="A*", cha="BH?", start_ns=ns_from_iso(t0), end_ns=ns_from_iso(t1))
        self.assertRecords(self.post(body), want, "POST with wildcards")

    def test_post_with_nothing_matching_is_no_data(self):
        self.assertNoData(self.post("BW BGLD -- EHE 2001-01-01T00:00:00 2001-01-02T00:00:00"), "POST no data")
        check_error_document(self, self.post("nodata=404\nBW BGLD -- EHE 2001-01-01T00:00:00 2001-01-02T00:00:00"),
                             404)

    def test_post_errors_are_400(self):
        line = "BW BGLD -- EHE 2008-01-01T00:00:00 2008-01-01T00:00:10"
        for body, needle in ((f"bogus=1\n{line}", "bogus"),
                             (f"{line}\nquality=D", ""),                 # key=value after a selection line
                             ("BW BGLD -- EHE 2008-01-01T00:00:00", ""),  # five fields
                             ("BW BGLD -- EHE 2008-13-01T00:00:00 2008-01-01T00:00:10", ""),
                             ("BW BGLD -- EHE 2008-01-02T00:00:00 2008-01-01T00:00:00", ""),  # end before start
                             ("quality=D\n", "")):                          # no selection line
            with self.subTest(body=body):
                check_error_document(self, self.post(body), 400, *([needle] if needle else []))

    # --- status codes -------------------------------------------------------

    def test_200_has_the_fdsn_mseed_content_type(self):
        resp = self.query(net="CH", sta="BALST", cha="LHZ", start="2025-11-10T12:00:00", end="2025-11-10T12:10:00")
        self.assertEqual(resp.status_code, 200, resp.text[:400])
        self.assertEqual(resp.headers["Content-Type"].split(";")[0], MSEED_CONTENT_TYPE)
        self.assertTrue(resp.content)

    def test_unknown_parameter_is_400(self):
        check_error_document(self, self.query(net="BW", start="2008-01-01", end="2008-01-02", bogus="1"), 400,
                             "bogus")
        # station's parameters are not dataselect's
        check_error_document(self, self.query(net="BW", start="2008-01-01", end="2008-01-02", level="channel"),
                             400, "level")

    def test_repeated_parameter_is_400(self):
        check_error_document(self, self.raw_query("net=BW&net=CH&start=2008-01-01&end=2008-01-02"), 400, "net")
        # A name and its alias are the same parameter.
        check_error_document(self, self.raw_query("network=BW&net=BW&start=2008-01-01&end=2008-01-02"), 400)
        check_error_document(self, self.raw_query("net=BW&starttime=2008-01-01&start=2008-01-01"), 400)

    def test_bad_time_is_400(self):
        for bad in ("2008-13-01", "2008-01-32T00:00:00", "2008-01-01T25:00:00", "yesterday", "2008/01/01",
                    "2008-01-01T00:00:00+01:00", "1199145600", ""):
            with self.subTest(starttime=bad):
                check_error_document(self, self.query(net="BW", start=bad, end="2008-01-02"), 400)

    def test_end_before_start_is_400(self):
        check_error_document(self, self.query(net="BW", start="2008-01-02", end="2008-01-01"), 400)

    def test_bad_quality_nodata_format_minimumlength_are_400(self):
        base = dict(net="BW", start="2008-01-01", end="2008-01-01T00:01:00")
        for extra, needle in ((dict(quality="X"), "quality"), (dict(quality="d"), "quality"),
                              (dict(nodata="500"), "nodata"), (dict(nodata="abc"), "nodata"),
                              (dict(format="sac"), "format"), (dict(format="text"), "format"),
                              (dict(minimumlength="ten"), "minimumlength"),
                              (dict(minimumlength="-1"), "minimumlength")):
            with self.subTest(**extra):
                check_error_document(self, self.query(**base, **extra), 400, needle)

    # --- byte-identical records and windows ---------------------------------

    def test_window_inside_one_record_returns_that_record(self):
        r = self.balst_lhe[200]
        t0, t1 = r.start_ns + NS // 2, r.last_ns - NS // 2
        self.assertRecords(self.query(net="CH", sta="BALST", loc="--", cha="LHE", start=iso(t0), end=iso(t1)),
                           [r], "window inside one record")
        # Both channels: LHZ's records overlapping the same window follow LHE's.
        want = self.expect(net="CH", sta="BALST", cha="LH?", start_ns=t0, end_ns=t1)
        self.assertEqual(want[0].raw, r.raw)
        self.assertRecords(self.query(net="CH", sta="BALST", cha="LH?", start=iso(t0), end=iso(t1)), want,
                           "window inside one record, two channels")
        # A zero-length window at one instant.
        self.assertRecords(self.query(net="CH", cha="LHE", start=iso(t0), end=iso(t0)), [r], "instant")

    def test_window_at_record_boundaries_is_inclusive(self):
        lhe = self.balst_lhe
        sel = dict(net="CH", sta="BALST", loc="--", cha="LHE")
        # From a record's first sample to another's last sample: exactly those records.
        self.assertRecords(self.query(**sel, start=iso(lhe[100].start_ns), end=iso(lhe[102].last_ns)),
                           lhe[100:103], "start of #100 .. last sample of #102")
        # A window ending at a record's first sample takes it; starting at one's last sample too.
        self.assertRecords(self.query(**sel, start=iso(lhe[99].last_ns), end=iso(lhe[103].start_ns)),
                           lhe[99:104], "last sample of #99 .. start of #103")
        # One microsecond inside those bounds: the neighbours drop out.
        self.assertRecords(self.query(**sel, start=iso(lhe[99].last_ns + 1000), end=iso(lhe[103].start_ns - 1000)),
                           lhe[100:103], "1 us inside the neighbours")
        # The first and the last record of the channel, at their own bounds.
        self.assertRecords(self.query(**sel, start=iso(lhe[0].start_ns), end=iso(lhe[0].start_ns)), lhe[:1],
                           "first sample of the channel")
        self.assertRecords(self.query(**sel, start=iso(lhe[-1].last_ns), end=iso(lhe[-1].last_ns)), lhe[-1:],
                           "last sample of the channel")
        # Same on the gaps file, with fractional start times (.915, .035, ...).
        g = self.gaps
        self.assertRecords(self.query(net="BW", cha="EHE", start=iso(g[0].last_ns), end=iso(g[1].start_ns)),
                           g[0:2], "BW #0 last sample .. #1 first sample (across a gap)")

    def test_window_outside_the_data_is_no_data(self):
        lhe = self.balst_lhe
        sel = dict(net="CH", sta="BALST", loc="--", cha="LHE")
        self.assertNoData(self.query(**sel, start=iso(lhe[0].start_ns - 3600 * NS),
                                     end=iso(lhe[0].start_ns - 1000)), "before the first record")
        self.assertNoData(self.query(**sel, start=iso(lhe[-1].last_ns + 1000),
                                     end=iso(lhe[-1].last_ns + 3600 * NS)), "after the last record")
        # In a gap of obspy__gaps.mseed (between 00:00:01.970 and 00:00:04.035).
        g = self.gaps
        self.assertNoData(self.query(net="BW", sta="BGLD", start=iso(g[0].last_ns + 1000),
                                     end=iso(g[1].start_ns - 1000)), "in a gap")

    def test_window_around_all_the_data_returns_every_record(self):
        sel = dict(net="CH", sta="BALST", loc="--")
        want = sorted(self.files[BALST], key=lambda r: (r.source_id, r.start_ns))
        self.assertRecords(self.query(**sel, start="2025-11-09", end="2025-11-12"), want, "all of CH.BALST")

    def test_response_order_is_source_id_then_start_time(self):
        # The wildcards file interleaves seven channels of two rates.
        t0, t1 = "2010-02-27T06:30:00", "2010-02-27T06:31:00"
        resp = self.query(net="IU", sta="A*", start=t0, end=t1)
        want = self.expect(net="IU", sta="A*", start_ns=ns_from_iso(t0), end_ns=ns_from_iso(t1))
        self.assertEqual(len(want), 54)
        self.assertRecords(resp, want, "seven interleaved channels")
        keys = [r.key() for r in split_records(resp.content)]
        self.assertEqual(keys, sorted(keys))
        # Mixed record lengths (128..8192 B, stored out of time order) come back whole, sorted by time.
        mixed = self.expect(net="XX", sta="TEST", loc="00", cha="LHZ", start_ns=ns_from_iso("2010-02-27T06:00:00"),
                            end_ns=ns_from_iso("2010-02-27T09:00:00"))
        self.assertEqual(sorted({r.reclen for r in mixed}), [128, 256, 512, 1024, 2048, 4096, 8192])
        self.assertRecords(self.query(net="XX", sta="TEST", loc="00", cha="LHZ", start="2010-02-27T06:00:00",
                                      end="2010-02-27T09:00:00"), mixed, "mixed lengths")


class RequestLimitTest(DataselectCase):
    """A server with small --max-request-records and --max-request-bytes: 413 past them."""

    MAX_RECORDS = 10
    MAX_BYTES = 6000

    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd("--max-request-records", str(cls.MAX_RECORDS),
                                "--max-request-bytes", str(cls.MAX_BYTES))
        cls.addClassCleanup(cls.server.close)
        push_checked(cls.server, corpus_dir() / BALST, corpus_dir() / MIXED)
        cls.corpus = corpus_records(BALST) + corpus_records(MIXED)
        cls.by_raw = {r.raw: r for r in cls.corpus}
        cls.lhe = sorted((r for r in cls.corpus if r.channel == "LHE"), key=lambda r: r.start_ns)

    def window(self, first, last):
        return dict(net="CH", sta="BALST", cha="LHE", start=iso(self.lhe[first].start_ns),
                    end=iso(self.lhe[last].last_ns))

    def test_at_the_record_limit_is_200(self):
        self.assertRecords(self.query(**self.window(0, 9)), self.lhe[0:10], "10 records of 512 B")

    def test_over_max_request_records_is_413_with_the_limit(self):
        body = check_error_document(self, self.query(**self.window(0, 10)), 413)
        self.assertRegex(body, rf"\b{self.MAX_RECORDS}\b", "the 413 message does not say the record limit")

    def test_over_max_request_bytes_is_413_with_the_limit(self):
        # 7 records (within the record limit) of 16256 bytes.
        resp = self.query(net="XX", sta="TEST", start="2010-02-27T06:00:00", end="2010-02-27T09:00:00")
        body = check_error_document(self, resp, 413)
        self.assertIn(str(self.MAX_BYTES), body, "the 413 message does not say the byte limit")

    def test_post_over_the_limit_is_413(self):
        w1, w2 = self.window(0, 5), self.window(20, 25)
        body = (f"CH BALST -- LHE {w1['start']} {w1['end']}\n"
                f"CH BALST -- LHE {w2['start']} {w2['end']}\n")
        resp = self.server.post(QUERY, body.encode(), headers={"Content-Type": "text/plain"})
        check_error_document(self, resp, 413, str(self.MAX_RECORDS))


class ServiceDescriptionTest(unittest.TestCase):
    """version, application.wadl (as ObsPy's WADLParser reads it) and ObsPy's discovery of absent services."""

    DATASELECT_PARAMETERS = ("starttime", "start", "endtime", "end", "network", "net", "station", "sta",
                             "location", "loc", "channel", "cha", "quality", "minimumlength", "longestonly",
                             "format", "nodata")
    STATION_PARAMETERS = ("starttime", "start", "endtime", "end", "startbefore", "startafter", "endbefore",
                          "endafter", "network", "net", "station", "sta", "location", "loc", "channel", "cha",
                          "minlatitude", "minlat", "maxlatitude", "maxlat", "minlongitude", "minlon",
                          "maxlongitude", "maxlon", "latitude", "lat", "longitude", "lon", "minradius",
                          "maxradius", "level", "includerestricted", "includeavailability", "updatedafter",
                          "matchtimeseries", "format", "nodata")

    @classmethod
    def setUpClass(cls):
        require_environment(needs_corpus=False)
        cls.server = Seisvaultd()
        cls.addClassCleanup(cls.server.close)

    def check_wadl(self, service: str, required: tuple):
        from lxml import etree
        resp = self.server.get(f"/fdsnws/{service}/1/application.wadl")
        self.assertEqual(resp.status_code, 200, resp.text[:400])
        self.assertIn("xml", resp.headers.get("Content-Type", ""))
        doc = etree.fromstring(resp.content)
        ns = {"w": "http://wadl.dev.java.net/2009/02"}
        self.assertEqual(doc.tag, "{http://wadl.dev.java.net/2009/02}application")
        bases = [r.get("base") for r in doc.xpath("/w:application/w:resources", namespaces=ns)]
        self.assertEqual(len(bases), 1, bases)
        self.assertIn(service, bases[0])
        self.assertTrue(bases[0].startswith(self.server.base), f"base {bases[0]!r} is not this server")
        # ObsPy takes the params of the GET method with id "query" (any resource).
        params = doc.xpath("//w:method[@name='GET'][@id='query']/w:request/w:param", namespaces=ns)
        names = [p.get("name") for p in params]
        self.assertTrue(params, "no GET method with id 'query' declaring parameters")
        missing = [n for n in required if n not in names]
        self.assertFalse(missing, f"{service} WADL does not declare {missing}")
        self.assertEqual(len(names), len(set(names)), f"parameters declared twice: {names}")
        for p in params:
            name, ptype = p.get("name"), p.get("type")
            with self.subTest(param=name):
                self.assertEqual(p.get("style"), "query")
                self.assertIsNotNone(ptype, f"{name} has no type")
                t = ptype.lower()
                kinds = [k for k in ("date", "string", "double", "float", "long", "int", "bool") if k in t]
                self.assertTrue(kinds, f"{name}: type {ptype!r} is none that ObsPy accepts")
                # ObsPy converts the default and every option with the type it picked (first match wins).
                kind = kinds[0]
                values = ([p.get("default")] if p.get("default") is not None else []) + \
                    [o.get("value") for o in p.xpath("w:option", namespaces=ns)]
                for v in values:
                    if kind in ("double", "float"):
                        float(v)
                    elif kind in ("long", "int"):
                        int(v)
                    elif kind == "bool":
                        self.assertIn(v.lower(), ("true", "false"), f"{name}: bool value {v!r}")
                    elif kind == "date":
                        ns_from_iso(v)
        return names

    def test_dataselect_wadl_declares_every_parameter_with_an_obspy_type(self):
        self.check_wadl("dataselect", self.DATASELECT_PARAMETERS)

    def test_station_wadl_declares_every_parameter_with_an_obspy_type(self):
        self.check_wadl("station", self.STATION_PARAMETERS)

    def test_availability_wadl_names_its_service(self):
        self.check_wadl("availability", ("starttime", "endtime", "network", "station", "location", "channel",
                                         "quality", "merge", "orderby", "limit", "format", "nodata"))

    # Values for parameters declared without a default or options, and the
    # companions some need to make sense alone.
    SAMPLE_VALUES = {"merge": "quality", "mergegaps": "1", "show": "latestupdate", "limit": "1",
                     "minimumlength": "1", "level": "channel"}
    COMPANIONS = {"latitude": {"longitude": "0"}, "lat": {"lon": "0"}, "longitude": {"latitude": "0"},
                  "lon": {"lat": "0"}, "minradius": {"lat": "0", "lon": "0"}, "maxradius": {"lat": "0", "lon": "0"}}

    def test_every_declared_parameter_is_accepted(self):
        # A client sends what the WADL declares (ObsPy checks its requests against it): each GET
        # resource must take each of its declared parameters. The store is empty: 204, never 400.
        from lxml import etree
        ns = {"w": "http://wadl.dev.java.net/2009/02"}
        for service in ("dataselect", "station", "availability"):
            resp = self.server.get(f"/fdsnws/{service}/1/application.wadl")
            self.assertEqual(resp.status_code, 200, f"{service}: {resp.text[:200]}")
            doc = etree.fromstring(resp.content)
            for method in doc.xpath("//w:resource/w:method[@name='GET'][w:request/w:param]", namespaces=ns):
                path = method.getparent().get("path")
                for p in method.xpath("w:request/w:param", namespaces=ns):
                    name, ptype = p.get("name"), (p.get("type") or "").lower()
                    options = [o.get("value") for o in p.xpath("w:option", namespaces=ns)]
                    value = p.get("default") or (options[0] if options else None) or self.SAMPLE_VALUES.get(name)
                    if value is None:
                        value = ("2010-02-27T06:30:00" if "date" in ptype else "1" if "int" in ptype or "long" in ptype
                                 else "1.0" if "double" in ptype or "float" in ptype else "true" if "bool" in ptype
                                 else "*")
                    params = {name: value, **self.COMPANIONS.get(name, {})}
                    with self.subTest(resource=f"{service}/{path}", **params):
                        r = self.server.get(f"/fdsnws/{service}/1/{path}", params=params)
                        self.assertIn(r.status_code, (200, 204),
                                      f"{service}/{path} declares {name} ({p.get('type')}) but answers "
                                      f"{r.status_code} to {name}={value}: {r.text[:300]!r}")

    def test_version_is_dot_separated_integers(self):
        for service in ("dataselect", "station", "availability"):
            with self.subTest(service=service):
                resp = self.server.get(f"/fdsnws/{service}/1/version")
                self.assertEqual(resp.status_code, 200)
                self.assertTrue(resp.headers.get("Content-Type", "").startswith("text/plain"))
                self.assertRegex(resp.text.strip(), r"^\d+(\.\d+)*$")
                self.assertTrue(resp.text.strip().startswith("1."), resp.text)

    def test_event_service_discovery_answers_non_200(self):
        # ObsPy's Client() fetches these in parallel: anything but 200 means "no event service".
        for path in ("/fdsnws/event/1/application.wadl", "/fdsnws/event/1/catalogs",
                     "/fdsnws/event/1/contributors", "/fdsnws/event/1/query", "/fdsnws/event/1/version"):
            with self.subTest(path=path):
                resp = self.server.get(path)
                self.assertEqual(resp.status_code, 404, f"{path}: {resp.status_code} {resp.text[:200]!r}")

    def test_get_without_data_is_no_data(self):
        resp = self.server.get(QUERY, params=dict(net="*", start="2020-01-01", end="2020-01-02"))
        self.assertEqual(resp.status_code, 204, resp.text[:300])
        self.assertEqual(resp.content, b"")

    def test_obspy_style_urllib_get(self):
        # ObsPy's requests: urllib, six fractional digits, no Z, long names; 204 when nothing matches.
        url = (self.server.base + QUERY + "?network=BW&station=BGLD&location=--&channel=EHE"
               "&starttime=2008-01-01T00:00:00.000000&endtime=2008-01-01T00:00:10.000000")
        with urllib.request.urlopen(url, timeout=30) as resp:
            self.assertEqual(resp.status, 204)
            self.assertEqual(resp.read(), b"")
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            urllib.request.urlopen(url + "&nodata=404", timeout=30)
        self.assertEqual(ctx.exception.code, 404)
        self.assertTrue(ctx.exception.read().decode().startswith("Error 404: "))


if __name__ == "__main__":
    unittest.main()
