"""compose.yaml is `courtside up` in containers: valid Compose, every name in it real and read.

Checks what can be checked without a Docker engine: the Compose specification's JSON schema, every
build context, Dockerfile target, mounted file, volume and variable, the configuration each service
reads (through courtside.config.load_config, as the container does), and deploy/nats/nats.conf run
by a real nats-server with its users.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml

from courtside.app.cli import EMBEDDED_CONFIG
from courtside.config import CourtsideConfig, load_config
from courtside.nats_server import _accepts, nats_server_binary
from tests.conftest import free_port
from tests.deploy.compose_file import bind_mounts, interpolate, named_volumes, variables
from tests.deploy.dockerfile import final_targets, read_stages
from tests.deploy.locks import REPO

COMPOSE_FILE = REPO / "compose.yaml"
RAW = yaml.safe_load(COMPOSE_FILE.read_text())
#: What a user's shell gives: nothing (every variable must have a default).
COMPOSE = interpolate(RAW, {})
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
CONFIG_PATH = "/etc/courtside/courtside.yaml"
NATS_CONF = REPO / "deploy" / "nats" / "nats.conf"
#: Variables other than COURTSIDE_* a service may be given, and the source that reads each.
READERS = {"STORAGE_EMULATOR_HOST": "fanout/archive/gcs_store.py"}
#: Image target of each model backend (the backend's own environment).
BACKEND_TARGET = {"ultralytics": "inference-ultralytics", "onnx": "inference-onnxruntime",
                  "ball": "inference-ultralytics"}  # the ball backend needs torch, which that image has


def _target(backend: str) -> str:
    return BACKEND_TARGET.get(backend, f"inference-{backend}")


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return {k: str(v) for k, v in env.items() if v is not None}


def _config(name: str, environ: dict[str, str] | None = None) -> CourtsideConfig:
    service = SERVICES[name]
    source = bind_mounts(service)[CONFIG_PATH]
    return load_config(REPO / source, environ=_env(service) if environ is None else environ)


def _courtside_services() -> list[str]:
    return [n for n, s in SERVICES.items() if "build" in s]


def test_compose_file_validates_against_the_compose_specification() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", _courtside_services())
def test_builds_name_a_real_context_dockerfile_and_target(name: str) -> None:
    build = SERVICES[name]["build"]
    dockerfile = REPO / build["context"] / build["dockerfile"]
    assert dockerfile.is_file()
    assert build["target"] in final_targets(read_stages(dockerfile)), f"{name}: no target {build['target']}"


@pytest.mark.parametrize("name", list(SERVICES))
def test_mounted_files_and_volumes_exist(name: str) -> None:
    for target, source in bind_mounts(SERVICES[name]).items():
        assert (REPO / source).exists(), f"{name}: {source} (mounted at {target}) does not exist"
    for volume in named_volumes(SERVICES[name]):
        assert volume in COMPOSE.get("volumes", {}), f"{name}: volume {volume} is not declared"


@pytest.mark.parametrize("name", _courtside_services())
def test_every_variable_is_read_by_the_service(name: str) -> None:
    config = _config(name)  # every COURTSIDE_* variable parses through the service's own loader
    env = _env(SERVICES[name])
    for var in set(env) - {k for k in env if k.startswith("COURTSIDE_")}:
        readers = READERS.get(var)
        assert readers, f"{name}: {var} is read by nothing"
        assert var in (REPO / readers).read_text(), f"{name}: {readers} does not read {var}"
    assert config.nats.url is not None and "@nats:4222" in config.nats.url.get_secret_value()
    tokens = _config(name, {**env, "COURTSIDE_AUTH__TOKENS": "[{token: s3cret-viewer, scope: viewer}]"})
    assert [t.token.get_secret_value() for t in tokens.auth.tokens] == ["s3cret-viewer"]


def test_nats_variables_are_the_ones_its_config_reads() -> None:
    conf = NATS_CONF.read_text()
    env = _env(SERVICES["nats"])
    # $NAME outside quoted strings ("$JS.API.>" in a permission is a subject, not a variable).
    referenced = {name for line in conf.splitlines() if not line.lstrip().startswith("#")
                  for name in re.findall(r"\$([A-Z][A-Z0-9_]*)", re.sub(r'"[^"]*"', '""', line))}
    assert set(env) == referenced
    assert bind_mounts(SERVICES["nats"])["/etc/nats/nats.conf"] == "./deploy/nats/nats.conf"
    assert SERVICES["nats"]["command"] == ["-c", "/etc/nats/nats.conf"]


def test_the_configuration_is_the_embedded_default_of_courtside_up() -> None:
    embedded = load_config(EMBEDDED_CONFIG, environ={})
    for name in _courtside_services():
        config = _config(name)
        assert [c.model_dump() for c in config.cameras] == [c.model_dump() for c in embedded.cameras]
        assert [m.name for m in config.models] == [m.name for m in embedded.models]
        for mine, theirs in zip(config.models, embedded.models, strict=True):
            # weights: the same file, from the mounted or baked /models; device: the gpu profile's
            # yolo; host/port: one consumer per container, its ops routes on a fixed port; nice: it
            # weighs processes sharing CPUs (courtside up), containers get CPU shares instead
            ignore = {"weights", "device", "host", "port", "nice"}
            assert mine.model_dump(exclude=ignore) == theirs.model_dump(exclude=ignore)
            assert Path(mine.weights).name == Path(theirs.weights).name
        # Recording and the archive as `courtside up`: a local archive, in the fanout's volume here.
        where = {"path", "spool_dir"}
        assert config.archive.model_dump(exclude=where) == embedded.archive.model_dump(exclude=where)
        # Analytics: the same section (players, ball, cameras, the demo court's seeded calibration).
        assert config.analytics is not None and embedded.analytics is not None
        listen = {"host", "port"}
        assert config.analytics.model_dump(exclude=listen) == embedded.analytics.model_dump(exclude=listen)
        assert config.auth.enabled


def test_the_archive_lives_in_volumes_the_services_write() -> None:
    fanout = _config("fanout")
    assert fanout.archive.kind == "local" and fanout.archive.archiver_in_fanout
    assert f"archive:{fanout.archive.path}" in SERVICES["fanout"]["volumes"], "the archive must survive a restart"
    ingest = _config("ingest")
    assert f"archive-spool:{ingest.archive.spool_dir}" in SERVICES["ingest"]["volumes"]
    run = " ".join(a for s in read_stages(REPO / "deploy" / "docker" / "Dockerfile").values() for a in s.args("RUN"))
    for path in (fanout.archive.path, ingest.archive.spool_dir):  # a fresh named volume takes the image's owner
        assert f"install -d -o 10001 -g 10001 {path}" in run, f"{path} is not made for uid 10001 in the image"


def test_analytics_runs_on_models_compose_serves() -> None:
    config = _config("analytics")
    assert config.analytics is not None
    served = {SERVICES[n]["command"][0] for n in _courtside_services()
              if SERVICES[n].get("command") and "gpu" not in SERVICES[n].get("profiles", [])}
    assert {config.analytics.player_model, config.analytics.ball_model} <= served
    assert SERVICES["analytics"]["build"]["target"] == "analytics"


def test_every_model_runs_from_its_backends_own_image() -> None:
    config = _config("ingest")
    served: dict[str, str] = {}
    for name, service in SERVICES.items():
        if service.get("command") and "build" in service and service["build"]["target"].startswith("inference"):
            model = _config(name).model(service["command"][0])
            assert service["build"]["target"] == _target(model.backend), f"{name}: wrong image for {model.backend}"
            assert "/models" in bind_mounts(service) or model.weights == "builtin"
            if "gpu" in service.get("profiles", []):
                assert model.device.startswith("cuda")
            else:
                served[model.name] = name
    assert set(served) == {m.name for m in config.models}, "every model has a consumer in the default profile"


def test_gpu_reservations_only_in_the_gpu_profile() -> None:
    for name, service in SERVICES.items():
        reserves = "devices" in service.get("deploy", {}).get("resources", {}).get("reservations", {})
        assert reserves == ("gpu" in service.get("profiles", [])), name


@pytest.mark.parametrize("name", list(SERVICES))
def test_healthchecks_and_restart_policies(name: str) -> None:
    service = SERVICES[name]
    assert service["restart"] == "unless-stopped"
    if name == "gcs":  # the emulator's image has no shell or HTTP client to probe with
        return
    test = " ".join(service["healthcheck"]["test"])
    if name != "nats":
        config = _config(name)
        if name in ("ingest", "fanout", "analytics"):
            section = getattr(config, name)
            assert section is not None, f"{name}: its section is missing from the configuration"
            port = section.port
        else:
            model = config.model(service["command"][0])
            assert model.host == "0.0.0.0", f"{name}: ops routes must listen beyond the container"  # noqa: S104
            port = model.port
        assert port and f"127.0.0.1:{port}/healthz" in test, f"{name}: healthcheck not on its port {port}"
        assert service["depends_on"]["nats"]["condition"] == "service_healthy"


def test_every_variable_has_a_default() -> None:
    assert variables(RAW) and interpolate(RAW, {})  # interpolate raises on a variable without one


def _nats_env(port_dir: Path) -> dict[str, str]:
    return {"NATS_SERVER_NAME": "test", "NATS_STORE_DIR": str(port_dir / "js"), "NATS_INGEST_PASSWORD": "pw-ingest",
            "NATS_INFERENCE_PASSWORD": "pw-inference", "NATS_FANOUT_PASSWORD": "pw-fanout", "NATS_ANALYTICS_PASSWORD": "pw-analytics", "PATH": ""}


@pytest.fixture
def conf_nats(tmp_path: Path) -> Iterator[int]:
    """nats-server run from deploy/nats/nats.conf (loopback, free ports); yields its client port."""
    port, http_port = free_port(), free_port()
    args = [str(nats_server_binary()), "-c", str(NATS_CONF), "-a", "127.0.0.1", "-p", str(port),
            "-m", str(http_port)]
    proc = subprocess.Popen(args, env=_nats_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


async def test_nats_conf_runs_with_jetstream_and_refuses_anonymous_clients(conf_nats: int) -> None:
    async with asyncio.timeout(20):
        nc = await nats.connect(f"nats://ingest:pw-ingest@127.0.0.1:{conf_nats}", max_reconnect_attempts=0)
        # JetStream on, and ingest's user may create its stream (not more: courtside/nats_users.py)
        info = await nc.jetstream().add_stream(name="CLIPS", subjects=["clips.*"])
        assert info.config.name == "CLIPS"
        assert nc.max_payload == 8 * 1024 * 1024
        await nc.close()
        with pytest.raises(Exception, match="uthorization"):
            await nats.connect(f"nats://127.0.0.1:{conf_nats}", max_reconnect_attempts=0, allow_reconnect=False)
        with pytest.raises(Exception, match="uthorization"):
            await nats.connect(f"nats://ingest:wrong@127.0.0.1:{conf_nats}", max_reconnect_attempts=0,
                               allow_reconnect=False)


def test_nats_conf_refuses_to_start_without_its_passwords(tmp_path: Path) -> None:
    env = _nats_env(tmp_path)
    del env["NATS_FANOUT_PASSWORD"]
    result = subprocess.run([str(nats_server_binary()), "-c", str(NATS_CONF), "-t"], env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "NATS_FANOUT_PASSWORD" in result.stdout + result.stderr


def test_dev_profile_archives_into_the_gcs_emulator() -> None:
    lines = (REPO / "deploy" / "compose" / "dev.env").read_text().splitlines()
    dev_env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    dev = interpolate(RAW, dev_env)["services"]
    gcs = dev["gcs"]
    assert gcs["profiles"] == ["dev"]
    command = gcs["command"]
    port = command[command.index("-port") + 1]
    seed = REPO / bind_mounts(gcs)[command[command.index("-data") + 1]]
    for name in ("ingest", "fanout"):
        service = dict(dev[name])
        config = load_config(REPO / bind_mounts(service)[CONFIG_PATH], environ=_env(service))
        assert config.archive.kind == "gcs" and config.archive.bucket is not None
        assert (seed / config.archive.bucket).is_dir(), "the emulator has no such bucket"
    assert _env(dev["fanout"])["STORAGE_EMULATOR_HOST"] == f"http://gcs:{port}"
    ingest = load_config(REPO / bind_mounts(dev["ingest"])[CONFIG_PATH], environ=_env(dev["ingest"]))
    spool = str(ingest.archive.spool_dir)
    assert f"archive-spool:{spool}" in dev["ingest"]["volumes"], "the spool must survive a restart"
    assert "archive-spool" in COMPOSE["volumes"]
