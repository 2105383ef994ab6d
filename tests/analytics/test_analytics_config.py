"""The analytics section of the configuration: models and cameras checked against the rest of the file."""

from __future__ import annotations

import pytest

from courtside.config import ConfigError, parse_config

MODELS = [{"name": "people", "task": "track"}, {"name": "ball", "backend": "ball"}]


def test_a_valid_section() -> None:
    config = parse_config({"cameras": [{"id": "c1", "url": "demo://padel"}], "models": MODELS,
                           "analytics": {"player_model": "people", "ball_model": "ball", "cameras": ["c1"]}},
                          environ={})
    assert config.analytics is not None and config.analytics.port == 8003
    assert parse_config({}, environ={}).analytics is None


@pytest.mark.parametrize(("section", "models", "message"), [
    ({"player_model": "nobody", "ball_model": "ball"}, MODELS, "analytics.player_model 'nobody' is not in models"),
    ({"player_model": "people", "ball_model": "people", "cameras": ["c9"]}, MODELS, "unknown cameras: c9"),
    ({"player_model": "people", "ball_model": "ball", "cameras": ["a.b"]}, MODELS, "invalid camera 'a.b'"),
    ({"player_model": "people"}, MODELS, "ball_model"),
    ({"player_model": "people", "ball_model": "ball", "colour": "red"}, MODELS, "colour"),
    ({"player_model": "people", "ball_model": "ball", "ball_noise_px": -0.5}, MODELS, "ball_noise_px"),
    ({"player_model": "people", "ball_model": "ball", "ball_noise_px": float("nan")}, MODELS, "ball_noise_px"),
    ({"player_model": "people", "ball_model": "ball", "ball_noise_px": 9}, MODELS, "ball_noise_px"),
    (None, [*MODELS, {"name": "analytics"}], "no model may be named 'analytics'"),
])
def test_refusals_name_the_field(section: dict[str, object] | None, models: list[dict[str, object]],
                                 message: str) -> None:
    data: dict[str, object] = {"cameras": [{"id": "c1", "url": "demo://padel"}], "models": models}
    if section is not None:
        data["analytics"] = section
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config(data, environ={})


SEED_CAMERAS = [{"id": "c1", "url": "demo://padel"}, {"id": "c2", "url": "rtsp://cam/live"},
                {"id": "c3", "url": "demo://bikes"}]


def test_a_demo_scene_seed_for_the_demo_court() -> None:
    config = parse_config({"cameras": SEED_CAMERAS, "models": MODELS,
                           "analytics": {"player_model": "people", "ball_model": "ball",
                                         "seed_calibrations": {"c1": "demo-scene"}}}, environ={})
    assert config.analytics is not None and config.analytics.seed_calibrations == {"c1": "demo-scene"}
    plain = parse_config({"models": MODELS, "analytics": {"player_model": "people", "ball_model": "ball"}},
                         environ={}).analytics
    assert plain is not None and plain.seed_calibrations == {}


@pytest.mark.parametrize(("seeds", "cameras", "message"), [
    ({"c2": "demo-scene"}, None, "seed_calibrations.c2: demo-scene is the demo court's camera; c2 is not demo://padel"),
    ({"c3": "demo-scene"}, None, "c3 is not demo://padel"),
    ({"c9": "demo-scene"}, None, "seed_calibrations.c9: no camera 'c9'"),
    ({"c1": "demo-scene"}, ["c2"], "seed_calibrations.c1: the camera is not in analytics.cameras"),
    ({"c1": "measured"}, None, "demo-scene"),
])
def test_seed_refusals(seeds: dict[str, str], cameras: list[str] | None, message: str) -> None:
    section: dict[str, object] = {"player_model": "people", "ball_model": "ball", "seed_calibrations": seeds}
    if cameras is not None:
        section["cameras"] = cameras
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("'", ".")):
        parse_config({"cameras": SEED_CAMERAS, "models": MODELS, "analytics": section}, environ={})
