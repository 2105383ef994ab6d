"""The client side of the WebSocket contract: subprotocols, ops and their builders, error codes,
status subjects and the one error root."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from courtside_contracts import ContractError, Heartbeat, InvalidName
from courtside_contracts.names import validate_name
from courtside_contracts.subjects import (
    SERVICE_INFERENCE,
    SERVICE_INGEST,
    STATUS_ALL,
    status_subject,
    status_wildcard,
)
from courtside_contracts.ws import (
    BEARER_SUBPROTOCOL_PREFIX,
    CLIENT_OPS,
    ERROR_CODES,
    OP_PING,
    OP_SUBSCRIBE,
    SUBPROTOCOL,
    VIDEO_FIXED_BYTES,
    Ping,
    ProtocolError,
    Subscribe,
    VideoHeader,
    bearer_from_subprotocols,
    bearer_subprotocol,
    pack_video,
    parse_client_message,
    ping_message,
    subscribe_message,
)

REPO = Path(__file__).resolve().parents[2]


def test_invalid_name_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="invalid camera"):
        validate_name("a.b", "camera")
    assert issubclass(InvalidName, ContractError) and issubclass(InvalidName, ValueError)


def test_a_heartbeat_with_a_bad_name_still_says_it_is_a_malformed_heartbeat() -> None:
    raw = json.dumps({"service": "in gest", "instance": "i", "state": "ready", "ts": 1})
    with pytest.raises(ContractError, match=r"^malformed heartbeat: invalid service 'in gest'"):
        Heartbeat.from_json(raw)


def test_status_subjects() -> None:
    assert status_subject(SERVICE_INFERENCE, "yolo-1") == "status.inference.yolo-1"
    assert status_wildcard(SERVICE_INGEST) == "status.ingest.*"
    assert status_wildcard() == STATUS_ALL == "status.*.*"
    with pytest.raises(InvalidName):
        status_wildcard("*")


def test_builders_make_what_the_server_parses() -> None:
    assert CLIENT_OPS == (OP_SUBSCRIBE, OP_PING) == ("subscribe", "ping")
    assert parse_client_message(subscribe_message()) == Subscribe(None, None, "none")
    assert parse_client_message(subscribe_message(["c1", "c2"], ["yolo"], "jpeg")) == \
        Subscribe(("c1", "c2"), ("yolo",), "jpeg")
    assert json.loads(subscribe_message(cameras=[])) == {"v": 1, "op": "subscribe", "video": "none",
                                                         "cameras": []}
    assert parse_client_message(ping_message("n-1")) == Ping("n-1")
    assert parse_client_message(ping_message()) == Ping(None)
    with pytest.raises(ProtocolError) as refused:  # the server, not the builder, judges names
        parse_client_message(subscribe_message(["a.b"]))
    assert refused.value.code == "bad_request"


def test_bearer_subprotocol() -> None:
    assert SUBPROTOCOL == "courtside.v1" and BEARER_SUBPROTOCOL_PREFIX == "bearer."
    token = "t0k-en_123"  # noqa: S105 - a test token
    assert bearer_from_subprotocols([SUBPROTOCOL, bearer_subprotocol(token)]) == token
    assert bearer_from_subprotocols([SUBPROTOCOL]) is None
    assert bearer_from_subprotocols(["bearer."]) is None


@pytest.mark.parametrize(("message", "code"), [
    ("{", "bad_json"), ("[]", "bad_request"), ('{"v": 2, "op": "ping"}', "bad_version"),
    ('{"v": 1, "op": "dance"}', "unknown_op"), (" " * 20000, "too_large"),
    ('{"v": 1, "op": "subscribe", "video": "mp4"}', "bad_request"),
])
def test_every_code_the_parser_raises_is_a_listed_error_code(message: str, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_message(message)
    assert refused.value.code == code and code in ERROR_CODES


def test_every_error_code_fanout_sends_is_listed() -> None:
    """Each ``error_message("<code>", ...)`` in fanout names a code of the contract."""
    sent = set()
    for path in (REPO / "fanout").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "error_message"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                sent.add(node.args[0].value)
    assert sent, "fanout sends no error code literally any more: update this test"
    assert sent <= set(ERROR_CODES), sent - set(ERROR_CODES)


def test_video_header_layout() -> None:
    packed = pack_video(VideoHeader("cam", 1, 2, 3, 4), b"")
    assert VIDEO_FIXED_BYTES == 20 and len(packed) == 2 + len("cam") + VIDEO_FIXED_BYTES
