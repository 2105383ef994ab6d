"""The composition root: the ``courtside`` command, ``courtside up`` and the embedded configuration.

The only code that imports the services (``ingest``, ``inference``, ``fanout``); everything
else in ``courtside`` is the library half they build on and never imports them
(tests/test_layering.py enforces the direction).
"""
