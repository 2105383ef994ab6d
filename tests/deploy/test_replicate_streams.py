"""deploy/k8s/base/nats/replicate_streams.py (the Job nats-streams) against a real 3-node cluster:
every stream and bucket ends with 3 replicas, a second run changes nothing, and the services'
own start-up afterwards keeps them replicated."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from courtside_contracts.streams import ANNOTATIONS, CLIPS

from analytics.calibration_store import CalibrationStore
from courtside.natsio import ensure_stream
from tests.conftest import free_port
from tests.deploy.locks import REPO
from tests.reliability.nats_process import NatsCluster

SCRIPT = REPO / "deploy" / "k8s" / "base" / "nats" / "replicate_streams.py"
STREAMS = ("ANNOTATIONS", "CLIPS", "OBJ_segments", "KV_calibration")

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nodes = NatsCluster(tmp_path / "cluster")
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


def _run(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "courtside.yaml"
    config.write_text("nats: {url: nats://unset:4222}\n", encoding="utf-8")
    env = {**os.environ, "COURTSIDE_NATS__URL": url, "PYTHONPATH": f"{REPO}:{REPO / 'contracts'}"}
    return subprocess.run([sys.executable, str(SCRIPT), "--config", str(config), "--replicas", "3"], env=env,
                          capture_output=True, text=True, check=False, timeout=150)


async def _replicas(url: str) -> dict[str, int | None]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        return {s: (await js.stream_info(s)).config.num_replicas for s in STREAMS}
    finally:
        await nc.close()


async def test_every_stream_and_bucket_is_made_r3_and_the_services_keep_it(cluster: NatsCluster,
                                                                           tmp_path: Path) -> None:
    url = cluster.nodes[0].url
    first = _run(url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert await _replicas(url) == dict.fromkeys(STREAMS, 3)
    again = _run(url, tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("(unchanged)") == len(STREAMS), again.stdout
    # the services start afterwards: their create-or-use paths leave the replicas alone
    nc = await nats.connect(cluster.nodes[1].url)
    try:
        for spec in (ANNOTATIONS, CLIPS):
            await ensure_stream(nc, spec)
        await CalibrationStore.open(nc)
    finally:
        await nc.close()
    assert await _replicas(url) == dict.fromkeys(STREAMS, 3)


def test_no_server_is_a_clear_error(tmp_path: Path) -> None:
    result = _run(f"nats://127.0.0.1:{free_port()}", tmp_path)
    assert result.returncode == 1
    assert "replicate_streams: cannot reach NATS" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
