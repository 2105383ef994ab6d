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
from collections.abc import Sequence

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: Sequence[str], *, env: dict[str, str] | None = None,
          stdout: int | None = None, stderr: int | None = None,
          own_group: bool = True) -> subprocess.Popen[bytes]:
    """Start ``args`` as a child that dies with us.

    ``own_group`` puts it in its own process group so that a terminal's Ctrl-C
    reaches only the supervisor, which then stops children in order.
    """
    return subprocess.Popen(  # noqa: S603 - args come from our own code
        list(args), env=env, stdout=stdout, stderr=stderr,
        preexec_fn=_die_with_parent, process_group=0 if own_group else None,
    )


def stop(proc: subprocess.Popen[bytes], name: str, timeout_s: float = 4.0) -> int:
    """SIGTERM, wait up to ``timeout_s``, then SIGKILL the whole group. Returns the exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.1f s; killing it", name, timeout_s)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return proc.wait()
    return proc.returncode
