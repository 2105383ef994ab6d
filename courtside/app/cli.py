"""The ``courtside`` command: ``up`` runs everything; one sub-command per service.

Per-service commands (``ingest``, ``infer MODEL``, ``fanout``, ``analytics``) run one service
against the configured NATS, exactly as the containers do. Heavy imports happen
inside each sub-command so that ``courtside fanout`` never loads torch.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from courtside.config import ConfigError, CourtsideConfig, load_config
from courtside.logs import setup_logging

log = logging.getLogger("courtside")
EMBEDDED_CONFIG = Path(__file__).with_name("embedded.yaml")


def _load(path: str | None, default_embedded: bool) -> tuple[CourtsideConfig, Path | None]:
    chosen = Path(path) if path else (EMBEDDED_CONFIG if default_embedded else None)
    return load_config(chosen), chosen


def _nats_url(config: CourtsideConfig, service: str) -> str:
    if config.nats.url is None:
        raise ConfigError(f"`courtside {service}` needs a NATS server: set nats.url in the config "
                          "or COURTSIDE_NATS__URL (or use `courtside up`, which embeds one)")
    return config.nats.url.get_secret_value()


def run_service(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run one service's ``main(stop)`` with SIGINT/SIGTERM setting ``stop`` (graceful drain)."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


def _service(module: str) -> Callable[..., Awaitable[None]]:
    """``<module>.run(config, nats_url, stop, ...)``: each service's single entry point."""
    return importlib.import_module(module).run  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"]:  # issue signed tokens, make key pairs (courtside/tokens.py)
        from courtside.tokens import main as token_main

        return token_main(argv[1:])
    if argv[:1] == ["export"]:  # its own argument parser lives with the inference code
        from inference.export import main as export_main

        return export_main(argv[1:])
    if argv[:1] in (["train"], ["eval"]):  # `courtside train|eval ball|players`: the demo court's models
        modules = {("train", "ball"): "inference.backends.ball.train", ("eval", "ball"): "inference.backends.ball.evaluate",
                   ("train", "players"): "inference.backends.yolo.players_train",
                   ("eval", "players"): "inference.backends.yolo.players_eval"}
        name = modules.get((argv[0], argv[1] if len(argv) > 1 else ""))
        if name is None:
            print(f"courtside {argv[0]}: what to {argv[0]}? (known: ball, players)", file=sys.stderr)
            return 2
        return int(importlib.import_module(name).main(argv[2:]))
    parser = argparse.ArgumentParser(prog="courtside", description="Real-time court video analytics")
    parser.add_argument("--config", "-c", help="YAML configuration file (COURTSIDE_* variables override it)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run everything: embedded NATS (unless nats.url), ingest, inference, fanout")
    sub.add_parser("ingest", help="run the ingest service (cameras -> frames.<camera>)")
    infer = sub.add_parser("infer", help="run one inference consumer (frames -> annotations)")
    infer.add_argument("model", help="model name from the configuration's models list")
    sub.add_parser("fanout", help="run fanout (WebSocket, REST, web pages)")
    sub.add_parser("archive", help="run only the archiver (CLIPS -> the archive; scale-out beside fanout)")
    sub.add_parser("analytics", help="run court analytics (annotations -> analytics.<camera>)")
    cal = sub.add_parser("calibrate", help="set a camera's court calibration from clicked points, or show it")
    cal.add_argument("camera", help="camera id")
    cal.add_argument("points", nargs="?", type=Path,
                     help='JSON {"width": W, "height": H, "points": {name: [u, v]}}; omitted = show the stored one')
    cal.add_argument("--auto", action="store_true",
                     help="fit the court model to the lines of a frame (the camera's next NATS frame, or --image)")
    cal.add_argument("--image", type=Path, help="with --auto: an image file of the camera instead of a live frame")
    sub.add_parser("nats", help="run only the embedded nats-server and print its URL (with "
                   "nats.per_service_users: one line per service, '<service> <url>')")
    sub.add_parser("check-config", help="validate the configuration and print it (secrets masked)")
    sub.add_parser("export", help="export a YOLO checkpoint to ONNX (see `courtside export --help`)")
    sub.add_parser("token", help="issue a signed token or make a key pair (see `courtside token --help`)")
    for name in ("up", "ingest", "infer", "fanout", "archive", "analytics", "calibrate", "nats", "check-config"):
        sub.choices[name].add_argument("--config", "-c", dest="sub_config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    config_path = getattr(args, "sub_config", None) or args.config

    try:
        config, path = _load(config_path, default_embedded=True)
        setup_logging(config.log_level, prefix=f"[{args.command}{'-' + args.model if args.command == 'infer' else ''}] ")
        if args.command in ("check-config", "up", "infer"):  # models[].options against each backend's model
            from inference.backends.registry import validate_config  # (ingest/fanout images lack inference/)

            validate_config(config, str(path) if path else "<defaults>")
        if args.command == "check-config":
            print(config.model_dump_json(indent=2))
            return 0
        if args.command == "up":
            from courtside.app.supervisor import run_all

            return run_all(config, path)
        if args.command == "nats":
            from courtside.nats_server import EmbeddedNats
            from courtside.nats_users import service_users, user_url

            users = service_users() if config.nats.per_service_users else None
            stop_signals = {signal.SIGINT, signal.SIGTERM}
            with EmbeddedNats(config.nats.store_dir, config.nats.max_payload, users=users,
                              tls=config.nats.tls) as server:
                # Blocked (after the server started: a child would inherit the mask) so that sigwait
                # takes them and the server stops cleanly, its temp dir removed.
                signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
                if users is None:
                    print(server.url, flush=True)
                for name, user in (users or {}).items():  # each service's URL, its password in it
                    print(f"{name} {user_url(server.url, user)}", flush=True)
                signal.sigwait(stop_signals)
            return 0
        url = _nats_url(config, args.command)
        if args.command == "ingest":
            run = _service("ingest.service")
            run_service(lambda stop: run(config, url, stop))
        elif args.command == "infer":
            model = config.model(args.model)
            if model.nice:  # before any thread starts: Linux niceness is per thread, inherited by new ones
                os.nice(model.nice)
            run = _service("inference.service")
            run_service(lambda stop: run(config, model, url, stop))
        elif args.command == "fanout":
            run = _service("fanout.service")
            run_service(lambda stop: run(config, url, stop))
        elif args.command == "archive":
            run = _service("fanout.archive.service")
            run_service(lambda stop: run(config, url, stop))
        elif args.command == "analytics":
            run = _service("analytics.service")
            run_service(lambda stop: run(config, url, stop))
        elif args.command == "calibrate":
            return int(importlib.import_module("analytics.calibrate_cmd").calibrate(
                url, args.camera, args.points, auto=args.auto, image=args.image))
        return 0
    except ConfigError as exc:
        print(f"courtside: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
