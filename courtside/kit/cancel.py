"""Cancellation that a library swallowed, raised again where a service loop can see it.

nats-py swallows ``CancelledError`` in places (``Client._flush_pending``, on every publish
that waits for its flusher): a task cancelled there carries on, and a ``while True`` loop
around it never ends, so ``task.cancel(); await task`` waits for ever (seen: the archiver,
in a test's teardown on a loaded machine). Python 3.11 keeps count of the cancel requests a
task has not yet finished with (:meth:`asyncio.Task.cancelling`); every service loop checks it
once a pass.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise :class:`asyncio.CancelledError` when the current task was asked to stop but carried on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
