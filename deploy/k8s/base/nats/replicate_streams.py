"""Make Courtside's JetStream streams and buckets replicated on a NATS cluster (the Job nats-streams).

The services create what they need with one replica and never change the replica count of what
exists (courtside.natsio.ensure_stream; ingest and analytics use an existing bucket as it is), so
on a 3-node cluster a stream would live on one node and die with it. This runs once before them
(and again on every apply: it is idempotent): the ANNOTATIONS and CLIPS streams, the segment
object store and the calibration key-value bucket, each with ``--replicas`` replicas and the
settings the services would give them.

    python replicate_streams.py --config /etc/courtside/courtside.yaml --replicas 3

The NATS URL comes from the configuration (``COURTSIDE_NATS__URL``, as for every service). Runs
in the analytics image, which holds every module it imports. Exit 1 with the reason on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import nats
from courtside_contracts.streams import ANNOTATIONS, CLIPS
from courtside_contracts.subjects import CALIBRATION_BUCKET, SEGMENTS_BUCKET
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType
from nats.js.errors import NotFoundError

from analytics.calibration_store import HISTORY, MAX_VALUE_BYTES
from courtside.config import ConfigError, NatsTlsConfig, load_config
from courtside.natsio import NatsUnavailable, ensure_stream, tls_context

#: Seconds to wait for the cluster to elect its JetStream meta leader (pods start in any order).
LEADER_WAIT_S = 120.0
#: Seconds for the first connection (the Job's backoffLimit retries a failed run).
CONNECT_TIMEOUT_S = 15.0


async def _wait_for_jetstream(nc: NATS, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await nc.jetstream().account_info()
            return
        except (NatsError, asyncio.TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


async def _replicate(nc: NATS, stream: str, replicas: int) -> str:
    """Set ``stream``'s replica count; the line to print."""
    js = nc.jetstream()
    config = (await js.stream_info(stream)).config
    if config.num_replicas == replicas:
        return f"{stream}: {replicas} replicas (unchanged)"
    before = config.num_replicas
    config.num_replicas = replicas
    await js.update_stream(config)
    return f"{stream}: {before} -> {replicas} replicas"


async def replicate(url: str, replicas: int, object_store_max_bytes: int,
                    leader_wait_s: float = LEADER_WAIT_S, tls: NatsTlsConfig | None = None) -> list[str]:
    """Create or update every stream and bucket with ``replicas`` replicas; one line each."""
    async def quiet(exc: Exception) -> None:  # errors that matter are raised to main()
        del exc

    # one attempt: the Job's backoffLimit retries (NATS pods may still be starting)
    async with asyncio.timeout(CONNECT_TIMEOUT_S):  # nats-py's own attempt loop can outlast its timeouts
        tls_options = {} if tls is None else {"tls": tls_context(tls), "tls_handshake_first": True}  # as natsio
        nc = await nats.connect(url, name="replicate-streams", allow_reconnect=False, max_reconnect_attempts=0,
                                connect_timeout=5, error_cb=quiet, **tls_options)  # type: ignore[arg-type]
    try:
        await _wait_for_jetstream(nc, leader_wait_s)
        js = nc.jetstream()
        for spec in (ANNOTATIONS, CLIPS):
            await ensure_stream(nc, spec)
        try:
            await js.stream_info(f"OBJ_{SEGMENTS_BUCKET}")
        except NotFoundError:  # the settings ingest's shipper gives it (ingest/recording/shipper.py)
            await js.create_object_store(SEGMENTS_BUCKET, ObjectStoreConfig(
                description="Courtside recording segments waiting for the archiver",
                max_bytes=object_store_max_bytes, storage=StorageType.FILE))
        try:
            await js.stream_info(f"KV_{CALIBRATION_BUCKET}")
        except NotFoundError:  # the settings of analytics/calibration_store.py
            await js.create_key_value(KeyValueConfig(
                bucket=CALIBRATION_BUCKET, description="Courtside camera calibrations (clicked court points)",
                history=HISTORY, max_value_size=MAX_VALUE_BYTES, storage=StorageType.FILE))
        streams = [ANNOTATIONS.name, CLIPS.name, f"OBJ_{SEGMENTS_BUCKET}", f"KV_{CALIBRATION_BUCKET}"]
        return [await _replicate(nc, s, replicas) for s in streams]
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, required=True, help="the services' configuration file")
    parser.add_argument("--replicas", type=int, default=3, choices=range(1, 6), metavar="1-5",
                        help="replicas of every stream (at most the cluster's size)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, environ=os.environ)
    except ConfigError as exc:
        print(f"replicate_streams: {exc}", file=sys.stderr)
        return 1
    if config.nats.url is None:
        print("replicate_streams: nats.url is not set (COURTSIDE_NATS__URL)", file=sys.stderr)
        return 1
    try:
        lines = asyncio.run(replicate(config.nats.url.get_secret_value(), args.replicas,
                                      config.archive.object_store_max_bytes, tls=config.nats.tls))
    except (NatsError, NatsUnavailable, OSError, asyncio.TimeoutError) as exc:
        print(f"replicate_streams: cannot reach NATS or JetStream ({type(exc).__name__}: {str(exc) or 'no answer'})",
              file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
