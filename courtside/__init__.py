"""Courtside's shared runtime: configuration, NATS boundary, embedded server, processes, the kit.

Services (``ingest``, ``inference``, ``fanout``) depend on this and on
``courtside_contracts``, never on each other; this library half never imports a service.
The composition root that does (CLI, supervisor) is :mod:`courtside.app`.
"""

__version__ = "0.1.0"
