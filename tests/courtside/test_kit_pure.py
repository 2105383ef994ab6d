"""The kit's pure parts: rate meter, drop-oldest queue, readiness verdict. No servers, no clock."""

from __future__ import annotations

import asyncio
import threading

import pytest
from courtside_contracts.status import ServiceState
from prometheus_client import CollectorRegistry, generate_latest

from courtside.kit.cancel import raise_if_cancelled
from courtside.kit.loop_metrics import LoopCollector
from courtside.kit.queue import DropOldestQueue, SharedDropOldestQueue
from courtside.kit.rate import RateMeter
from courtside.kit.readiness import Dependency, assess

NATS_UP = Dependency("nats", "connected", True)
NATS_DOWN = Dependency("nats", "disconnected", False)


def test_rate_meter_measures_events_per_second() -> None:
    meter = RateMeter(window_s=5.0)
    for i in range(31):
        meter.mark(100.0 + i / 15)
    assert meter.rate(102.0) == pytest.approx(15.0, rel=0.02)
    assert meter.rate(200.0) == 0.0  # everything aged out


def test_rate_meter_counts_batches_and_takes_nanoseconds() -> None:
    meter = RateMeter(window_s=1.0, unit_s=1e-9)
    for i in range(10):  # 10 passes of 3 frames, 100 ms apart: 30 frames over ~1 s
        meter.mark(i * 100_000_000, count=3)
    assert meter.rate(1_000_000_000) == pytest.approx(29 / 1.0, rel=0.01)
    assert meter.rate(5_000_000_000) == 0.0


def test_rate_meter_does_not_spike_on_the_first_event_and_stays_bounded() -> None:
    meter = RateMeter(window_s=5.0, max_marks=4)
    meter.mark(10.0)
    assert meter.rate(10.001) == 0.0  # one event is no rate yet
    for i in range(100):
        meter.mark(11.0 + i * 0.01)
    assert len(meter._marks) == 4  # bounded: the oldest marks go first
    assert meter.rate(11.99) == pytest.approx(3 / 0.03, rel=0.01)
    with pytest.raises(ValueError):
        RateMeter(window_s=0)


def test_queue_drops_oldest_and_reports_once() -> None:
    q: DropOldestQueue[int] = DropOldestQueue(3)
    assert [q.put(i) for i in range(5)] == [0, 0, 0, 1, 1]
    assert len(q) == 3 and [q.pop() for _ in range(3)] == [2, 3, 4]
    assert q.take_dropped() == 2 and q.take_dropped() == 0 and q.total_dropped == 2
    assert not q
    with pytest.raises(IndexError):
        q.pop()
    q.put(7)
    q.put(8)
    assert q.pop_all() == [7, 8] and q.pop_all() == []
    q.put(9)
    q.clear()
    assert len(q) == 0 and q.total_dropped == 2  # clearing is not dropping
    with pytest.raises(ValueError):
        DropOldestQueue(0)


def test_shared_queue_keeps_the_newest_across_threads() -> None:
    q: SharedDropOldestQueue[int] = SharedDropOldestQueue(3)
    threads = [threading.Thread(target=lambda base=base: [q.put(base + i) for i in range(1000)])
               for base in (0, 10_000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(q) == 3 and q.total_dropped == 1997
    items = q.pop_all()
    assert len(items) == 3 and max(items) in (999, 10_999)
    assert q.pop() is None and q.pop_all() == []


def test_readiness_before_start_during_run_and_while_stopping() -> None:
    starting = assess("svc", "i-1", ServiceState.STARTING, [NATS_UP])
    assert not starting.ready and starting.state == ServiceState.STARTING and starting.status_code == 503
    running = assess("svc", "i-1", ServiceState.READY, [NATS_UP])
    assert running.ready and running.state == ServiceState.READY and running.status_code == 200
    stopping = assess("svc", "i-1", ServiceState.STOPPING, [NATS_UP])
    assert not stopping.ready and stopping.state == ServiceState.STOPPING


def test_a_dependency_down_degrades_and_unreadies() -> None:
    verdict = assess("svc", "i-1", ServiceState.READY, [NATS_DOWN, Dependency("model", "loaded", True)])
    assert not verdict.ready and verdict.state == ServiceState.DEGRADED
    assert verdict.body() == {
        "ready": False, "state": "degraded", "service": "svc", "instance": "i-1",
        "dependencies": {"nats": {"state": "disconnected", "ok": False},
                         "model": {"state": "loaded", "ok": True}}}


def test_own_health_is_reported_but_only_stopping_unreadies() -> None:
    # ingest: a camera still connecting (starting) or failed (degraded) leaves the instance ready
    for health in (ServiceState.STARTING, ServiceState.DEGRADED):
        verdict = assess("ingest", "i-1", ServiceState.READY, [NATS_UP], health, {"cameras": {}})
        assert verdict.ready and verdict.state == health and verdict.body()["cameras"] == {}
    # an inference consumer that began its drain is stopping, whatever its dependencies say
    verdict = assess("inference", "m-1", ServiceState.READY, [NATS_UP], ServiceState.STOPPING)
    assert not verdict.ready and verdict.state == ServiceState.STOPPING


async def test_the_loop_collector_counts_the_tasks_alive_on_the_running_loop() -> None:
    registry = CollectorRegistry()
    registry.register(LoopCollector("courtside_t_"))

    def tasks_now() -> float:
        for line in generate_latest(registry).decode().splitlines():
            if line.startswith("courtside_t_asyncio_tasks "):
                return float(line.split()[1])
        raise AssertionError("no courtside_t_asyncio_tasks sample")

    before = tasks_now()
    release = asyncio.Event()
    waiting = [asyncio.create_task(release.wait()) for _ in range(5)]
    assert tasks_now() == before + 5
    release.set()
    await asyncio.gather(*waiting)
    assert tasks_now() == before


def test_the_loop_collector_reports_nothing_when_scraped_with_no_loop_running() -> None:
    registry = CollectorRegistry()
    registry.register(LoopCollector("courtside_t_"))
    assert b"asyncio_tasks" not in generate_latest(registry)


async def _loop_that_swallows_cancels(check: bool, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if check:
            raise_if_cancelled()
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:  # as nats-py's Client._flush_pending does on a publish
            pass


async def test_a_loop_whose_library_swallowed_the_cancel_still_ends_with_the_check() -> None:
    stop = asyncio.Event()
    plain = asyncio.create_task(_loop_that_swallows_cancels(False, stop))
    checked = asyncio.create_task(_loop_that_swallows_cancels(True, stop))
    await asyncio.sleep(0.05)
    plain.cancel()
    checked.cancel()
    done, _ = await asyncio.wait([plain, checked], timeout=1.0)
    assert done == {checked} and checked.cancelled(), "the checked loop ended on its cancel"
    assert not plain.done(), "without the check the cancel is lost (why the check exists)"
    stop.set()
    await asyncio.wait_for(plain, 1.0)
