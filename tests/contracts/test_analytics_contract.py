"""The analytics message and the stored calibration: round trips, and garbage refused with the field named."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from courtside_contracts.analytics import (
    ANALYTICS_VERSION,
    AnalyticsMessage,
    BallState,
    BounceEvent,
    CalibrationInfo,
    HitEvent,
    PlayerState,
    RallyState,
    RallyStats,
)
from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import ANALYTICS_ALL, CALIBRATION_BUCKET, analytics_subject

TS = 1_700_000_000_000_000_000


def _message() -> AnalyticsMessage:
    zones = {"net": 1.5, "transition": 0.25, "back": 3.0}
    return AnalyticsMessage(
        camera="court-1", seq=42, ts=TS, calibration=CalibrationInfo(3, "pose", 0.812),
        players=(PlayerState(7, "near", -2.5, 3.25, 4.125, 120.5, "back", zones),
                 PlayerState(1000001, "far", 1.0, 12.0, 0.0, 0.0, "net", zones)),
        ball=BallState(1.25, 9.5, 0.875, 21.5, 0.75, "3d"),
        bounces=(BounceEvent(40, TS - 66_000_000, 1.0, 8.0, 0.031, "floor"),),
        rally=RallyState(True, TS - 3_000_000_000, 4),
        finished_rally=RallyStats(TS - 9_000_000_000, TS - 4_000_000_000, 6, 18.25, "double bounce"),
        hits=(HitEvent(39, TS - 100_000_000, 7, "near", -2.0, 3.5, 1.125),),
    )


def test_round_trip_and_units_on_the_wire() -> None:
    original = _message()
    parsed = AnalyticsMessage.from_json(original.to_json())
    assert parsed == original
    wire = json.loads(original.to_json())
    assert wire["v"] == ANALYTICS_VERSION and wire["camera"] == "court-1"
    assert wire["finished_rally"]["duration_s"] == 5.0
    assert set(wire["players"][0]["zone_s"]) == {"net", "transition", "back"}
    floor_only = AnalyticsMessage("c", 1, TS, CalibrationInfo(1, "floor", 1.0),
                                  ball=BallState(0.0, 5.0, None, 3.0, None, "court_plane"))
    again = AnalyticsMessage.from_json(floor_only.to_json())
    assert again == floor_only and again.rally is None and again.ball is not None and again.ball.z is None
    assert analytics_subject("court-1") == "analytics.court-1" and ANALYTICS_ALL == "analytics.*"
    assert CALIBRATION_BUCKET == "calibration"


def test_hits_an_added_field_older_readers_ignore() -> None:
    """``hits`` is absent from the JSON when there are none (the first form of version 1, byte for byte),
    and a message without it parses with none: old and new readers and writers mix."""
    wire = json.loads(_message().to_json())
    assert wire["hits"] == [{"seq": 39, "ts": TS - 100_000_000, "track_id": 7, "side": "near",
                             "x": -2.0, "y": 3.5, "z": 1.125}]
    bare = dataclasses.replace(_message(), hits=())
    assert "hits" not in json.loads(bare.to_json())
    del wire["hits"]
    assert AnalyticsMessage.from_dict(wire) == bare
    with pytest.raises(ContractError, match="limit 16"):
        dataclasses.replace(bare, hits=_message().hits * 17)


def _broken(path: list[Any], value: Any) -> bytes:
    wire = json.loads(_message().to_json())
    node = wire
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(wire).encode()


@pytest.mark.parametrize(("path", "value", "field"), [
    (["v"], 2, "v must be"),
    (["camera"], "a.b", "invalid camera"),
    (["seq"], -1, "seq"),
    (["ts"], "soon", "ts"),
    (["calibration", "kind"], "guess", "calibration.kind"),
    (["calibration", "revision"], 0, "calibration.revision"),
    (["players"], {}, "players must be an array"),
    (["players"], [{}] * 33, "limit 32"),
    (["players", 0, "x"], None, "players[0].x"),
    (["players", 0, "side"], "left", "players[0].side"),
    (["players", 0, "zone_s"], {"net": 1.0}, "zone_s must have exactly"),
    (["players", 0, "speed_mps"], -1.0, "players[0].speed_mps"),
    (["ball", "speed_kind"], "warp", "ball.speed_kind"),
    (["ball", "x"], float("nan"), "ball.x"),
    (["bounces", 0, "surface"], "sand", "bounces[0].surface"),
    (["rally", "active"], True, None),
    (["rally", "start_ts"], None, "start_ts is set exactly when"),
    (["finished_rally", "end_ts"], TS - 10_000_000_000, "end_ts must be after"),
    (["finished_rally", "reason"], "rain", "finished_rally.reason"),
    (["hits"], {}, "hits must be an array"),
    (["hits"], [{}] * 17, "limit 16"),
    (["hits", 0, "side"], "left", "hits[0].side"),
    (["hits", 0, "track_id"], 1.5, "hits[0].track_id"),
    (["hits", 0, "z"], float("inf"), "hits[0].z"),
    (["hits", 0, "seq"], None, "hits[0].seq"),
])
def test_garbage_refused_naming_the_field(path: list[Any], value: Any, field: str | None) -> None:
    payload = _broken(path, value)
    if field is None:  # a valid edit: still parses
        assert AnalyticsMessage.from_json(payload).rally is not None
        return
    with pytest.raises(ContractError, match=field.replace("[", r"\[").replace("]", r"\]")):
        AnalyticsMessage.from_json(payload)


@pytest.mark.parametrize("payload", [b"", b"\xff", b"[]", b"null", b"{}", b'{"v": 1}', b"[" * 100_000])
def test_not_json_or_not_an_object(payload: bytes) -> None:
    with pytest.raises(ContractError):
        AnalyticsMessage.from_json(payload)


def test_court_plane_ball_has_no_height_or_band() -> None:
    with pytest.raises(ContractError, match="court_plane"):
        BallState(0.0, 1.0, 0.5, 2.0, None, "court_plane")


def test_calibration_record_round_trip_and_refusals() -> None:
    record = CalibrationRecord("court-1", 1280, 720, {"near left corner": (10.5, 700.25), "far service T": (640, 200)},
                               TS)
    parsed = CalibrationRecord.from_json(record.to_json())
    assert parsed.camera == "court-1" and parsed.width == 1280 and parsed.points["near left corner"] == (10.5, 700.25)
    assert parsed.source is None and "source" not in json.loads(record.to_json())
    labelled = dataclasses.replace(record, source="the demo scene's known camera")
    assert CalibrationRecord.from_json(labelled.to_json()) == labelled
    good = json.loads(record.to_json())
    for edit, field in [({"v": 9}, "v must be"), ({"width": 0}, "width"), ({"height": "720"}, "height"),
                        ({"camera": "a b"}, "invalid camera"), ({"points": {}}, "1-64 entries"),
                        ({"points": {"x": [1, "2"]}}, "two finite numbers"), ({"points": {"x": [1]}}, r"\[u, v\]"),
                        ({"points": []}, "object of name"), ({"set_ns": None}, "set_ns"),
                        ({"source": 5}, "source"), ({"source": ""}, "source"), ({"source": "a\nb"}, "source"),
                        ({"source": "x" * 201}, "source")]:
        with pytest.raises(ContractError, match=field):
            CalibrationRecord.from_json(json.dumps({**good, **edit}))
    for junk in (b"{", b"[1]", b"\xfe"):
        with pytest.raises(ContractError):
            CalibrationRecord.from_json(junk)
