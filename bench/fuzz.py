"""The fuzz tests (tests/fuzz) run N times longer: schemathesis examples per operation, WebSocket
fuzz messages per connection and NATS garbage per subject all scaled by ``--scale``.

Not a figure to record: a longer hunt for crashes, 5xx and schema lies than the suite affords.
Prints ``RESULT fuzz_scale=<N> passed=<0|1> seconds=<wall>``.

Run: ``.venv/bin/python -m bench.fuzz [--scale 10] [-k ws]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="how many times the suite's bounds (default 10)")
    parser.add_argument("-k", dest="select", help="only the fuzz tests matching this pytest -k expression")
    args = parser.parse_args()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:logging",
               str(REPO / "tests" / "fuzz")] + (["-k", args.select] if args.select else [])
    started = time.monotonic()
    code = subprocess.call(command, cwd=REPO, env={**os.environ, "COURTSIDE_FUZZ_SCALE": str(args.scale)})
    print(f"RESULT fuzz_scale={args.scale} passed={int(code == 0)} seconds={time.monotonic() - started:.0f}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
