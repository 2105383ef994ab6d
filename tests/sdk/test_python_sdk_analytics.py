"""The Python SDK types the analytics messages of /ws and refuses malformed ones."""

from __future__ import annotations

import pytest
from courtside_client import AnalyticsUpdate, parse_message
from courtside_contracts.analytics import AnalyticsMessage, BallState, CalibrationInfo, HitEvent
from courtside_contracts.errors import ContractError
from courtside_contracts.ws import server_message


def test_analytics_message_parsed_and_typed() -> None:
    sent = AnalyticsMessage("c1", 4, 1_800_000_000_000_000_000, CalibrationInfo(1, "floor", 1.5),
                            ball=BallState(1.0, 2.0, None, 3.0, None, "court_plane"))
    msg = parse_message(server_message("analytics", analytics=sent.to_dict()))
    assert isinstance(msg, AnalyticsUpdate) and msg.analytics == sent and (msg.camera, msg.seq) == ("c1", 4)
    with pytest.raises(ContractError, match="calibration"):
        parse_message(server_message("analytics", analytics={"v": 1, "camera": "c1", "seq": 1, "ts": 1}))


def test_hits_typed_and_absent_hits_read_as_none() -> None:
    hit = HitEvent(3, 1_800_000_000_000_000_000, 2, "far", 1.0, 15.5, 1.25)
    sent = AnalyticsMessage("c1", 4, 1_800_000_000_100_000_000, CalibrationInfo(1, "pose", 0.5), hits=(hit,))
    msg = parse_message(server_message("analytics", analytics=sent.to_dict()))
    assert isinstance(msg, AnalyticsUpdate) and msg.analytics.hits == (hit,)
    older = sent.to_dict()
    del older["hits"]
    again = parse_message(server_message("analytics", analytics=older))
    assert isinstance(again, AnalyticsUpdate) and again.analytics.hits == ()
    with pytest.raises(ContractError, match=r"hits\[0\]\.side"):
        parse_message(server_message("analytics", analytics={**sent.to_dict(), "hits": [{**hit.to_dict(), "side": "up"}]}))
