import asyncio
import threading

from courtside.kit.queue import SharedDropOldestQueue
from ingest.handoff import Doorbell, Handoff


def test_drop_oldest_keeps_the_newest_and_counts() -> None:
    queue: SharedDropOldestQueue[int] = SharedDropOldestQueue(2)
    assert [queue.put(i) for i in range(5)] == [0, 0, 1, 1, 1]
    assert queue.total_dropped == 3
    assert [queue.pop(), queue.pop(), queue.pop()] == [3, 4, None]


def test_drop_oldest_is_bounded_under_concurrent_producers() -> None:
    queue: SharedDropOldestQueue[int] = SharedDropOldestQueue(3)

    def produce() -> None:
        for i in range(10_000):
            queue.put(i)

    threads = [threading.Thread(target=produce) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(queue) == 3
    assert queue.total_dropped == 40_000 - 3


async def test_handoff_wakes_the_loop_from_a_thread() -> None:
    handoff: Handoff[int] = Handoff(asyncio.get_running_loop(), maxsize=2)
    threading.Timer(0.05, handoff.put, args=(7,)).start()
    assert await asyncio.wait_for(handoff.get(), 2.0) == 7


async def test_handoff_delivers_in_order_and_drops_when_slow() -> None:
    handoff: Handoff[int] = Handoff(asyncio.get_running_loop(), maxsize=2)
    done = threading.Event()

    def produce() -> None:
        for i in range(100):
            handoff.put(i)
        done.set()

    threading.Thread(target=produce).start()
    await asyncio.to_thread(done.wait, 2.0)
    got = [await asyncio.wait_for(handoff.get(), 1.0) for _ in range(2)]
    assert got == [98, 99]
    assert handoff.dropped == 98


def test_pop_all_takes_everything_oldest_first() -> None:
    queue: SharedDropOldestQueue[int] = SharedDropOldestQueue(3)
    assert queue.pop_all() == []
    for i in range(4):
        queue.put(i)
    assert queue.pop_all() == [1, 2, 3]
    assert len(queue) == 0


async def test_one_doorbell_serves_many_cameras_with_one_wakeup() -> None:
    loop = asyncio.get_running_loop()
    doorbell = Doorbell(loop)
    handoffs: list[Handoff[int]] = [Handoff(loop, 2, doorbell) for _ in range(3)]
    calls = 0
    real = loop.call_soon_threadsafe

    def counting(*args: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        def produce() -> None:
            for i, handoff in enumerate(handoffs):
                handoff.put(i)

        producer = threading.Thread(target=produce)
        producer.start()
        producer.join(2.0)  # blocks the loop on purpose: every put happens before it runs again
        await asyncio.wait_for(doorbell.wait(), 2.0)
    finally:
        del loop.call_soon_threadsafe
    assert calls == 1
    doorbell.rearm()
    assert [h.pop_all() for h in handoffs] == [[0], [1], [2]]
    # Once rearmed, the next put rings again.
    handoffs[1].put(9)
    await asyncio.wait_for(doorbell.wait(), 2.0)
    assert handoffs[1].pop_all() == [9]
