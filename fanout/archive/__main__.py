"""``python -m fanout.archive --config FILE --nats URL``: the archiver alone (scale-out, tests).

``courtside archive`` is the same with the CLI's configuration handling."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from courtside.config import load_config
from fanout.archive.service import run


async def _main(config_path: str, nats_url: str) -> None:
    config = load_config(config_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(config, nats_url, stop)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m fanout.archive", description=__doc__)
    parser.add_argument("--config", required=True, help="the Courtside YAML configuration")
    parser.add_argument("--nats", required=True, help="NATS URL")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_main(args.config, args.nats))


if __name__ == "__main__":
    main()
