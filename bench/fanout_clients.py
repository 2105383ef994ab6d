"""How many WebSocket clients one fanout core serves at 30 annotations/s with p99 < 50 ms.

Run from the repository root: ``.venv/bin/python -m bench.fanout_clients``.

Set-up: the server under test runs in its own process pinned to ONE core
(``os.sched_setaffinity``); lean WebSocket clients (a raw asyncio protocol that
only frames and timestamps messages, so the clients are not the bottleneck) run
in worker processes on the other cores, as do nats-server and the publisher.
Every client receives the same ~1 KB annotation stream at 30 Hz: for fanout
published on NATS (``annotations.bench.yolo``) and forwarded; for the anchor, a
bare ``websockets`` server that generates the same message itself and calls
``websockets.broadcast`` (no per-client queue, no auth, no NATS). Latency is
client receive time minus the annotation's ``ts`` (set at publish).

A trial at N clients passes when p99 < 50 ms and >= 97 % of the expected
messages arrived. The largest passing N is found by a geometric search
(bracket, then bisection to ~8 %) with short windows; each server is searched
``--runs`` times, alternating with the other server so that both meet the same
background load, and the median is reported. Before each search, a cost trial
at ``--cost-clients`` (a load both servers carry) measures the server's CPU
microseconds per client-message (user + system time of its process / messages the
clients received): steadier than client counts on a shared machine. The last line
is ``RESULT fanout_clients=<v> anchor=<v> ratio=<v>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RATE_HZ = 30.0
P99_LIMIT_MS = 50.0
MIN_DELIVERED = 0.97
CAMERA, MODEL = "bench", "yolo"
BIN_NS = 250_000          # latency histogram bin: 0.25 ms
BINS = 8000               # up to 2 s
REPO = Path(__file__).resolve().parents[1]


# -- shared helpers ------------------------------------------------------------------------------
def _raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _annotation(seq: int) -> Any:
    """A ~1 KB annotation (8 tracked people) with ``ts`` = now."""
    from fanout.testing import make_annotation

    boxes = tuple((100.0 + 90 * i, 200.0 + 7 * i, 160.0 + 90 * i, 380.0 + 7 * i) for i in range(8))
    return make_annotation(CAMERA, MODEL, seq, boxes=boxes)


def _message(seq: int) -> str:
    """The protocol message every client receives (what fanout makes of the annotation)."""
    from courtside_contracts.ws import server_message

    return server_message("annotation", annotation=_annotation(seq).to_dict())


async def _paced(rate_hz: float, tick: Callable[[int], Any]) -> None:
    """Call ``tick(seq)`` at ``rate_hz`` on an absolute schedule (no drift)."""
    period = 1 / rate_hz
    start = time.monotonic()
    seq = 0
    while True:
        seq += 1
        result = tick(seq)
        if asyncio.iscoroutine(result):
            await result
        delay = start + seq * period - time.monotonic()
        await asyncio.sleep(max(0.0, delay))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- servers (each in its own process, pinned to one core) ---------------------------------------
def serve_fanout(port: int, nats_url: str, core: int) -> None:
    os.sched_setaffinity(0, {core})
    _raise_nofile()
    from courtside.config import CourtsideConfig
    from courtside.logs import setup_logging
    from fanout.limits import Limits
    from fanout.service import run

    setup_logging("warning")
    config = CourtsideConfig.model_validate({"fanout": {"port": port}})

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run(config, nats_url, stop, limits=Limits(ping_interval_s=600, ping_timeout_s=600))

    asyncio.run(main())


def serve_anchor(port: int, core: int) -> None:
    """The reference: a bare websockets server broadcasting the same stream, compression off."""
    os.sched_setaffinity(0, {core})
    _raise_nofile()
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=4096):
            ticker = asyncio.create_task(_paced(RATE_HZ, lambda seq: broadcast(clients, _message(seq))))
            await stop.wait()
            ticker.cancel()

    asyncio.run(main())


# -- lean clients (worker processes driven over stdin/stdout) -----------------------------------
class _Stats:
    __slots__ = ("closed", "count", "hist")

    def __init__(self) -> None:
        self.count = 0
        self.closed = 0
        self.hist = [0] * (BINS + 1)


_ANNOTATION = b'{"v":1,"type":"annotation"'


class _LeanClient(asyncio.Protocol):
    """A WebSocket client that only frames messages and records ``now - ts`` of annotations."""

    def __init__(self, stats: _Stats, request: bytes, subscribe: bytes) -> None:
        self.stats = stats
        self.request = request
        self.subscribe = subscribe
        self.buf = bytearray()
        self.open = False
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open:
            self.stats.closed += 1
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during handshake"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buf[:40]).decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[:end + 4]
            self.open = True
            self.transport.write(self.subscribe)  # type: ignore[union-attr]
            self.opened.set_result(None)
        now = time.time_ns()
        pos, n = 0, len(buf)
        stats = self.stats
        while n - pos >= 2:
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            opcode = buf[pos] & 0x0F
            start = pos + head
            if opcode == 1 and buf.startswith(_ANNOTATION, start):
                k = buf.find(b'"ts":', start, end) + 5
                ts = int(buf[k:buf.find(b",", k, end)])
                stats.count += 1
                stats.hist[min(BINS, (now - ts) // BIN_NS)] += 1
            elif opcode == 9:  # ping -> pong (masked with a zero key)
                payload = bytes(buf[start:end])
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)  # type: ignore[union-attr]
            pos = end
        del buf[:pos]


def _masked_text(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    return bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload  # zero mask key: payload unchanged


async def _client_worker() -> None:
    _raise_nofile()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stats = _Stats()
    conns: list[_LeanClient] = []
    port = 0
    request = b""
    subscribe = _masked_text(json.dumps({"op": "subscribe", "cameras": [CAMERA]}))

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    async def open_one() -> _LeanClient | None:
        try:
            _, proto = await loop.create_connection(lambda: _LeanClient(stats, request, subscribe), "127.0.0.1", port)
            await asyncio.wait_for(proto.opened, 10)
            return proto
        except (OSError, TimeoutError, ConnectionError):
            return None

    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "target":
            for c in conns:
                c.transport.abort()  # type: ignore[union-attr]
            conns.clear()
            port = cmd["port"]
            request = (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
            reply({"ok": True})
        elif cmd["cmd"] == "set":
            failed = 0
            while len(conns) < cmd["n"]:
                batch = await asyncio.gather(*(open_one() for _ in range(min(100, cmd["n"] - len(conns)))))
                conns.extend(c for c in batch if c is not None)
                failed += sum(c is None for c in batch)
                if failed > 50:
                    break
            while len(conns) > cmd["n"]:
                conns.pop().transport.abort()  # type: ignore[union-attr]
            conns[:] = [c for c in conns if not c.transport.is_closing()]  # type: ignore[union-attr]
            reply({"connected": len(conns), "failed": failed})
        elif cmd["cmd"] == "reset":
            stats.count, stats.closed, stats.hist = 0, 0, [0] * (BINS + 1)
            reply({"ok": True})
        elif cmd["cmd"] == "report":
            reply({"count": stats.count, "closed": stats.closed,
                   "hist": {i: v for i, v in enumerate(stats.hist) if v}})
        elif cmd["cmd"] == "quit":
            break


# -- controller ----------------------------------------------------------------------------------
class Fleet:
    """Client worker processes on the cores not used by the server."""

    def __init__(self, workers: int, cores: set[int]) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-m", "bench.fanout_clients", "--role", "clients"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, text=True)
                      for _ in range(workers)]
        for proc in self.procs:
            os.sched_setaffinity(proc.pid, cores)

    def ask(self, cmds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for proc, cmd in zip(self.procs, cmds, strict=True):
            proc.stdin.write(json.dumps(cmd) + "\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
        return [json.loads(proc.stdout.readline()) for proc in self.procs]  # type: ignore[union-attr]

    def all(self, cmd: dict[str, Any]) -> list[dict[str, Any]]:
        return self.ask([cmd] * len(self.procs))

    def close(self) -> None:
        for proc in self.procs:
            try:
                self.ask_one(proc, {"cmd": "quit"})
            except (BrokenPipeError, ValueError):
                pass
            proc.wait(5)

    @staticmethod
    def ask_one(proc: subprocess.Popen[str], cmd: dict[str, Any]) -> None:
        proc.stdin.write(json.dumps(cmd) + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]


def trial(fleet: Fleet, server_pid: int, n: int, window_s: float, warmup_s: float, label: str,
          cpu_per_msg: list[float] | None = None) -> bool:
    """N clients for ``window_s`` seconds: pass when p99 < 50 ms and >= 97 % delivered.

    Appends to ``cpu_per_msg`` the server's CPU microseconds per client-message (user +
    system time of the server process / messages counted by the clients in the window).
    """
    k = len(fleet.procs)
    got = fleet.ask([{"cmd": "set", "n": n // k + (1 if i < n % k else 0)} for i in range(k)])
    connected = sum(r["connected"] for r in got)
    time.sleep(warmup_s)
    fleet.all({"cmd": "reset"})
    cpu0, t0 = _cpu_seconds(server_pid), time.monotonic()
    time.sleep(window_s)
    reports = fleet.all({"cmd": "report"})
    elapsed = time.monotonic() - t0
    cpu = (_cpu_seconds(server_pid) - cpu0) / elapsed
    hist = [0] * (BINS + 1)
    for r in reports:
        for i, v in r["hist"].items():
            hist[int(i)] += v
    count = sum(r["count"] for r in reports)
    p50, p99 = (_hist_percentile(hist, q) for q in (0.5, 0.99))
    delivered = count / max(1.0, n * RATE_HZ * elapsed)
    ok = connected == n and p99 < P99_LIMIT_MS and delivered >= MIN_DELIVERED
    us_per_msg = cpu * elapsed / count * 1e6 if count else math.inf
    if cpu_per_msg is not None:
        cpu_per_msg.append(us_per_msg)
    print(f"  {label:7s} n={n:5d} connected={connected:5d} p50={p50:6.1f} ms p99={p99:6.1f} ms "
          f"delivered={delivered:6.1%} server_cpu={cpu:5.0%} {us_per_msg:5.1f} us/msg "
          f"{'ok' if ok else 'FAIL'}", flush=True)
    return ok


def _hist_percentile(hist: list[int], q: float) -> float:
    total = sum(hist)
    if not total:
        return math.inf
    rank, seen = q * total, 0
    for i, v in enumerate(hist):
        seen += v
        if seen >= rank:
            return (i + 1) * BIN_NS / 1e6
    return math.inf


def search(passes: Callable[[int], bool], start: int, cap: int, tolerance: float = 0.08) -> int:
    """Largest N with ``passes(N)``: geometric bracket from ``start``, then geometric bisection."""
    step = 1.6
    if passes(start):
        lo, hi = start, None
        while hi is None:
            n = min(cap, int(lo * step))
            if n == lo:
                return lo
            if passes(n):
                lo = n
            else:
                hi = n
    else:
        hi, lo = start, 0
        while lo == 0:
            n = int(hi / step)
            if n < 5:
                return 0
            if passes(n):
                lo = n
            else:
                hi = n
    while hi / lo > 1 + tolerance:
        mid = int(math.sqrt(lo * hi))
        if mid in (lo, hi):
            break
        if passes(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _wait_port(port: int, timeout_s: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


async def _publish(nats_url: str, stop: asyncio.Event) -> None:
    import nats
    from courtside_contracts.subjects import annotations_subject

    nc = await nats.connect(nats_url)
    subject = annotations_subject(CAMERA, MODEL)
    task = asyncio.create_task(_paced(RATE_HZ, lambda seq: nc.publish(subject, _annotation(seq).to_json())))
    await stop.wait()
    task.cancel()
    await nc.close()


def _start_server(kind: str, server_core: int, nats_url: str) -> tuple[int, subprocess.Popen[bytes]]:
    from fanout.testing import free_port

    port = free_port()
    role = ["--role", "fanout-server", "--nats", nats_url] if kind == "fanout" else ["--role", "anchor-server"]
    server = subprocess.Popen([sys.executable, "-m", "bench.fanout_clients", *role, "--port", str(port),
                               "--core", str(server_core)], cwd=REPO)
    _wait_port(port)
    return port, server


def measure(args: argparse.Namespace, fleet: Fleet, server_core: int, nats_url: str,
            cpu_per_msg: dict[str, list[float]]) -> dict[str, list[int]]:
    """Both servers run side by side (the idle one costs nothing); their searches alternate so
    that both meet the same background load of a shared machine.

    Each search is preceded by a cost trial at ``--cost-clients`` (a load both servers carry):
    its CPU microseconds per client-message go to ``cpu_per_msg[kind]``. At a fixed N that
    figure is steadier than the client counts on a shared machine.
    """
    servers = {kind: _start_server(kind, server_core, nats_url) for kind in ("fanout", "anchor")}
    results: dict[str, list[int]] = {kind: [] for kind in servers}
    start = dict.fromkeys(servers, args.start)
    try:
        time.sleep(0.5)
        for run in range(args.runs):
            for kind, (port, server) in servers.items():
                fleet.all({"cmd": "target", "port": port})
                label = f"{kind}#{run + 1}"
                if args.cost_clients:
                    trial(fleet, server.pid, args.cost_clients, args.cost_window, args.warmup, f"{label}$",
                          cpu_per_msg.setdefault(kind, []))

                def passes(n: int, label: str = label, pid: int = server.pid) -> bool:
                    return trial(fleet, pid, n, args.window, args.warmup, label)

                found = search(passes, start[kind], args.max_clients)
                print(f"{kind} run {run + 1}: {found} clients", flush=True)
                results[kind].append(found)
                start[kind] = max(10, found)
        fleet.all({"cmd": "set", "n": 0})
    finally:
        for _, server in servers.values():
            server.send_signal(signal.SIGTERM)
        for _, server in servers.values():
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
    return results


def controller(args: argparse.Namespace) -> None:
    from courtside.nats_server import EmbeddedNats

    _raise_nofile()
    cores = sorted(os.sched_getaffinity(0))
    server_core = cores[0]
    client_cores = set(cores[1:]) or {server_core}
    os.sched_setaffinity(0, client_cores)
    workers = args.workers or max(1, len(client_cores))
    print(f"server pinned to core {server_core}; {workers} client worker(s) on cores {sorted(client_cores)}; "
          f"{RATE_HZ:.0f} msg/s per client, ~{len(_message(1))} B each; pass: p99 < {P99_LIMIT_MS:.0f} ms "
          f"and >= {MIN_DELIVERED:.0%} delivered", flush=True)
    began = time.monotonic()
    with EmbeddedNats() as nats_server:
        if nats_server.pid:
            os.sched_setaffinity(nats_server.pid, client_cores)
        fleet = Fleet(workers, client_cores)
        stop = asyncio.Event()
        loop = asyncio.new_event_loop()
        publisher = loop.create_task(_publish(nats_server.url, stop))
        import threading

        thread = threading.Thread(target=loop.run_forever, name="publisher", daemon=True)
        thread.start()
        try:
            cpu_per_msg: dict[str, list[float]] = {}
            results = measure(args, fleet, server_core, nats_server.url, cpu_per_msg)
            fanout, anchor = results["fanout"], results["anchor"]
        finally:
            loop.call_soon_threadsafe(stop.set)
            time.sleep(0.2)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            del publisher
            fleet.close()
    f, a = statistics.median(fanout), statistics.median(anchor)
    print(f"fanout runs {fanout}, anchor runs {anchor}; took {time.monotonic() - began:.0f} s", flush=True)
    costs = {kind: statistics.median(v) if v else math.nan for kind, v in cpu_per_msg.items()}
    if costs:
        print(f"server CPU per client-message at {args.cost_clients} clients (median of {args.runs}): "
              f"fanout {costs['fanout']:.2f} us, anchor {costs['anchor']:.2f} us "
              f"(fanout/anchor {costs['fanout'] / costs['anchor']:.2f})", flush=True)
    print(f"RESULT fanout_clients={f:g} anchor={a:g} ratio={(f / a if a else 0):.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="controller",
                        choices=["controller", "clients", "fanout-server", "anchor-server"])
    parser.add_argument("--runs", type=int, default=3, help="searches per server (median reported)")
    parser.add_argument("--window", type=float, default=2.0, help="measurement window per trial, seconds")
    parser.add_argument("--warmup", type=float, default=0.7, help="settle time after changing N, seconds")
    parser.add_argument("--start", type=int, default=400, help="first client count tried")
    parser.add_argument("--cost-clients", type=int, default=300,
                        help="clients of the CPU-per-client-message trial before each search (0: none)")
    parser.add_argument("--cost-window", type=float, default=4.0, help="its window, seconds")
    parser.add_argument("--max-clients", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=0, help="client processes (default: one per free core)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--nats", default="")
    args = parser.parse_args()
    if args.role == "clients":
        asyncio.run(_client_worker())
    elif args.role == "fanout-server":
        serve_fanout(args.port, args.nats, args.core)
    elif args.role == "anchor-server":
        serve_anchor(args.port, args.core)
    else:
        controller(args)


if __name__ == "__main__":
    main()
