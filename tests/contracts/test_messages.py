from __future__ import annotations

import json
from dataclasses import replace

import pytest
from courtside_contracts import (
    Annotation,
    Ball,
    ContractError,
    DetectedObject,
    FrameMeta,
    Heartbeat,
    Latency,
    ServiceState,
)
from courtside_contracts.headers import MSG_ID, annotation_headers
from courtside_contracts.ws import (
    MAX_CLIENT_MESSAGE_BYTES,
    Ping,
    ProtocolError,
    Subscribe,
    VideoHeader,
    pack_video,
    parse_client_message,
    unpack_video,
)


def _annotation() -> Annotation:
    return Annotation(
        camera="court-1", seq=42, ts=1_700_000_000_123_456_789, model="yolo", model_version="yolo11n",
        weights="untrained", frame_w=1280, frame_h=720, latency=Latency(1.5, 20.25, 30.0),
        objects=(
            DetectedObject("person", 0, 0.91234, (10.0, 20.5, 110.0, 220.0), track_id=7,
                           keypoints=((15.0, 25.0, 0.9), (16.0, 26.0, 0.8))),
            DetectedObject("sports ball", 32, 0.5, (600.0, 300.0, 610.0, 310.0)),
        ),
        ball=Ball(605.0, 305.0, 0.77, True),
    )


def test_annotation_round_trip() -> None:
    original = _annotation()
    parsed = Annotation.from_json(original.to_json())
    assert parsed == original
    wire = json.loads(original.to_json())
    assert wire["frame"] == {"w": 1280, "h": 720}
    assert wire["latency_ms"] == {"queue": 1.5, "infer": 20.25, "total": 30.0}
    assert wire["objects"][0]["track_id"] == 7
    assert "track_id" not in wire["objects"][1]
    assert "trained_on" not in wire  # absent unless known
    trained = replace(original, weights="trained", trained_on="synthetic court (courtside.sim v1)")
    assert Annotation.from_json(trained.to_json()) == trained


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(weights="maybe"), "weights"),
        (lambda d: d.update(camera="a.b"), "camera"),
        (lambda d: d.update(seq=-1), "seq"),
        (lambda d: d.update(seq=True), "seq"),
        (lambda d: d["objects"][0].update(box=[1, 2, 3]), r"objects\[0\].box"),
        (lambda d: d["objects"][0].update(box=[5, 5, 1, 1]), "x1 <= x2"),
        (lambda d: d["objects"][0].update(score="high"), "score"),
        (lambda d: d["frame"].update(w=0), "frame.w"),
        (lambda d: d.pop("latency_ms"), "latency_ms"),
        (lambda d: d["ball"].update(visible="yes"), "ball.visible"),
        (lambda d: d.update(trained_on=7), "trained_on"),
        (lambda d: d.update(trained_on=""), "trained_on"),
        (lambda d: d.update(trained_on="x" * 201), "trained_on"),
    ],
)
def test_annotation_rejects_malformed_fields(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(_annotation().to_json())
    mutate(data)
    with pytest.raises(ContractError, match=message):
        Annotation.from_dict(data)


@pytest.mark.parametrize("payload", [b"", b"{", b"\xff\xfe", b"[]", b"null", b'"x"'])
def test_annotation_rejects_garbage(payload: bytes) -> None:
    with pytest.raises(ContractError):
        Annotation.from_json(payload)


def test_annotation_rejects_nan() -> None:
    data = json.loads(_annotation().to_json())
    data["objects"][0]["score"] = float("nan")
    with pytest.raises(ContractError, match="finite"):
        Annotation.from_dict(data)


def test_frame_meta_round_trip() -> None:
    meta = FrameMeta(camera="court-1", seq=5, ts=123, width=1280, height=720, pts=0.1666)
    assert FrameMeta.from_headers(meta.to_headers()) == meta
    no_pts = FrameMeta(camera="c", seq=0, ts=0, width=1, height=1)
    assert FrameMeta.from_headers(no_pts.to_headers()).pts is None


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (None, "no headers"),
        ({"Cs-Seq": "1"}, "Cs-Camera"),
        ({"Cs-Camera": "c", "Cs-Seq": "x", "Cs-Ts": "1", "Cs-Width": "1", "Cs-Height": "1"}, "Cs-Seq"),
        ({"Cs-Camera": "c", "Cs-Seq": "1", "Cs-Ts": "1", "Cs-Width": "0", "Cs-Height": "1"}, "Cs-Width"),
        ({"Cs-Camera": "c.d", "Cs-Seq": "1", "Cs-Ts": "1", "Cs-Width": "1", "Cs-Height": "1"}, "camera"),
        ({"Cs-Camera": "c", "Cs-Seq": "1", "Cs-Ts": "1", "Cs-Width": "1", "Cs-Height": "1",
          "Cs-Encoding": "png"}, "encoding"),
    ],
)
def test_frame_meta_rejects_bad_headers(headers, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContractError, match=message):
        FrameMeta.from_headers(headers)


def test_annotation_headers_carry_dedup_id() -> None:
    headers = annotation_headers("court-1", "yolo", 9, 100)
    assert headers[MSG_ID] == "court-1.yolo.9"


def test_heartbeat_round_trip_and_rejects_garbage() -> None:
    beat = Heartbeat("ingest", "i-1", ServiceState.READY, 5, cameras={"c1": {"state": "live"}})
    parsed = Heartbeat.from_json(beat.to_json())
    assert parsed.cameras == {"c1": {"state": "live"}} and parsed.state is ServiceState.READY
    for bad in (b"{", b"[]", b'{"service":"a.b","instance":"i","state":"ready","ts":1}',
                b'{"service":"a","instance":"i","state":"weird","ts":1}'):
        with pytest.raises(ContractError):
            Heartbeat.from_json(bad)


def test_ws_client_messages() -> None:
    sub = parse_client_message('{"v":1,"op":"subscribe","cameras":["c1","c1","c2"],"video":"jpeg"}')
    assert sub == Subscribe(("c1", "c2"), None, "jpeg")
    assert parse_client_message('{"op":"ping","nonce":"n"}') == Ping("n")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "bad_json"),
        ("[1]", "bad_request"),
        ('{"op":"dance"}', "unknown_op"),
        ('{"v":2,"op":"ping"}', "bad_version"),
        ('{"op":"subscribe","cameras":["../x"]}', "bad_request"),
        ('{"op":"subscribe","cameras":"c1"}', "bad_request"),
        ('{"op":"subscribe","video":"h264"}', "bad_request"),
        ("x" * (MAX_CLIENT_MESSAGE_BYTES + 1), "too_large"),
    ],
)
def test_ws_client_garbage_gets_a_code(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(text)
    assert info.value.code == code


def test_video_message_round_trip() -> None:
    header = VideoHeader("court-1", 2**40, 1_700_000_000_000_000_000, 1280, 720)
    jpeg = b"\xff\xd8fakejpeg\xff\xd9"
    got_header, got_jpeg = unpack_video(pack_video(header, jpeg))
    assert got_header == header and got_jpeg == jpeg
    with pytest.raises(ContractError):
        unpack_video(pack_video(header, jpeg)[:10])
