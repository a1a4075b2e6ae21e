"""Reading several districts at once while the Singer output stays one district at a time.

The SDK syncs a stream's partitions (districts) one after another on one thread, and every
message must leave the tap in that order. Clever's latency, not the tap's CPU, is what a run of
many small districts waits on, and Clever's rate limit is per token, so districts do not share
a budget. `OrderedParallelReader` therefore reads many keys (a stream's districts) at once, one
thread each, and hands each key's items (pages) to the one consumer (the SDK's sync loop) in
key order.

A key waiting (for its token's rate-limit window, say) holds back the output, not the reading:
the others read ahead. Memory stays bounded however many keys there are: an item is fetched
only while fewer than `budget` (bytes of pages) wait for the consumer, or when the consumer
has run out of the current key's items. The check is a `ReadGate`, which the item source
calls right before each fetch: a fetch that had to wait for something else (a rate-limit
window, a free connection) checks again, so at most `budget` plus the items being fetched at
that moment are held.

Worker threads are daemons, and a key no longer needed is cancelled, so a failing or
interrupted run never waits for them.
"""

from __future__ import annotations

import heapq
import threading
import typing as t
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

K = t.TypeVar("K", bound=Hashable)
T = t.TypeVar("T")


class ReadCancelled(Exception):
    """The reader no longer needs this key: stop reading it."""


class ReadGate(t.Protocol):
    """Asked by an item source before each fetch."""

    @property
    def priority(self) -> int:
        """Lower for keys nearer the consumer: they should be fetched first."""

    def wait(self) -> None:
        """Block until the reader has room for another item of this key (raises
        `ReadCancelled` once the key is no longer needed)."""

    def has_room(self) -> bool:
        """Whether there is room right now (checked again after waiting for anything else)."""


class _End:
    """A key's items are all read."""


_END = _End()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@dataclass(eq=False)
class _Task(t.Generic[T]):
    """One key's items on their way from its worker to the consumer."""

    position: int
    wakeup: threading.Condition
    items: deque[tuple[T | _End | _Failed, int]] = field(default_factory=deque)
    cancelled: bool = False
    waiting: bool = False


class _TaskGate(t.Generic[K, T]):
    def __init__(self, reader: OrderedParallelReader[K, T], task: _Task[T]) -> None:
        self._reader = reader
        self._task = task

    @property
    def priority(self) -> int:
        return self._task.position

    def wait(self) -> None:
        self._reader._wait_for_room(self._task)

    def has_room(self) -> bool:
        with self._reader._lock:
            return self._reader._has_room(self._task)


class OrderedParallelReader(t.Generic[K, T]):
    """Reads each key's items on `workers` threads, handing them over in key order with at most
    about `budget` (in units of `size`) waiting.

    `read(key, gate)` gives a key's items; it calls `gate.wait()` (or checks `gate.has_room()`)
    before fetching each one, unless fetching costs nothing worth bounding."""

    def __init__(
        self,
        keys: Sequence[K],
        read: Callable[[K, ReadGate], Iterator[T]],
        *,
        workers: int,
        budget: int | None = None,
        size: Callable[[T], int] = lambda _item: 1,
        name: str = "reader",
    ) -> None:
        self._keys = list(keys)
        self._position = {key: index for index, key in enumerate(self._keys)}
        self._read = read
        self._workers = max(1, min(workers, len(self._keys)))
        # By default one item waits per thread.
        self._budget = budget if budget is not None else self._workers
        self._size = size
        self._name = name
        self._lock = threading.Lock()
        #: The consumer waits here for its key's next item.
        self._item_ready = threading.Condition(self._lock)
        #: Tasks waiting for room, lowest position first: woken one at a time, not all at once.
        self._waiters: list[tuple[int, int, _Task[T]]] = []
        self._waits = 0
        self._tasks: dict[int, _Task[T]] = {}
        self._next_to_start = 0
        self._waiting_size = 0
        #: The position the consumer is on: the lowest it has not finished with.
        self._cursor = 0
        self._closed = False
        self._threads_started = False

    def __contains__(self, key: object) -> bool:
        return key in self._position

    def items(self, key: K) -> Iterator[T]:
        """The items of `key`, read ahead on a worker thread; a worker's exception is raised
        here, after the items read before it. Keys are consumed in order: asking for a key
        abandons the keys before it that were not asked for."""
        position = self._position.get(key)
        if position is None or position < self._cursor or self._closed:
            yield from self._read(key, _ALWAYS_ROOM)  # not read ahead: read it here
            return
        self._start_threads()
        with self._lock:
            for earlier in range(self._cursor, position):
                self._cancel(earlier)
            self._cursor = position
            self._wake_next()
        try:
            while True:
                with self._lock:
                    while not (task := self._tasks.get(position)) or not task.items:
                        self._item_ready.wait()
                    item, item_size = task.items.popleft()
                    self._waiting_size -= item_size
                    self._wake_next()
                if isinstance(item, _End):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            with self._lock:
                self._cancel(position)
                self._cursor = max(self._cursor, position + 1)
                self._wake_next()

    def close(self) -> None:
        """Stop every worker; items not consumed are dropped."""
        with self._lock:
            self._closed = True
            for position in list(self._tasks):
                self._cancel(position)

    def _start_threads(self) -> None:
        if self._threads_started:
            return
        self._threads_started = True
        for number in range(self._workers):
            threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()

    # --- under the lock ----------------------------------------------------------------------

    def _has_room(self, task: _Task[T]) -> bool:
        if task.cancelled:
            return False  # a key no longer needed fetches nothing more
        if self._waiting_size < self._budget:
            return True
        # Over budget: only the consumer's key reads on, and only once it has nothing left.
        return task.position == self._cursor and not task.items

    def _wake_next(self) -> None:
        """Wake the lowest waiting task if it may read now. It wakes the next in turn once it
        goes ahead, so tasks start one after another instead of all racing for the lock."""
        while self._waiters:
            _position, _order, task = self._waiters[0]
            if not task.waiting:
                heapq.heappop(self._waiters)  # woken already, or cancelled
                continue
            if not self._has_room(task):
                return  # nor does any later one: they are further from the consumer
            heapq.heappop(self._waiters)
            task.waiting = False
            task.wakeup.notify()
            return

    def _cancel(self, position: int) -> None:
        task = self._tasks.pop(position, None)
        if task is not None:
            task.cancelled = True
            for _item, item_size in task.items:
                self._waiting_size -= item_size
            task.items.clear()
            if task.waiting:
                task.waiting = False
                task.wakeup.notify()

    def _next_task(self) -> _Task[T] | None:
        self._next_to_start = max(self._next_to_start, self._cursor)  # skipped keys never start
        if self._closed or self._next_to_start >= len(self._keys):
            return None
        task: _Task[T] = _Task(self._next_to_start, threading.Condition(self._lock))
        self._tasks[task.position] = task
        self._next_to_start += 1
        return task

    # --- on a worker thread ------------------------------------------------------------------

    def _wait_for_room(self, task: _Task[T]) -> None:
        with self._lock:
            while not task.cancelled and not self._has_room(task):
                task.waiting = True
                self._waits += 1
                heapq.heappush(self._waiters, (task.position, self._waits, task))
                while task.waiting:
                    task.wakeup.wait()
            if task.cancelled:
                raise ReadCancelled
            self._wake_next()  # room for this one: maybe for the next one too

    def _work(self) -> None:
        while True:
            with self._lock:
                task = self._next_task()
            if task is None:
                return
            self._read_task(task)

    def _read_task(self, task: _Task[T]) -> None:
        gate = _TaskGate(self, task)
        items = self._iterate(self._keys[task.position], gate)
        outcome: T | _End | _Failed
        try:
            while True:
                try:
                    gate.wait()
                    outcome = next(items)
                except (StopIteration, ReadCancelled):
                    outcome = _END
                except BaseException as error:  # handed to the consumer, which raises it
                    outcome = _Failed(error)
                item_size = 0 if isinstance(outcome, _End | _Failed) else self._size(outcome)
                with self._lock:
                    if task.cancelled:
                        return
                    task.items.append((outcome, item_size))
                    self._waiting_size += item_size
                    if task.position == self._cursor:
                        self._item_ready.notify()
                if isinstance(outcome, _End | _Failed):
                    return
        finally:
            items.close()  # the source's own cleanup (its connection) runs on this thread

    def _iterate(self, key: K, gate: ReadGate) -> t.Generator[T, None, None]:
        # Calling `read` happens on the first `next`, so its failure is handed over too.
        yield from self._read(key, gate)


class _AlwaysRoom:
    priority = 0

    def wait(self) -> None:
        pass

    def has_room(self) -> bool:
        return True


_ALWAYS_ROOM = _AlwaysRoom()


def map_in_parallel(
    function: Callable[[K], T], keys: Sequence[K], *, workers: int, name: str = "map"
) -> list[tuple[K, T | Exception]]:
    """`function` of every key on up to `workers` threads: each key with its result, or the
    exception it raised, in key order."""
    reader: OrderedParallelReader[K, T] = OrderedParallelReader(
        keys, lambda key, _gate: iter((function(key),)), workers=workers, name=name
    )
    results: list[tuple[K, T | Exception]] = []
    try:
        for key in keys:
            try:
                results.extend((key, value) for value in reader.items(key))
            except Exception as error:  # each key's failure is the caller's to judge
                results.append((key, error))
    finally:
        reader.close()
    return results


class PrioritySlots:
    """A semaphore whose freed slot goes to the waiter with the lowest priority number (the
    earliest to ask, among equals): the districts nearest the output get the connections first,
    so far-ahead districts fill the read-ahead budget only with what nearer ones leave."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiters: list[tuple[int, int, threading.Lock]] = []
        self._asked = 0

    @contextmanager
    def held(self, priority: int) -> Iterator[None]:
        self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, priority: int) -> None:
        with self._lock:
            if self._free:
                self._free -= 1
                return
            handed_over = threading.Lock()
            handed_over.acquire()
            self._asked += 1
            heapq.heappush(self._waiters, (priority, self._asked, handed_over))
        handed_over.acquire()  # released by `_release`, which hands this waiter the slot

    def _release(self) -> None:
        with self._lock:
            if self._waiters:
                _priority, _asked, handed_over = heapq.heappop(self._waiters)
                handed_over.release()
            else:
                self._free += 1
