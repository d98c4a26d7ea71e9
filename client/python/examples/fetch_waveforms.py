#!/usr/bin/python3
"""Fetch waveforms from a SeisVault server and print what came back.

Lists the channels that match a selection, then fetches their decoded
samples in a time window and prints per-segment statistics computed with
numpy, and the gaps between segments.

Examples::

    export PYTHONPATH=<build>/client/python
    /usr/bin/python3 fetch_waveforms.py 'IU.COLA.00.LH?' \\
        --start 2010-02-27T06:50:00Z --end 2010-02-27T07:00:00Z
    /usr/bin/python3 fetch_waveforms.py 'BW.*' 'IU.ANMO' --api host:16601 --token-file ~/.seisvault-token
    /usr/bin/python3 fetch_waveforms.py IU.COLA.00.LHZ --save lhz.npz

Exit status: 0 on success, 1 when the server refused or failed the query.
"""

import argparse
import os
import sys

import numpy as np

try:
    import seisvault
except ImportError as e:
    sys.exit(f"fetch_waveforms: cannot import seisvault ({e}); set PYTHONPATH=<build>/client/python")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("selection", nargs="*",
                   help="NET.STA.LOC.CHA patterns with ? and * wildcards, OR-ed (default: every channel)")
    p.add_argument("--api", default=os.environ.get("SEISVAULT_API", seisvault.DEFAULT_TARGET),
                   help="server query API host:port (default: $SEISVAULT_API or %(default)s)")
    p.add_argument("--token", default=os.environ.get("SEISVAULT_TOKEN"),
                   help="bearer token, when the server requires one (default: $SEISVAULT_TOKEN)")
    p.add_argument("--token-file", help="read the token from this file instead")
    p.add_argument("--tls-root-cert", help="PEM file of the CA that signs the server's TLS certificate (turns TLS on)")
    p.add_argument("--start", help="window start, ISO 8601 (UTC unless an offset is given); default: open")
    p.add_argument("--end", help="window end, ISO 8601; default: open")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per call (default: %(default)s)")
    p.add_argument("--save", metavar="FILE.npz", help="also save every segment's samples in a numpy .npz file")
    return p.parse_args(argv)


def describe(seg: seisvault.Segment) -> str:
    head = (f"  {seg.source_id:<16} {seisvault.format_ns(seg.start_ns)} .. {seisvault.format_ns(seg.end_ns)}"
            f"  {seg.sample_rate:g} Hz  {len(seg)} {seg.sample_type}")
    if seg.sample_type == "text":
        first_line = seg.data.strip().splitlines()[0] if seg.data.strip() else ""
        return f"{head}  text: {first_line[:60]!r}"
    if len(seg) == 0:
        return head
    d = seg.data.astype(np.float64)
    return (f"{head}  min {d.min():.6g}  max {d.max():.6g}  mean {d.mean():.6g}  std {d.std():.6g}"
            f"  rms {np.sqrt(np.mean(d * d)):.6g}")


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        client = seisvault.Client(args.api, token=args.token if not args.token_file else None,
                                  token_file=args.token_file, tls_root_cert=args.tls_root_cert,
                                  timeout=args.timeout)
    except (OSError, ValueError) as e:
        print(f"fetch_waveforms: {e}", file=sys.stderr)
        return 1
    selection = args.selection or None
    try:
        with client:
            channels = client.list_channels(selection)
            print(f"{len(channels)} channel(s) at {args.api}:")
            for ch in channels:
                print(f"  {ch.source_id:<16} {seisvault.format_ns(ch.first_start_ns)} .. "
                      f"{seisvault.format_ns(ch.last_end_ns)}  {ch.sample_rate:g} Hz  "
                      f"{ch.record_count} records  {ch.byte_count} bytes")
            if not channels:
                return 0
            segments = client.get_samples(selection, args.start, args.end)
            print(f"{len(segments)} segment(s), {sum(len(s) for s in segments)} samples:")
            previous = None
            for seg in segments:
                if previous is not None and previous.source_id == seg.source_id and seg.sample_rate > 0:
                    jump_s = (seg.start_ns - previous.end_ns) / 1e9 - 1.0 / seg.sample_rate
                    kind = "overlap" if jump_s < 0 else "gap"
                    print(f"  {'':<16} ({kind} of {abs(jump_s):.6g} s)")
                print(describe(seg))
                previous = seg
    except seisvault.SeisVaultError as e:
        print(f"fetch_waveforms: {e.code.name}: {e.message}", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as e:  # a --start/--end that is not a time
        print(f"fetch_waveforms: {e}", file=sys.stderr)
        return 2
    if args.save:
        arrays = {}
        for i, seg in enumerate(segments):
            key = f"{i:04d}_{seg.source_id}_{seg.start_ns}"
            arrays[key] = np.frombuffer(seg.data.encode("latin-1"), dtype=np.uint8) \
                if seg.sample_type == "text" else seg.data
        np.savez(args.save, **arrays)
        print(f"saved {len(arrays)} segment(s) to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
