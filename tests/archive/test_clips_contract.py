"""The segment message contract: round trip and field-named errors (pure, no servers)."""

from __future__ import annotations

import json

import pytest
from courtside_contracts.clips import IndexEntry, SegmentMessage, segment_id
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import recording_flush_subject


def message(**changes: object) -> SegmentMessage:
    fields: dict[str, object] = dict(
        segment_id=segment_id("court-1", 1_000), camera="court-1", start_ns=1_000, end_ns=10_000_001_000,
        codec="h264", width=640, height=360, size=12345, object_key=segment_id("court-1", 1_000),
        fragments=10, crc32c=0xDEADBEEF, pts_origin=2.0,
        index=(IndexEntry(7, 2.0, 1_000), IndexEntry(None, 2.0333, 34_000_000)))
    fields.update(changes)
    return SegmentMessage(**fields)  # type: ignore[arg-type]


def test_round_trip() -> None:
    msg = message()
    again = SegmentMessage.from_json(msg.to_json())
    assert again == msg
    assert again.duration_s == pytest.approx(10.0)


@pytest.mark.parametrize(("changes", "field"), [
    ({"end_ns": 1_000}, "end_ns"),
    ({"codec": "vp8"}, "codec"),
    ({"camera": "a.b"}, "camera"),
    ({"segment_id": "../etc-1"}, "segment_id"),
    ({"object_key": "x/../y"}, "object_key"),
    ({"crc32c": 1 << 32}, "crc32c"),
    ({"size": 0}, "bytes"),
    ({"index": (IndexEntry(1, 1.0, 5),)}, "index[0].pts"),
])
def test_bad_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ContractError, match=field.replace("[", r"\[").replace("]", r"\]")):
        message(**changes)


def test_bad_json_names_field() -> None:
    raw = json.loads(message().to_json())
    raw["index"] = [[1, "x", 5]]
    with pytest.raises(ContractError, match=r"index\[0\]\.pts"):
        SegmentMessage.from_dict(raw)
    with pytest.raises(ContractError, match="not JSON"):
        SegmentMessage.from_json(b"{")


def test_flush_subject_validates_camera() -> None:
    assert recording_flush_subject("court-1") == "recording.flush.court-1"
    with pytest.raises(ValueError):
        recording_flush_subject("*")
