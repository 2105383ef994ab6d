"""``python -m courtside_client.replay_cli list|download|export|clip``: replay from a terminal.

Times: ``--last SECONDS`` (up to now) or ``--start``/``--end`` as Unix ns or ISO 8601 (UTC if no
zone). Long transfers show a progress bar on stderr. The token comes from ``--token-env``
(default ``COURTSIDE_TOKEN``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from courtside_client.replay import ReplayClient, ReplayError


def parse_time(text: str) -> int:
    """Unix ns from an integer or an ISO 8601 time."""
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1e9)


def _range(args: argparse.Namespace) -> tuple[int, int]:
    if args.last:
        end = time.time_ns()
        return end - int(args.last * 1e9), end
    if not (args.start and args.end):
        raise SystemExit("give --last SECONDS or --start and --end")
    return parse_time(args.start), parse_time(args.end)


class Bar:
    """A one-line progress bar on stderr (bytes)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                             f"{done / 1e6:.1f}/{total / 1e6:.1f} MB")
        else:
            sys.stderr.write(f"\r{self.label} {done / 1e6:.1f} MB")
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="courtside_client.replay_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="fanout HTTP root")
    parser.add_argument("--token-env", default="COURTSIDE_TOKEN")
    parser.add_argument("command", choices=["list", "download", "export", "clip"])
    parser.add_argument("camera")
    parser.add_argument("--last", type=float, help="the last N seconds")
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--out", type=Path, default=Path("."), help="file (export) or folder (download)")
    args = parser.parse_args(argv)
    client = ReplayClient(args.url, token=os.environ.get(args.token_env) or None)
    try:
        if args.command == "clip":
            clip = client.save_clip(args.camera, last_s=args.last or None) if not args.start else \
                client.save_clip(args.camera, start_ns=parse_time(args.start), end_ns=parse_time(args.end))
            print(f"saved {clip['id']}: {clip['frames']} frames from {clip['start_ns']} to {clip['end_ns']}")
            return 0
        start, end = _range(args)
        if args.command == "list":
            for item in client.recordings(args.camera, start, end):
                size = f" {item['size'] / 1e6:.1f} MB {item['name']}" if item["kind"] == "recording" else ""
                print(f"{item['kind']:9} {item['start_ns']} {item['end_ns']} "
                      f"{(item['end_ns'] - item['start_ns']) / 1e9:7.2f} s{size}")
        elif args.command == "export":
            dest = args.out if args.out.suffix == ".mp4" else args.out / f"{args.camera}-{start}.mp4"
            headers = client.export(args.camera, start, end, dest, progress=Bar("export"))
            print(f"\n{dest}: from {headers.get('courtside-start-ns')} (keyframe-aligned), "
                  f"{headers.get('courtside-frames')} frames", file=sys.stderr)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            for item in client.recordings(args.camera, start, end):
                if item["kind"] == "recording":
                    client.download(item["url"], args.out / item["name"], progress=Bar(item["name"]))
                    client.download(item["sidecar_url"], args.out / Path(item["sidecar_url"]).name)
                    sys.stderr.write("\n")
    except ReplayError as exc:
        print(f"courtside-replay: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
