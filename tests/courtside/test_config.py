from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from courtside.config import ConfigError, load_config, parse_config

EMBEDDED = Path(__file__).resolve().parents[2] / "courtside" / "app" / "embedded.yaml"


def test_embedded_default_is_valid() -> None:
    config = load_config(EMBEDDED, environ={})
    assert config.nats.url is None
    assert [c.id for c in config.cameras] == ["court-1", "street-1"]
    assert [(m.name, m.backend, m.cameras) for m in config.models] == [
        ("yolo", "ultralytics", ["court-1"]), ("ball", "ball", ["court-1"]), ("people", "opencv", ["street-1"]),
        ("pose", "mediapipe", ["street-1"])]
    analytics = config.analytics
    assert analytics is not None, "the embedded default runs court analytics"
    assert (analytics.player_model, analytics.player_label, analytics.ball_model, analytics.cameras) == (
        "yolo", "player", "ball", ["court-1"])
    assert analytics.seed_calibrations == {"court-1": "demo-scene"}
    assert config.fanout.analytics_url == f"http://127.0.0.1:{analytics.port}"


def test_environment_overrides_nested_fields() -> None:
    config = load_config(EMBEDDED, environ={
        "COURTSIDE_NATS__URL": "nats://127.0.0.1:4333",
        "COURTSIDE_FANOUT__PORT": "9000",
        "COURTSIDE_AUTH__ENABLED": "false",
        "UNRELATED": "x",
    })
    assert config.nats.url is not None and config.nats.url.get_secret_value() == "nats://127.0.0.1:4333"
    assert config.fanout.port == 9000


def test_errors_name_the_field_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "court.yaml"
    path.write_text("cameras:\n  - id: court.1\n    url: ftp://cam\n  - id: c2\n    url: rtsp:///nohost\n"
                    "fanout:\n  port: 70000\n  colour: blue\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    text = str(info.value)
    assert str(path) in text
    assert "cameras.0.id: invalid camera 'court.1'" in text
    assert "cameras.0.url: camera url must start with" in text
    assert "cameras.1.url: rtsp url has no host" in text
    assert "fanout.port:" in text
    assert "fanout.colour: unknown key" in text


def test_env_override_errors_are_reported_too() -> None:
    with pytest.raises(ConfigError, match=r"fanout\.port"):
        parse_config({}, "x.yaml", environ={"COURTSIDE_FANOUT__PORT": "many"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cameras": [{"id": "a", "url": "demo://x"}, {"id": "a", "url": "demo://y"}]}, "duplicate camera"),
        ({"cameras": [{"id": "a", "url": "demo://x"}], "models": [{"name": "m", "cameras": ["b"]}]},
         "unknown cameras: b"),
        ({"auth": {"enabled": True}}, "no tokens"),
        ({"models": [{"name": "m", "batch": 0}]}, "models.0.batch"),
        ([1, 2], "top level must be a mapping"),
    ],
)
def test_semantic_errors(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data, "x.yaml", environ={})  # type: ignore[arg-type]


def test_missing_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.yaml", environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, environ={})


def test_secrets_are_masked_in_repr() -> None:
    config = parse_config({"cameras": [{"id": "c", "url": "rtsp://admin:hunter2@10.0.0.5/stream"}]},
                          environ={})
    assert "hunter2" not in repr(config)
    assert "hunter2" not in config.model_dump_json()


def test_cli_reports_bad_config_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "court.yaml"
    path.write_text("cameras:\n  - id: 'bad id'\n    url: demo://x\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "courtside", "--config", str(path), "check-config"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cameras.0.id: invalid camera 'bad id'" in result.stderr
    assert "Traceback" not in result.stderr


def test_service_command_without_nats_url_says_what_to_do() -> None:
    result = subprocess.run([sys.executable, "-m", "courtside", "fanout"], capture_output=True, text=True,
                            timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "COURTSIDE_NATS__URL" in result.stderr
