"""The bridge end to end: SeisVault A (filled through ingest) -> A's SeedLink
face -> `seisvault push --from-seedlink` -> SeisVault B. Every record of A
ends up in B byte-identical, exactly once, also when the bridge and B are
killed (SIGKILL) at random moments during the transfer."""

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "server" / "fdsnws"))

from fdsnws_support import (BALST, GAPS, MIXED, Seisvaultd, cli_binary, corpus_dir, push_checked,  # noqa: E402
                            require_environment, split_records)

DEADLINE_S = 120


def make_records(path: Path, channels: int, records: int) -> None:
    tool = os.environ.get("SEISVAULT_MAKE_RECORDS")
    if not tool:
        raise unittest.SkipTest("SEISVAULT_MAKE_RECORDS is not set")
    subprocess.run([tool, "--channels", str(channels), "--records", str(records), "--out", str(path)], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


def everything(server: Seisvaultd) -> list:
    """Every record the server holds, through FDSN dataselect (one request per network)."""
    out = []
    for net in ("XX", "CH", "BW"):
        r = server.get("/fdsnws/dataselect/1/query",
                       params={"net": net, "start": "1970-01-01T00:00:00", "end": "2100-01-01T00:00:00"})
        if r.status_code == 204:
            continue
        r.raise_for_status()
        out += [rec.raw for rec in split_records(r.content, net)]
    return out


class Bridge:
    def __init__(self, a: Seisvaultd, b: Seisvaultd, spool: Path, streams: str, log: Path, *extra: str):
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [str(cli_binary()), "push", "--insecure", "--server", b.ingest, "--from-seedlink", a.seedlink,
             "--streams", streams, "--spool", str(spool), "--seedlink-start", "oldest", "--log-level", "info", *extra],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self.log.close()
        return code


class BridgeEndToEnd(unittest.TestCase):
    def setUp(self):
        require_environment()
        self.tmp = tempfile.TemporaryDirectory(prefix="seisvault-bridge-")
        self.dir = Path(self.tmp.name)
        # No window limit: the check reads everything back in one request per network.
        self.a = Seisvaultd("--max-window-days", "0", data_dir=self.dir / "a")
        self.b = Seisvaultd("--max-window-days", "0", data_dir=self.dir / "b")
        synthetic = self.dir / "synthetic.mseed"
        make_records(synthetic, channels=8, records=2500)
        push_checked(self.a, synthetic, corpus_dir() / BALST, corpus_dir() / GAPS, corpus_dir() / MIXED)
        self.want = sorted(everything(self.a))
        self.streams = ",".join([f"XX_S{i:04}" for i in range(8)] + ["CH_BALST", "BW_BGLD", "XX_TEST"])
        self.spool = self.dir / "spool"

    def tearDown(self):
        self.a.close()
        self.b.close()
        self.tmp.cleanup()

    def wait_for_all(self, bridge: Bridge) -> list:
        deadline = time.monotonic() + DEADLINE_S
        got = []
        while time.monotonic() < deadline:
            got = everything(self.b)
            if len(got) >= len(self.want):
                return got
            if bridge.proc.poll() is not None:
                self.fail(f"the bridge exited with {bridge.proc.returncode}:\n{self.bridge_log()}")
            time.sleep(0.2)
        self.fail(f"B holds {len(got)} of {len(self.want)} records after {DEADLINE_S} s:\n{self.bridge_log()}")

    def bridge_log(self) -> str:
        try:
            return (self.dir / "bridge.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def test_every_record_of_a_reaches_b_byte_identical(self):
        self.assertGreater(len(self.want), 20000)
        bridge = Bridge(self.a, self.b, self.spool, self.streams, self.dir / "bridge.log")
        got = self.wait_for_all(bridge)
        self.assertEqual(bridge.stop(), 0, self.bridge_log())
        self.assertEqual(sorted(got), self.want)
        self.assertTrue((self.spool / "seedlink.state").exists())

    def test_killing_the_bridge_and_b_at_random_moments_loses_and_repeats_nothing(self):
        rng = random.Random(int(os.environ.get("SEISVAULT_KILL_SEED", "1313")))
        partial = []  # what B held after each kill of the bridge
        for round_ in range(6):
            # Small batches, one in flight: a transfer of seconds, so that the kills land inside it.
            bridge = Bridge(self.a, self.b, self.spool, self.streams, self.dir / "bridge.log",
                            "--batch-records", "40", "--in-flight", "1")
            time.sleep(rng.uniform(0.1, 0.8))
            bridge.kill()
            partial.append(len(everything(self.b)))
            if round_ % 2 == 1:
                self.b.proc.send_signal(signal.SIGKILL)
                self.b.proc.wait(timeout=30)
                self.b.stop()
                self.b.start()
        bridge = Bridge(self.a, self.b, self.spool, self.streams, self.dir / "bridge.log")
        got = self.wait_for_all(bridge)
        self.assertEqual(bridge.stop(), 0, self.bridge_log())
        print(f"B held {partial} of {len(self.want)} records after the kills", file=sys.stderr)
        self.assertTrue(any(0 < n < len(self.want) for n in partial), f"no kill landed mid-transfer: {partial}")
        self.assertEqual(len(got), len(self.want), "B holds a record twice or lacks one")
        self.assertEqual(sorted(got), self.want)


if __name__ == "__main__":
    unittest.main()
