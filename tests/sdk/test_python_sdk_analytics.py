"""The Python SDK types the analytics messages of /ws and refuses malformed ones."""

from __future__ import annotations

import pytest
from courtside_client import AnalyticsUpdate, parse_message
from courtside_contracts.analytics import AnalyticsMessage, BallState, CalibrationInfo
from courtside_contracts.errors import ContractError
from courtside_contracts.ws import server_message


def test_analytics_message_parsed_and_typed() -> None:
    sent = AnalyticsMessage("c1", 4, 1_800_000_000_000_000_000, CalibrationInfo(1, "floor", 1.5),
                            ball=BallState(1.0, 2.0, None, 3.0, None, "court_plane"))
    msg = parse_message(server_message("analytics", analytics=sent.to_dict()))
    assert isinstance(msg, AnalyticsUpdate) and msg.analytics == sent and (msg.camera, msg.seq) == ("c1", 4)
    with pytest.raises(ContractError, match="calibration"):
        parse_message(server_message("analytics", analytics={"v": 1, "camera": "c1", "seq": 1, "ts": 1}))
