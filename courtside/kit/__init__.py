"""The service kit: the plumbing every Courtside service runs on, solved once.

- :mod:`~courtside.kit.lifecycle`: start in order, ready, drain, stop in reverse; the state behind
  ``/readyz`` and the heartbeat.
- :mod:`~courtside.kit.readiness`: the one JSON shape of ``/readyz`` (pure).
- :mod:`~courtside.kit.http_server` and :mod:`~courtside.kit.ops_routes`: uvicorn inside the
  service's event loop, serving ``/healthz``, ``/readyz`` and ``/metrics``.
- :mod:`~courtside.kit.heartbeat`: ``status.<service>.<instance>`` every interval, and at once on change.
- :mod:`~courtside.kit.queue`: the bounded drop-oldest queue (pure), and its thread-safe form.
- :mod:`~courtside.kit.rate`: events per second over a sliding window (pure).

The kit imports the contract and third-party libraries, never a service package.
"""
