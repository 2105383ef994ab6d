"""asyncio client for Courtside fanout's live WebSocket (protocol v1).

    async with CourtsideClient("ws://127.0.0.1:8000/ws", token=...) as client:
        async for msg in client.subscribe(cameras=["court-1"], video="none"):
            if isinstance(msg, AnnotationMessage):
                print(msg.annotation.objects)

Reconnects with capped, jittered exponential backoff and re-subscribes; a new
:class:`Subscribed` is yielded after every (re)connection.
"""

from courtside_client.client import AuthError, CourtsideClient, backoff_delay
from courtside_client.messages import (
    AnalyticsUpdate,
    AnnotationMessage,
    Dropped,
    Error,
    Message,
    Status,
    Subscribed,
    VideoFrame,
    parse_message,
)

__all__ = [
    "AnalyticsUpdate", "AnnotationMessage", "AuthError", "CourtsideClient", "Dropped", "Error", "Message", "Status",
    "Subscribed", "VideoFrame", "backoff_delay", "parse_message",
]
