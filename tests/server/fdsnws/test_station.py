"""fdsnws-station 1 against a real seisvaultd whose metadata come from a StationXML
file loaded with `seisvault inventory load` (while the server is stopped: the
tool opens the store).

The metadata are tests/data/stationxml/seisvault_test_inventory.xml (the
corpus' stations); what each query must select is computed here from that
file (codes, epochs, coordinates), so the tests follow it if it changes.
"""

import math
import subprocess
import tempfile
import unittest
from pathlib import Path

from lxml import etree

from fdsnws_support import (CLI_TIMEOUT_S, Seisvaultd, check_error_document, cli_binary, corpus_dir, ns_from_iso,
                            push_checked, require_environment, station_fixture)

QUERY = "/fdsnws/station/1/query"
SX = "http://www.fdsn.org/xml/station/1"
NSMAP = {"s": SX}

TEXT_HEADERS = {
    "network": "#Network|Description|StartTime|EndTime|TotalStations",
    "station": "#Network|Station|Latitude|Longitude|Elevation|SiteName|StartTime|EndTime",
    "channel": "#Network|Station|Location|Channel|Latitude|Longitude|Elevation|Depth|Azimuth|Dip|"
               "SensorDescription|Scale|ScaleFreq|ScaleUnits|SampleRate|StartTime|EndTime",
}
TEXT_HEADERS["response"] = TEXT_HEADERS["channel"]


def fixture_inventory(path: Path) -> dict:
    """The fixture as plain data: stations by (net, sta) with coordinates, restriction and channel epochs."""
    doc = etree.parse(str(path)).getroot()
    out = {}
    for net in doc.iterfind("s:Network", NSMAP):
        for sta in net.iterfind("s:Station", NSMAP):
            channels = []
            for cha in sta.iterfind("s:Channel", NSMAP):
                channels.append(dict(loc=cha.get("locationCode"), cha=cha.get("code"),
                                     start=ns_from_iso(cha.get("startDate")),
                                     end=ns_from_iso(cha.get("endDate")) if cha.get("endDate") else None,
                                     lat=float(cha.findtext("s:Latitude", namespaces=NSMAP)),
                                     lon=float(cha.findtext("s:Longitude", namespaces=NSMAP))))
            out[(net.get("code"), sta.get("code"))] = dict(
                lat=float(sta.findtext("s:Latitude", namespaces=NSMAP)),
                lon=float(sta.findtext("s:Longitude", namespaces=NSMAP)),
                restricted=sta.get("restrictedStatus") == "closed", channels=channels)
    return out


def great_circle_deg(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


class StationCase(unittest.TestCase):
    server: Seisvaultd

    def get(self, **params):
        return self.server.get(QUERY, params=params)

    def xml(self, what="", **params):
        resp = self.get(**params)
        self.assertEqual(resp.status_code, 200, f"{what}: HTTP {resp.status_code} for {resp.url}:\n{resp.text[:800]}")
        self.assertIn("xml", resp.headers.get("Content-Type", ""), resp.headers)
        return etree.fromstring(resp.content)

    def text(self, level, what="", **params):
        resp = self.get(format="text", level=level, **params)
        self.assertEqual(resp.status_code, 200, f"{what}: HTTP {resp.status_code} for {resp.url}:\n{resp.text[:800]}")
        self.assertTrue(resp.headers.get("Content-Type", "").startswith("text/plain"), resp.headers)
        lines = resp.text.splitlines()
        self.assertEqual(lines[0], TEXT_HEADERS[level], f"level={level}: text header")
        ncols = TEXT_HEADERS[level].count("|") + 1
        rows = [l.split("|") for l in lines[1:] if l.strip()]
        for r in rows:
            self.assertEqual(len(r), ncols, f"level={level}: line {'|'.join(r)!r} has {len(r)} fields, want {ncols}")
        return rows

    def stations_of(self, doc):
        return sorted((n.get("code"), s.get("code")) for n in doc.iterfind("s:Network", NSMAP)
                      for s in n.iterfind("s:Station", NSMAP))

    def channels_of(self, doc):
        return sorted((n.get("code"), s.get("code"), c.get("locationCode"), c.get("code"), c.get("startDate"))
                      for n in doc.iterfind("s:Network", NSMAP) for s in n.iterfind("s:Station", NSMAP)
                      for c in s.iterfind("s:Channel", NSMAP))


class StationWithoutMetadataTest(StationCase):
    """No StationXML loaded: every query is "no data", even with waveforms stored."""

    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd()
        cls.addClassCleanup(cls.server.close)
        push_checked(cls.server, corpus_dir() / "obspy__gaps.mseed")

    def test_without_metadata_every_query_is_no_data(self):
        for params in (dict(), dict(net="BW"), dict(level="channel"), dict(level="network", format="text"),
                       dict(net="BW", matchtimeseries="true", level="channel")):
            with self.subTest(**params):
                resp = self.get(**params)
                self.assertEqual(resp.status_code, 204, f"{resp.url}: {resp.status_code} {resp.text[:300]!r}")
                self.assertEqual(resp.content, b"")
        check_error_document(self, self.get(net="BW", nodata="404"), 404)


class StationTest(StationCase):
    """The corpus pushed, the fixture loaded with `seisvault inventory load`, the server restarted."""

    @classmethod
    def setUpClass(cls):
        require_environment()
        fixture = station_fixture()
        if not fixture.is_file():
            raise unittest.SkipTest(f"no StationXML fixture at {fixture}")
        probe = subprocess.run([str(cli_binary()), "inventory", "load", "--help"], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT_S)
        # (CLI11 answers --help with the top-level help, exit 0, for an unknown subcommand.)
        usage = next((l for l in (probe.stdout + probe.stderr).splitlines() if l.startswith("Usage:")), "")
        if probe.returncode != 0 or "inventory" not in usage or "load" not in usage:
            raise unittest.SkipTest(f"{cli_binary()} has no 'inventory load' yet ({usage.strip()[:120]!r})")
        cls.fixture = fixture_inventory(fixture)
        cls._tmp = tempfile.TemporaryDirectory(prefix="seisvault-fdsnws-station-")
        cls.addClassCleanup(cls._tmp.cleanup)
        data_dir = Path(cls._tmp.name) / "data"
        cls.server = Seisvaultd(data_dir=data_dir)
        cls.addClassCleanup(cls.server.stop)
        push_checked(cls.server, corpus_dir(), allow_rejects=True)
        cls.server.stop()
        load = subprocess.run([str(cli_binary()), "inventory", "load", "--data-dir", str(data_dir), str(fixture)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=CLI_TIMEOUT_S)
        if load.returncode != 0:
            raise AssertionError(f"seisvault inventory load exited {load.returncode}:\n{load.stdout}\n{load.stderr}")
        cls.server.start()

    # --- StationXML -----------------------------------------------------------

    def test_station_level_xml_is_valid_stationxml(self):
        doc = self.xml("default level")
        self.assertEqual(doc.tag, f"{{{SX}}}FDSNStationXML")
        self.assertTrue(doc.get("schemaVersion"), "no schemaVersion")
        self.assertTrue(doc.findtext("s:Source", namespaces=NSMAP), "no Source")
        created = doc.findtext("s:Created", namespaces=NSMAP)
        self.assertTrue(created, "no Created")
        ns_from_iso(created.strip())
        self.assertEqual(self.stations_of(doc), sorted(self.fixture))
        for sta in doc.iterfind("s:Network/s:Station", NSMAP):
            key = sta.getparent().get("code") + "." + sta.get("code")
            for tag in ("Latitude", "Longitude", "Elevation"):
                self.assertIsNotNone(sta.findtext(f"s:{tag}", namespaces=NSMAP), f"{key}: no {tag}")
                float(sta.findtext(f"s:{tag}", namespaces=NSMAP))
            self.assertTrue(sta.findtext("s:Site/s:Name", namespaces=NSMAP), f"{key}: no Site/Name")
            self.assertFalse(sta.findall("s:Channel", NSMAP), f"{key}: Channel at level=station")

    def test_network_level_lists_networks_only(self):
        doc = self.xml(level="network")
        self.assertEqual(sorted(n.get("code") for n in doc.iterfind("s:Network", NSMAP)),
                         sorted({n for n, _ in self.fixture}))
        self.assertFalse(doc.findall(".//s:Station", NSMAP), "Station at level=network")

    def test_channel_level_has_every_channel_epoch_without_responses(self):
        doc = self.xml(level="channel")
        want = sorted((n, s, c["loc"], c["cha"]) for (n, s), st in self.fixture.items() for c in st["channels"])
        self.assertEqual([x[:4] for x in self.channels_of(doc)], want)
        for c in doc.iterfind(".//s:Channel", NSMAP):
            what = f"{c.get('code')} loc {c.get('locationCode')!r}"
            self.assertIsNotNone(c.get("locationCode"), f"{what}: no locationCode")
            for tag in ("Latitude", "Longitude", "Elevation", "Depth"):
                self.assertIsNotNone(c.findtext(f"s:{tag}", namespaces=NSMAP), f"{what}: no {tag}")
            self.assertIsNone(c.find("s:Response", NSMAP), f"{what}: Response at level=channel")

    def test_response_level_includes_responses(self):
        doc = self.xml(level="response", net="IU", sta="COLA", loc="00", cha="LHZ")
        chans = doc.findall(".//s:Channel", NSMAP)
        self.assertEqual(len(chans), 1)
        value = chans[0].findtext("s:Response/s:InstrumentSensitivity/s:Value", namespaces=NSMAP)
        self.assertIsNotNone(value, "no Response/InstrumentSensitivity at level=response")
        self.assertEqual(float(value), 2.0e9)

    def test_uninterpreted_elements_are_kept(self):
        doc = self.xml(net="IU", sta="ANMO")
        sta = doc.find("s:Network/s:Station", NSMAP)
        self.assertEqual(sta.findtext("s:Identifier", namespaces=NSMAP), "10.7914/SN/IU")
        self.assertEqual(sta.findtext("s:Comment/s:Value", namespaces=NSMAP), "Test comment: kept as written")
        extra = sta.find("{https://seisvault.example.org/xml/test}Extra")
        self.assertIsNotNone(extra, "the element of another namespace was dropped")
        self.assertEqual(extra.text, "kept intact")

    # --- text ---------------------------------------------------------------------

    def test_text_headers_match_the_fdsn_format(self):
        nets = self.text("network")
        self.assertEqual(sorted(r[0] for r in nets), sorted({n for n, _ in self.fixture}))
        for r in nets:
            self.assertEqual(int(r[4]), sum(1 for n, _ in self.fixture if n == r[0]), f"TotalStations of {r[0]}")
        stas = self.text("station")
        self.assertEqual(sorted((r[0], r[1]) for r in stas), sorted(self.fixture))
        for r in stas:
            st = self.fixture[(r[0], r[1])]
            self.assertAlmostEqual(float(r[2]), st["lat"], places=5)
            self.assertAlmostEqual(float(r[3]), st["lon"], places=5)
            self.assertTrue(r[5], f"{r[0]}.{r[1]}: empty SiteName")
        chans = self.text("channel")
        want = sorted((n, s, c["loc"], c["cha"], c["start"]) for (n, s), st in self.fixture.items()
                      for c in st["channels"])
        self.assertEqual(sorted((r[0], r[1], r[2], r[3], ns_from_iso(r[15])) for r in chans), want)
        for r in chans:
            key = (r[0], r[1], r[2], r[3], ns_from_iso(r[15]))
            epoch = next(c for c in self.fixture[(r[0], r[1])]["channels"]
                         if (r[0], r[1], c["loc"], c["cha"], c["start"]) == key)
            if epoch["end"] is None:
                self.assertEqual(r[16], "", f"{key}: an open epoch has an empty EndTime")
            else:
                self.assertEqual(ns_from_iso(r[16]), epoch["end"])
        self.assertEqual(len(self.text("response")), len(chans))

    # --- selection ----------------------------------------------------------

    def test_code_filters_and_aliases(self):
        both = [dict(network="IU", station="COLA", location="10", channel="BHZ"),
                dict(net="IU", sta="COLA", loc="10", cha="BHZ"),
                dict(net="I?", sta="CO*", loc="1*", cha="B?Z")]
        for sel in both:
            with self.subTest(**sel):
                doc = self.xml(level="channel", **sel)
                self.assertEqual([c[:4] for c in self.channels_of(doc)], [("IU", "COLA", "10", "BHZ")])
        blank = self.channels_of(self.xml(level="channel", loc="--"))
        want = sorted((n, s, c["loc"], c["cha"]) for (n, s), st in self.fixture.items() for c in st["channels"]
                      if c["loc"] == "")
        self.assertEqual([c[:4] for c in blank], want)
        self.assertTrue(want)
        lists = self.stations_of(self.xml(net="CH,BW", sta="BALST,BGLD,NONE"))
        self.assertEqual(lists, [("BW", "BGLD"), ("CH", "BALST")])

    def test_time_filters_select_epochs(self):
        # IU.ANMO.00.BHZ: 2002-11-19 .. 2008-06-30T20:00:00, then open; IU.ANMO.10.BHZ from 2008-06-30T20:00:00.
        def epochs(**t):
            return [(c[2], c[4][:10]) for c in self.channels_of(self.xml(level="channel", net="IU", sta="ANMO", **t))]
        self.assertEqual(epochs(endtime="2005-01-01"), [("00", "2002-11-19")])
        self.assertEqual(epochs(end="2005-01-01T00:00:00"), [("00", "2002-11-19")])
        self.assertEqual(epochs(starttime="2009-01-01"), [("00", "2008-06-30"), ("10", "2008-06-30")])
        self.assertEqual(epochs(start="2009-01-01T00:00:00.000000"), [("00", "2008-06-30"), ("10", "2008-06-30")])
        self.assertEqual(sorted(epochs(start="2007-01-01", end="2010-01-01")),
                         [("00", "2002-11-19"), ("00", "2008-06-30"), ("10", "2008-06-30")])
        resp = self.get(net="IU", sta="ANMO", endtime="2001-01-01")
        self.assertEqual(resp.status_code, 204, resp.text[:300])

    def test_box_selects_stations_inside(self):
        box = dict(minlat=40, maxlat=55, minlon=0, maxlon=35)
        want = sorted(k for k, st in self.fixture.items()
                      if box["minlat"] <= st["lat"] <= box["maxlat"] and box["minlon"] <= st["lon"] <= box["maxlon"])
        self.assertGreaterEqual(len(want), 2)
        self.assertEqual(self.stations_of(self.xml(**box)), want)
        long_names = dict(minlatitude=40, maxlatitude=55, minlongitude=0, maxlongitude=35)
        self.assertEqual(self.stations_of(self.xml(**long_names)), want)
        self.assertEqual(self.stations_of(self.xml(minlat=60)), sorted(k for k, st in self.fixture.items()
                                                                       if st["lat"] >= 60))

    def test_radius_selects_stations_within_maxradius(self):
        balst = self.fixture[("CH", "BALST")]
        for radius in (1, 5, 30):
            want = sorted(k for k, st in self.fixture.items()
                          if great_circle_deg(balst["lat"], balst["lon"], st["lat"], st["lon"]) <= radius)
            with self.subTest(maxradius=radius):
                got = self.stations_of(self.xml(lat=balst["lat"], lon=balst["lon"], maxradius=radius))
                self.assertEqual(got, want)
                got = self.stations_of(self.xml(latitude=balst["lat"], longitude=balst["lon"], maxradius=radius))
                self.assertEqual(got, want)

    def test_matchtimeseries_drops_channels_without_data(self):
        # IU.COLA: data only for 00.LH1, 00.LH2, 00.LHZ (the 3-channel file); metadata for six channels.
        sel = dict(level="channel", net="IU", sta="COLA")
        everything = [c[2:4] for c in self.channels_of(self.xml(**sel))]
        self.assertEqual(len(everything), 6)
        matched = [c[2:4] for c in self.channels_of(self.xml(**sel, matchtimeseries="true"))]
        self.assertEqual(matched, [("00", "LH1"), ("00", "LH2"), ("00", "LHZ")])
        self.assertEqual([c[2:4] for c in self.channels_of(self.xml(**sel, matchtimeseries="FALSE"))], everything)
        # CH.BALST: both channels have data.
        self.assertEqual(len(self.channels_of(self.xml(level="channel", net="CH", matchtimeseries="True"))), 2)

    def test_includerestricted_false_drops_closed_stations(self):
        closed = sorted(k for k, st in self.fixture.items() if st["restricted"])
        self.assertTrue(closed)
        got = self.stations_of(self.xml(includerestricted="false"))
        self.assertEqual(got, sorted(k for k in self.fixture if k not in closed))

    # --- errors and no data ---------------------------------------------------

    def test_no_match_is_204_or_404(self):
        resp = self.get(net="ZZ")
        self.assertEqual(resp.status_code, 204, resp.text[:300])
        self.assertEqual(resp.content, b"")
        check_error_document(self, self.get(net="ZZ", nodata="404"), 404)

    def test_bad_parameters_are_400(self):
        for params, needle in ((dict(bogus="1"), "bogus"), (dict(level="everything"), "level"),
                               (dict(format="json"), "format"), (dict(minlat="north"), "minlat"),
                               (dict(minlat="100"), ""), (dict(start="2008-13-01"), ""),
                               (dict(start="2009-01-01", end="2008-01-01"), ""),
                               (dict(matchtimeseries="maybe"), "matchtimeseries")):
            with self.subTest(**params):
                check_error_document(self, self.get(**params), 400, *([needle] if needle else []))


if __name__ == "__main__":
    unittest.main()
