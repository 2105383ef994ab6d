"""/ws carries ``analytics`` messages from ``analytics.<camera>``: to clients of the camera that ask for
everything or name ``analytics`` among their models; malformed ones are counted and not forwarded."""

from __future__ import annotations

import json

import websockets
from courtside_contracts.analytics import AnalyticsMessage, BallState, CalibrationInfo, PlayerState
from courtside_contracts.subjects import analytics_subject
from courtside_contracts.ws import ANALYTICS_MODEL
from nats.aio.client import Client as NATS

from fanout.testing import RunningFanout, make_annotation, publish_annotation
from tests.fanout.test_ws import metric, next_json, subscribe


def _analytics(camera: str, seq: int) -> AnalyticsMessage:
    zones = {"net": 0.0, "transition": 0.0, "back": 1.0}
    return AnalyticsMessage(camera, seq, 1_800_000_000_000_000_000 + seq, CalibrationInfo(2, "pose", 0.5),
                            (PlayerState(1, "near", 0.5, 2.0, 1.5, 3.0, "back", zones),),
                            BallState(0.0, 9.0, 1.2, 20.0, 0.5, "3d"))


async def test_analytics_reach_the_clients_that_ask(fanout: RunningFanout, nc: NATS) -> None:
    async with websockets.connect(fanout.ws_url, compression=None) as models_only, \
            websockets.connect(fanout.ws_url, compression=None) as asks, \
            websockets.connect(fanout.ws_url, compression=None) as wide, \
            websockets.connect(fanout.ws_url, compression=None) as other_camera:
        await subscribe(models_only, cameras=["c1"], models=["yolo"])
        await subscribe(asks, cameras=["c1"], models=[ANALYTICS_MODEL])
        await subscribe(wide)
        await subscribe(other_camera, cameras=["c2"])
        await nc.publish(analytics_subject("c1"), b'{"v": 1, "camera": "c1"}')  # malformed: not forwarded
        await nc.publish(analytics_subject("c1"), _analytics("c2", 1).to_json())  # subject disagrees
        sent = _analytics("c1", 5)
        await nc.publish(analytics_subject("c1"), sent.to_json())
        for ws in (asks, wide):
            got = (await next_json(ws, "analytics"))["analytics"]
            assert AnalyticsMessage.from_dict(got) == sent
        marker = make_annotation("c1", "yolo", 6)
        await publish_annotation(nc, marker)
        assert (await next_json(models_only, "annotation"))["annotation"]["seq"] == 6  # no analytics before it
        await publish_annotation(nc, make_annotation("c2", "yolo", 6))
        assert (await next_json(other_camera, "annotation"))["annotation"]["camera"] == "c2"
    assert await metric(fanout, 'courtside_fanout_nats_messages_total{kind="analytics",result="malformed"}') == 2
    assert await metric(fanout, 'courtside_fanout_nats_messages_total{kind="analytics",result="ok"}') == 1
    assert json.loads(sent.to_json())["v"] == 1
