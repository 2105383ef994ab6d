"""fanout: live annotations (and JPEG frames) from NATS to WebSocket clients, REST, web pages.

Data flow: NATS ``annotations.*.*`` / ``frames.<cam>`` / ``status.*.*`` -> :mod:`fanout.bridge`
-> :mod:`fanout.hub` (encode once, enqueue per client) -> one sender task per client
(:mod:`fanout.ws_session`). The entry point is :func:`fanout.service.run`; tests build the
app in-process with :func:`fanout.app.create_app`.
"""
