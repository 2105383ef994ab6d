"""fanout: live annotations (and JPEG frames) from NATS to WebSocket clients, REST, web pages.

Data flow: NATS ``annotations.*.*`` / ``frames.<cam>`` / ``status.*.*`` -> :mod:`fanout.bridge`
-> :mod:`fanout.hub` (encode and frame once) -> each client's socket, written directly while it
keeps up (:mod:`fanout.direct_write`), else through its bounded queue and sender task
(:mod:`fanout.channel`, :mod:`fanout.ws_session`). The entry point is :func:`fanout.service.run`; tests build the
app in-process with :func:`fanout.app.create_app`.
"""
