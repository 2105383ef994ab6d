"""A nats-server the test owns: killed with SIGKILL and started again on the same port and store.

(The embedded server of ``courtside up`` picks its own port; a test that kills the server
itself needs one it started, configured into ``courtside up`` as ``nats.url``.)
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from courtside.nats_server import nats_server_binary
from tests.conftest import free_port


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


class NatsProcess:
    """nats-server with JetStream on 127.0.0.1:``port`` (a free one by default), store under ``work``."""

    def __init__(self, work: Path, port: int | None = None, extra_conf: str = "") -> None:
        self.work = work
        self.port = port or free_port()
        self.store = work / "jetstream"
        work.mkdir(parents=True, exist_ok=True)
        self.conf = work / "nats.conf"
        self.conf.write_text(f"max_payload: 8388608\n{extra_conf}", encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10) -> float:
        """Start and wait until it accepts connections; the monotonic time it did."""
        self.store.mkdir(parents=True, exist_ok=True)
        log = (self.work / "nats.log").open("ab")
        self.proc = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(self.conf), "-a", "127.0.0.1", "-p", str(self.port),
             "-js", "-sd", str(self.store)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while not accepts(self.port):
            assert self.proc.poll() is None, (self.work / "nats.log").read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.01)
        return time.monotonic()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NatsCluster:
    """Three clustered JetStream nodes on loopback (routes between all three), each with its store."""

    def __init__(self, work: Path, size: int = 3) -> None:
        route_ports = [free_port() for _ in range(size)]
        routes = ", ".join(f"nats://127.0.0.1:{p}" for p in route_ports)
        self.nodes = []
        for i, route_port in enumerate(route_ports):
            node_dir = work / f"n{i + 1}"
            conf = (f'server_name: "n{i + 1}"\n'
                    f"cluster {{ name: courtside, listen: 127.0.0.1:{route_port}, routes: [{routes}] }}\n")
            self.nodes.append(NatsProcess(node_dir, extra_conf=conf))

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
