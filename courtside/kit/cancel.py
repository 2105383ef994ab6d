"""Cancellation that a library swallowed, raised again where a service loop can see it.

nats-py swallows ``CancelledError`` in places (``Client._flush_pending``, on every publish
that waits for its flusher): a task cancelled there carries on, and a ``while True`` loop
around it never ends, so ``task.cancel(); await task`` waits for ever (seen: the archiver,
in a test's teardown on a loaded machine). Python 3.11 keeps count of the cancel requests a
task has not yet finished with (:meth:`asyncio.Task.cancelling`); every service loop checks it
once a pass. Stopping a task is one call, :func:`cancel_and_wait`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


def raise_if_cancelled() -> None:
    """Raise :class:`asyncio.CancelledError` when the current task was asked to stop but carried on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_and_wait(*tasks: asyncio.Task[Any]) -> None:
    """Cancel every one of ``tasks``, then wait until each has finished, in order.

    A task's own cancellation is what was asked for and is not raised; any other error a
    task ended with is (the first one, once every task was cancelled).
    """
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
