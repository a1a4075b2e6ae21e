"""The ordered parallel reader: districts read at once, handed over in order, memory bounded."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from tap_clever.parallel import OrderedParallelReader, PrioritySlots, ReadGate, map_in_parallel


class Producers:
    """Per-key item producers that record how many run at once and how many items wait."""

    def __init__(self, items_per_key: int, delay: float = 0.0) -> None:
        self.items_per_key = items_per_key
        self.delay = delay
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.produced = 0
        self.taken = 0
        self.max_waiting = 0
        self.closed: list[str] = []

    def read(self, key: str, _gate: ReadGate) -> Iterator[str]:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            for n in range(self.items_per_key):
                time.sleep(self.delay * random.random())
                with self.lock:
                    self.produced += 1
                    self.max_waiting = max(self.max_waiting, self.produced - self.taken)
                yield f"{key}:{n}"
        finally:
            with self.lock:
                self.active -= 1
                self.closed.append(key)

    def take(self) -> None:
        with self.lock:
            self.taken += 1


def consume(reader: OrderedParallelReader[str, str], keys: list[str], producers: Producers) -> list:
    out = []
    for key in keys:
        for item in reader.items(key):
            producers.take()
            out.append(item)
    return out


def test_items_arrive_in_key_order_whatever_order_they_are_read_in() -> None:
    producers = Producers(items_per_key=5, delay=0.002)
    keys = [f"d{n:02d}" for n in range(30)]
    reader = OrderedParallelReader(keys, producers.read, workers=8)

    assert consume(reader, keys, producers) == [f"{k}:{n}" for k in keys for n in range(5)]
    assert producers.max_active > 1  # read at once, not one after another


def test_at_most_workers_keys_are_read_and_the_budget_bounds_what_waits() -> None:
    producers = Producers(items_per_key=6)
    keys = [f"d{n:02d}" for n in range(40)]
    reader = OrderedParallelReader(keys, producers.read, workers=4, budget=6)

    for key in keys:
        for _ in reader.items(key):
            time.sleep(0.001)  # a slow consumer: producers race ahead as far as allowed
            producers.take()

    assert producers.max_active <= 4
    # The budget, plus one item each reading thread fetched before it saw the budget spent.
    assert producers.max_waiting <= 6 + 4
    assert producers.produced == producers.taken == 40 * 6


def test_a_failure_is_raised_after_the_items_read_before_it_and_the_rest_go_on() -> None:
    def read(key: str, _gate: ReadGate) -> Iterator[str]:
        yield f"{key}:0"
        if key == "b":
            raise ValueError("b broke")
        yield f"{key}:1"

    reader = OrderedParallelReader(["a", "b", "c"], read, workers=3)
    got: list[str] = []
    for key in ("a", "b", "c"):
        try:
            got.extend(reader.items(key))
        except ValueError as error:
            got.append(str(error))

    assert got == ["a:0", "a:1", "b:0", "b broke", "c:0", "c:1"]


def test_a_key_abandoned_midway_stops_its_reader() -> None:
    producers = Producers(items_per_key=1000)
    reader = OrderedParallelReader(["a", "b"], producers.read, workers=2)

    for item in reader.items("a"):
        assert item == "a:0"
        break
    assert list(reader.items("b"))[:1] == ["b:0"]

    deadline = time.monotonic() + 5
    while "a" not in producers.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "a" in producers.closed
    assert producers.produced < 1000 + 1000


def test_asking_for_a_later_key_skips_and_stops_the_keys_before_it() -> None:
    producers = Producers(items_per_key=3)
    reader = OrderedParallelReader(["a", "b", "c"], producers.read, workers=1)

    assert list(reader.items("c")) == ["c:0", "c:1", "c:2"]
    # A key asked for again, or never listed, is read on the spot.
    assert list(reader.items("a")) == ["a:0", "a:1", "a:2"]
    assert list(reader.items("z")) == ["z:0", "z:1", "z:2"]


def test_close_stops_every_worker() -> None:
    producers = Producers(items_per_key=10_000)
    keys = ["a", "b", "c", "d"]
    reader = OrderedParallelReader(keys, producers.read, workers=4)
    next(iter(reader.items("a")))

    reader.close()

    deadline = time.monotonic() + 5
    while producers.active and time.monotonic() < deadline:
        time.sleep(0.01)
    assert producers.active == 0


def test_map_in_parallel_gives_each_key_its_result_or_its_exception_in_order() -> None:
    # Every call waits for the others: a map that ran them one by one would break the barrier.
    barrier = threading.Barrier(4, timeout=5)

    def square(n: int) -> int:
        barrier.wait()
        if n == 2:
            raise KeyError(n)
        return n * n

    results = map_in_parallel(square, [0, 1, 2, 3], workers=4)

    assert [key for key, _ in results] == [0, 1, 2, 3]
    assert [r for _, r in results if not isinstance(r, Exception)] == [0, 1, 9]
    assert isinstance(results[2][1], KeyError)


@pytest.mark.parametrize("workers", [1, 3])
def test_map_in_parallel_runs_at_most_workers_at_once(workers: int) -> None:
    lock = threading.Lock()
    active = [0, 0]

    def work(n: int) -> int:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return n

    assert [r for _, r in map_in_parallel(work, list(range(12)), workers=workers)] == list(
        range(12)
    )
    assert active[1] <= workers


def test_a_fetch_that_waited_elsewhere_checks_the_budget_again() -> None:
    # Twenty keys pass the reader's check at once, then wait (for a rate-limit window, say)
    # while the budget fills: fetching then would hold twenty items for a budget of three.
    # Asking the gate again right before the fetch, with two fetches at a time (the client's
    # connections), keeps what waits within the budget plus those two.
    producers = Producers(items_per_key=1)
    all_waiting = threading.Barrier(20, timeout=10)
    connections = threading.Semaphore(2)

    def read(key: str, gate: ReadGate) -> Iterator[str]:
        all_waiting.wait()
        while True:
            with connections:
                if gate.has_room():
                    fetched = list(producers.read(key, gate))
                    break
            gate.wait()
        yield from fetched

    keys = [f"d{n:02d}" for n in range(20)]
    reader = OrderedParallelReader(keys, read, workers=20, budget=3)
    for key in keys:
        for _ in reader.items(key):
            time.sleep(0.005)
            producers.take()

    assert producers.taken == 20
    assert producers.max_waiting <= 3 + 2


def test_a_freed_slot_goes_to_the_waiter_nearest_the_output() -> None:
    slots = PrioritySlots(1)
    order: list[int] = []
    lock = threading.Lock()
    started = threading.Barrier(4, timeout=5)

    def ask(priority: int) -> None:
        started.wait()
        with slots.held(priority), lock:
            order.append(priority)

    with slots.held(0):  # taken: the others queue, in whatever order they arrive
        threads = [threading.Thread(target=ask, args=(p,)) for p in (30, 10, 20)]
        for thread in threads:
            thread.start()
        started.wait()
        deadline = time.monotonic() + 5
        while len(slots._waiters) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=5)

    assert order == [10, 20, 30]
