"""``python -m courtside_client --url ws://127.0.0.1:8000/ws``: print live annotations, one per line.

The token is read from ``--token`` or, better (not visible in ``ps``), the
environment variable named by ``--token-env`` (default ``COURTSIDE_TOKEN``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

from courtside_client.client import AuthError, CourtsideClient
from courtside_client.messages import (
    AnnotationMessage,
    Dropped,
    Error,
    Message,
    Status,
    Subscribed,
    VideoFrame,
)


def format_message(msg: Message, now_ns: int | None = None) -> str:
    """One human-readable line per message."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    if isinstance(msg, AnnotationMessage):
        a = msg.annotation
        objects = ", ".join(
            f"{o.label} {o.score:.2f} [{', '.join(f'{v:.0f}' for v in o.box)}]"
            + (f" #{o.track_id}" if o.track_id is not None else "") for o in a.objects[:8])
        more = f" (+{len(a.objects) - 8})" if len(a.objects) > 8 else ""
        ball = f" ball ({a.ball.x:.0f}, {a.ball.y:.0f})" if a.ball and a.ball.visible else ""
        flag = " UNTRAINED" if a.weights == "untrained" else ""
        return (f"{a.camera} #{a.seq} {a.model}{flag}: {len(a.objects)} objects{': ' if objects else ''}"
                f"{objects}{more}{ball} | e2e {(now_ns - a.ts) / 1e6:.0f} ms")
    if isinstance(msg, VideoFrame):
        return f"{msg.camera} #{msg.seq} video {msg.width}x{msg.height} {len(msg.jpeg)} B"
    if isinstance(msg, Subscribed):
        return f"subscribed cameras={msg.cameras or 'all'} models={msg.models or 'all'} video={msg.video}"
    if isinstance(msg, Status):
        cams = ", ".join(f"{k}:{v.get('state')}" for k, v in msg.cameras.items()) or "none"
        models = ", ".join(f"{k}:{v.get('state')}" for k, v in msg.models.items()) or "none"
        return f"status cameras {cams}; models {models}"
    if isinstance(msg, Dropped):
        return f"dropped {msg.count} messages (total {msg.total}): this client is too slow"
    if isinstance(msg, Error):
        return f"error {msg.code}: {msg.message}"
    return repr(msg)


async def _run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(args.token_env) or None
    client = CourtsideClient(args.url, token=token)
    printed = 0
    try:
        async for msg in client.subscribe(cameras=args.camera or None, models=args.model or None,
                                          video="jpeg" if args.video else "none"):
            line = format_message(msg)
            if isinstance(msg, (AnnotationMessage, VideoFrame)):
                print(line, flush=True)
                printed += 1
                if args.count and printed >= args.count:
                    break
            elif not args.quiet:
                print(line, file=sys.stderr, flush=True)
    except AuthError as exc:
        print(f"courtside-client: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="courtside_client", description="Print live Courtside annotations.")
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws", help="fanout WebSocket URL")
    parser.add_argument("--camera", action="append", help="camera id (repeat; default: all the token may see)")
    parser.add_argument("--model", action="append", help="model name (repeat; default: all)")
    parser.add_argument("--video", action="store_true", help="also receive JPEG frames (printed as one line each)")
    parser.add_argument("--token", help="bearer token (prefer --token-env)")
    parser.add_argument("--token-env", default="COURTSIDE_TOKEN", help="environment variable holding the token")
    parser.add_argument("--count", type=int, default=0, help="exit after this many annotations/frames")
    parser.add_argument("--quiet", action="store_true", help="do not print status/subscribed/dropped lines")
    parser.add_argument("--verbose", action="store_true", help="log connection changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
