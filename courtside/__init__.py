"""Courtside's shared runtime: configuration, NATS boundary, embedded server, CLI.

Services (``ingest``, ``inference``, ``fanout``) depend on this and on
``contracts``, never on each other.
"""

__version__ = "0.1.0"
