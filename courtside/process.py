"""Child processes that cannot outlive their parent.

Every child gets ``PR_SET_PDEATHSIG=SIGTERM`` (Linux): if the parent dies, even
by SIGKILL, the kernel stops the child, so ``courtside up`` never leaves
orphans behind.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: Sequence[str], *, env: dict[str, str] | None = None,
          stdout: int | None = None, stderr: int | None = None,
          own_group: bool = True, nice: int = 0) -> subprocess.Popen[bytes]:
    """Start ``args`` as a child that dies with us.

    ``own_group`` puts it in its own process group so that a terminal's Ctrl-C
    reaches only the supervisor, which then stops children in order. ``nice`` is added to
    the child's scheduling niceness (0: as ours).
    """
    def before_exec() -> None:
        _die_with_parent()
        if nice:
            os.nice(nice)

    return subprocess.Popen(
        list(args), env=env, stdout=stdout, stderr=stderr,
        preexec_fn=before_exec, process_group=0 if own_group else None,
    )


def stop_all(procs: Sequence[tuple[str, subprocess.Popen[bytes]]], timeout_s: float = 4.0) -> None:
    """SIGTERM every child in the given order, wait for all up to ``timeout_s`` in total,
    then SIGKILL the process groups of those still running."""
    for _name, proc in procs:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout_s
    for name, proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.1f s; killing it", name, timeout_s)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:  # not a group leader (not started by spawn): the process alone
                proc.kill()
            proc.wait()


def stop(proc: subprocess.Popen[bytes], name: str, timeout_s: float = 4.0) -> None:
    """Stop one child: :func:`stop_all` of one."""
    stop_all([(name, proc)], timeout_s)
