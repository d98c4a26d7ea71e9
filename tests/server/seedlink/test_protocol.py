"""seisvaultd's SeedLink face against a real server filled through ingest:
every command and reply of SeedLink 3.1 and 4.0, the quirks of real clients,
512-byte repacking for v3, INFO documents, dial-up and time windows."""

import json
import sys
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fdsnws"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fdsnws_support import (BALST, GAPS, MIXED, THREE_CHANNEL, Seisvaultd, corpus_dir, corpus_records,  # noqa: E402
                            parse_record, push_checked, require_environment)
from seedlink_client import SeedLinkClient  # noqa: E402

FILES = (BALST, GAPS, MIXED, THREE_CHANNEL)


class SeedLinkFace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_environment()
        cls.server = Seisvaultd()
        push_checked(cls.server, *[corpus_dir() / f for f in FILES])
        cls.records = {f: corpus_records(f) for f in FILES}

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def client(self) -> SeedLinkClient:
        return SeedLinkClient(self.server.seedlink)

    def originals(self, net, sta, cha=None):
        out = []
        for recs in self.records.values():
            out += [r for r in recs if r.network == net and r.station == sta and (cha is None or r.channel == cha)]
        return out

    # --- handshake ------------------------------------------------------------

    def test_hello_answers_two_lines_in_one_write_with_the_protocols(self):
        with self.client() as c:
            software, organization = c.hello()
        self.assertRegex(software, r"^SeedLink v4\.0 \(SeisVault/[\d.]+\) :: ")
        for flag in ("SLPROTO:4.0", "SLPROTO:3.1", "CAP", "EXTREPLY"):
            self.assertIn(flag, software.split("::")[1].split())
        self.assertEqual(organization, "SeisVault")

    def test_capabilities_extreply_is_ok_and_then_errors_say_why(self):
        with self.client() as c:
            c.hello()
            self.assertEqual(c.command("CAPABILITIES EXTREPLY"), "OK")
            # v3 extended reply (libslink reads it): "ERROR\r<CODE> <message>\r\n".
            reply = c.command("SELECT A@Z")
            self.assertTrue(reply.startswith("ERROR\rARGUMENTS "), repr(reply))
            self.assertIn("A@Z", reply)
            self.assertEqual(c.command("STATION BALST CH"), "OK")

    def test_unknown_commands_and_bad_arguments_are_answered_with_error(self):
        with self.client() as c:
            c.hello()
            self.assertEqual(c.command("FROB"), "ERROR")
            self.assertEqual(c.command("SELECT 12345678901"), "ERROR")
            self.assertEqual(c.command("STATION"), "ERROR")
            self.assertEqual(c.command("CAT"), "CAT command not implemented")
            c.slproto4()
            reply = c.command("FROB")
            self.assertTrue(reply.startswith("ERROR UNSUPPORTED"), reply)
            reply = c.command("SELECT")
            self.assertTrue(reply.startswith("ERROR ARGUMENTS"), reply)
            reply = c.command("TIME 2020,1,1,0,0,0")
            self.assertTrue(reply.startswith("ERROR UNSUPPORTED"), reply)
            reply = c.command("SLPROTO 5.0")
            self.assertTrue(reply.startswith("ERROR UNSUPPORTED"), reply)
            self.assertEqual(c.command("USERAGENT test-client/1.0 libslink/4.0"), "OK")
            c.send("BYE")
            self.assertTrue(c.closed_by_server())

    def test_an_overlong_line_is_refused_and_the_session_goes_on(self):
        with self.client() as c:
            c.hello()
            self.assertEqual(c.command("SELECT " + "A" * 400), "ERROR")
            self.assertEqual(c.command("STATION BALST CH"), "OK")

    def test_an_http_request_on_the_seedlink_port_is_refused_and_closed(self):
        with self.client() as c:
            c.send("GET / HTTP/1.1")
            self.assertTrue(c.read_line().startswith("ERROR"))
            self.assertTrue(c.closed_by_server())

    # --- v3 data --------------------------------------------------------------

    def test_v3_multi_station_feed_gives_the_station_records_in_sequence_order_byte_identical(self):
        want = {r.raw for r in self.originals("CH", "BALST", "LHZ")}
        with self.client() as c:
            c.hello()
            self.assertEqual(c.command("STATION BALST CH"), "OK")
            self.assertEqual(c.command("SELECT LHZ.D"), "OK")
            self.assertEqual(c.command("DATA 0x000001"), "OK")
            c.send("END")
            packets = c.read_packets(len(want))
        self.assertEqual({p.payload for p in packets}, want)
        seqs = [p.sequence for p in packets]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_obspy_style_bare_cr_runs_of_spaces_and_hex_sequences_are_accepted(self):
        n = len(self.originals("CH", "BALST"))
        with self.client() as c:
            c.send("HELLO", "\r")
            c.read_line(), c.read_line()
            self.assertEqual(c.command("STATION  BALST  CH", "\r"), "OK")
            self.assertEqual(c.command("SELECT   ??LH?", "\r"), "OK")
            self.assertEqual(c.command("DATA 0x1", "\r"), "OK")
            c.send("END", "\r")
            packets = c.read_packets(n)
        self.assertEqual(len({p.payload for p in packets}), n)

    def test_v3_uni_station_data_starts_at_once_without_an_answer(self):
        with self.client() as c:
            c.hello()
            self.assertEqual(c.command("SELECT --LHZ"), "OK")
            c.send("DATA 1")
            p = c.read_packet()
        self.assertEqual(p.kind, "data")
        rec = parse_record(p.payload)
        self.assertEqual((rec.location, rec.channel), ("", "LHZ"))

    def test_negated_selectors_leave_out_what_they_name(self):
        with self.client() as c:
            c.hello()
            c.command("STATION COLA IU")
            self.assertEqual(c.command("SELECT !00LHZ"), "OK")
            c.command("DATA 1")
            c.send("END")
            packets = c.read_packets(len(self.originals("IU", "COLA")) - len(self.originals("IU", "COLA", "LHZ")))
        self.assertNotIn("LHZ", {parse_record(p.payload).channel for p in packets})

    def test_v3_clients_get_512_byte_records_repacked_with_the_same_samples_and_times(self):
        originals = self.originals("XX", "TEST")
        self.assertTrue(any(r.reclen != 512 for r in originals))
        with self.client() as c:
            c.hello()
            c.command("STATION TEST XX")
            c.command("DATA 1")
            c.send("END")
            got = []
            while sum(parse_record(p.payload).nsamples for p in got) < sum(r.nsamples for r in originals):
                got += c.read_packets(1)
        for p in got:
            self.assertEqual(len(p.payload), 512)
        # Per original record (one sequence number each): same sample count, same first sample time.
        by_seq = {}
        for p in got:
            by_seq.setdefault(p.sequence, []).append(parse_record(p.payload))
        self.assertEqual(len(by_seq), len(originals))
        starts = sorted((r.start_ns, r.nsamples) for r in originals)
        pieces = sorted((ps[0].start_ns, sum(x.nsamples for x in ps)) for ps in by_seq.values())
        self.assertEqual(pieces, starts)

    def test_v4_clients_get_the_original_records_whatever_their_length(self):
        originals = {r.raw for r in self.originals("XX", "TEST")}
        with self.client() as c:
            c.hello()
            c.slproto4()
            self.assertEqual(c.command("STATION XX_TEST"), "OK")
            self.assertEqual(c.command("SELECT 00_L_H_Z"), "OK")
            self.assertEqual(c.command("DATA ALL"), "OK")
            c.send("END")
            packets = c.read_packets(len(originals))
        self.assertEqual({p.payload for p in packets}, originals)
        for p in packets:
            self.assertEqual((p.station, p.format, p.subformat), ("XX_TEST", "2", "D"))
        seqs = [p.sequence for p in packets]
        self.assertEqual(seqs, sorted(set(seqs)))

    def test_v4_wildcard_stations(self):
        with self.client() as c:
            c.hello()
            c.slproto4()
            self.assertEqual(c.command("STATION *_BAL*"), "OK")
            self.assertEqual(c.command("DATA ALL"), "OK")
            c.send("END")
            packets = c.read_packets(len(self.originals("CH", "BALST")))
        self.assertEqual({p.station for p in packets}, {"CH_BALST"})

    # --- dial-up and windows ----------------------------------------------------

    def test_fetch_sends_what_is_stored_then_end_and_closes(self):
        n = len(self.originals("BW", "BGLD"))
        with self.client() as c:
            c.hello()
            c.command("STATION BGLD BW")
            self.assertEqual(c.command("FETCH 0x1"), "OK")
            c.send("END")
            packets = c.read_until_end()
            self.assertTrue(c.closed_by_server())
        self.assertEqual(len(packets), n)

    def test_v4_endfetch(self):
        n = len(self.originals("BW", "BGLD"))
        with self.client() as c:
            c.hello()
            c.slproto4()
            c.command("STATION BW_BGLD")
            c.command("DATA ALL")
            c.send("ENDFETCH")
            self.assertEqual(len(c.read_until_end()), n)

    def test_time_windows_with_unpadded_fields_end_with_end(self):
        recs = sorted(self.originals("CH", "BALST", "LHZ"), key=lambda r: r.start_ns)
        mid = recs[len(recs) // 2]
        import datetime as dt
        t0 = dt.datetime.fromtimestamp(mid.start_ns / 1e9, dt.timezone.utc)
        t1 = t0 + dt.timedelta(minutes=30)
        fmt = lambda t: f"{t.year},{t.month},{t.day},{t.hour},{t.minute},{t.second}"  # not zero-padded
        begin_ns = int(t0.replace(microsecond=0).timestamp()) * 10**9
        end_ns = int(t1.replace(microsecond=0).timestamp()) * 10**9
        want = {r.raw for r in recs if r.last_ns >= begin_ns and r.start_ns <= end_ns}
        self.assertTrue(want)
        with self.client() as c:
            c.hello()
            c.command("STATION BALST CH")
            c.command("SELECT LHZ")
            self.assertEqual(c.command(f"TIME {fmt(t0)} {fmt(t1)}"), "OK")
            c.send("END")
            packets = c.read_until_end()
        self.assertEqual({p.payload for p in packets}, want)

    # --- INFO -----------------------------------------------------------------

    def test_v3_info_answers_are_xml_in_512_byte_text_records(self):
        with self.client() as c:
            c.hello()
            c.send("INFO CAPABILITIES")
            caps = ET.fromstring(c.read_info())
            self.assertIn("multistation", {e.get("name") for e in caps.iter("capability")})
            c.send("INFO ID")
            ET.fromstring(c.read_info())
            c.send("INFO STATIONS")
            stations = {(e.get("network"), e.get("name")) for e in ET.fromstring(c.read_info()).iter("station")}
            self.assertTrue({("CH", "BALST"), ("BW", "BGLD"), ("XX", "TEST"), ("IU", "COLA")} <= stations)
            c.send("INFO STREAMS")
            doc = ET.fromstring(c.read_info())
            streams = {(s.get("network"), s.get("name"), x.get("location"), x.get("seedname"))
                       for s in doc.iter("station") for x in s.iter("stream")}
            self.assertIn(("CH", "BALST", "", "LHZ"), streams)
            c.send("INFO CONNECTIONS")
            ET.fromstring(c.read_info())  # loopback clients may see connections
            c.send("INFO GAPS")
            ET.fromstring(c.read_info())  # an error document, still XML

    def test_v4_info_answers_are_json(self):
        with self.client() as c:
            c.hello()
            c.slproto4()
            c.send("INFO ID")
            self.assertIn("software", json.loads(c.read_info()))
            c.send("INFO STATIONS")
            ids = {s["id"] for s in json.loads(c.read_info())["station"]}
            self.assertIn("CH_BALST", ids)
            c.send("INFO STREAMS")
            doc = json.loads(c.read_info())
            self.assertTrue(any(s["id"] == "CH_BALST" and s.get("stream") for s in doc["station"]))
            c.send("INFO NONSENSE")
            self.assertIn("error", json.loads(c.read_info()))


    def test_metrics_count_seedlink_connections_and_bytes(self):
        from fdsnws_support import parse_prometheus
        def families():
            return parse_prometheus(self.server.get("/metrics").text)
        def value(fams, name):
            return sum(value for _, _, value in fams[name].samples)
        before = families()
        with self.client() as c:
            c.hello()
            c.command("STATION BGLD BW")
            c.command("DATA 1")
            c.send("END")
            c.read_packets(10)
            during = families()
        self.assertGreaterEqual(value(during, "seisvault_seedlink_connections"), 1)
        self.assertGreater(value(during, "seisvault_seedlink_sent_bytes_total"),
                           value(before, "seisvault_seedlink_sent_bytes_total"))
        self.assertGreater(value(during, "seisvault_seedlink_connections_accepted_total"),
                           value(before, "seisvault_seedlink_connections_accepted_total"))


class LiveFeed(unittest.TestCase):
    """Live delivery and its join with backfill, on a server of its own."""

    def setUp(self):
        require_environment()
        self.server = Seisvaultd("--seedlink-queue-bytes", "64KiB")

    def tearDown(self):
        self.server.close()

    def test_a_live_client_gets_what_arrives_after_it_started_and_nothing_before(self):
        push_checked(self.server, corpus_dir() / GAPS)
        with SeedLinkClient(self.server.seedlink) as c:
            c.hello()
            c.command("STATION BALST CH")
            c.command("DATA")
            c.send("END")
            push_checked(self.server, corpus_dir() / BALST)
            want = {r.raw for r in corpus_records(BALST)}
            packets = c.read_packets(len(want))
        self.assertEqual({p.payload for p in packets}, want)

    def test_backfill_joins_the_live_feed_without_gap_or_duplicate(self):
        push_checked(self.server, corpus_dir() / BALST)
        with SeedLinkClient(self.server.seedlink) as c:
            c.hello()
            c.slproto4()
            c.command("STATION *")
            c.command("DATA ALL")
            c.send("END")
            # While the client reads the backlog (slowly, through a small queue), more arrives.
            first = c.read_packets(50)
            push_checked(self.server, corpus_dir() / GAPS, corpus_dir() / THREE_CHANNEL)
            total = sum(len(corpus_records(f)) for f in (BALST, GAPS, THREE_CHANNEL))
            rest = c.read_packets(total - 50)
        seqs = [p.sequence for p in first + rest]
        self.assertEqual(seqs, list(range(1, total + 1)))
        self.assertEqual(len({p.payload for p in first + rest}), total)


class Resume(unittest.TestCase):
    def resume_across_restart(self, kill: bool):
        require_environment()
        server = Seisvaultd()
        try:
            push_checked(server, corpus_dir() / BALST, corpus_dir() / GAPS)
            total = len(corpus_records(BALST)) + len(corpus_records(GAPS))
            with SeedLinkClient(server.seedlink) as c:
                c.hello()
                c.slproto4()
                c.command("STATION CH_BALST")
                c.command("DATA ALL")
                c.command("STATION BW_BGLD")
                c.command("DATA ALL")
                c.send("END")
                first = c.read_packets(total // 3)
            if kill:
                server.proc.kill()
                server.proc.wait(timeout=30)
            server.stop()
            server.start()
            last = {}
            for p in first:
                last[p.station] = p.sequence
            with SeedLinkClient(server.seedlink) as c:
                c.hello()
                c.slproto4()
                for station in ("CH_BALST", "BW_BGLD"):
                    c.command(f"STATION {station}")
                    c.command(f"DATA {last[station] + 1}" if station in last else "DATA ALL")
                c.send("END")
                rest = c.read_packets(total - len(first))
            every = first + rest
            self.assertEqual(len({p.payload for p in every}), total)
            self.assertEqual(len(every), total)
            for station in ("CH_BALST", "BW_BGLD"):
                seqs = [p.sequence for p in every if p.station == station]
                self.assertEqual(seqs, sorted(seqs))
        finally:
            server.close()

    def test_a_client_resumes_after_a_server_restart_with_every_record_once_in_commit_order(self):
        self.resume_across_restart(kill=False)

    def test_a_client_resumes_after_the_server_is_killed_with_every_record_once_in_commit_order(self):
        self.resume_across_restart(kill=True)


if __name__ == "__main__":
    unittest.main()
