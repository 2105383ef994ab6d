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
    (None, [*MODELS, {"name": "analytics"}], "no model may be named 'analytics'"),
])
def test_refusals_name_the_field(section: dict[str, object] | None, models: list[dict[str, object]],
                                 message: str) -> None:
    data: dict[str, object] = {"cameras": [{"id": "c1", "url": "demo://padel"}], "models": models}
    if section is not None:
        data["analytics"] = section
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_config(data, environ={})
