"""Whether a process still runs, from Linux ``/proc``: for tests that check nothing outlives a service."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie (a zombie has exited; only its parent has not reaped it yet)."""
    try:
        # /proc/<pid>/stat: "pid (comm) state ...", and comm may hold spaces and parentheses.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
