"""Reading several districts at once while the Singer output stays one district at a time.

The SDK syncs a stream's partitions (districts) one after another on one thread, and every
message must leave the tap in that order. Clever's latency, not the tap's CPU, is what a run of
many small districts waits on, and Clever's rate limit is per token, so districts do not share
a budget. `OrderedParallelReader` therefore reads the districts of a stream on up to `workers`
threads, each district on its own, and hands each district's pages to the one consumer (the
SDK's sync loop) in district order.

A district waiting out its token's rate limit holds back the output, not the reading: the
others read ahead while it waits. Memory stays bounded however many districts there are:
reading ahead stops once `budget` (bytes of pages) waits for the consumer; past that, only the
district being consumed reads, and only when the consumer has run out of its pages. At most
`budget`, plus one page per reading thread, plus the page being consumed, are held at once.

The worker threads are daemons, and a district no longer needed is cancelled, so a failing or
interrupted run never waits for them.
"""

from __future__ import annotations

import threading
import typing as t
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field

K = t.TypeVar("K", bound=Hashable)
T = t.TypeVar("T")


class _End:
    """A key's items are all read."""


_END = _End()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@dataclass
class _Task(t.Generic[T]):
    """One key's items on their way from a worker to the consumer."""

    position: int
    items: deque[tuple[T | _End | _Failed, int]] = field(default_factory=deque)
    cancelled: bool = False


class OrderedParallelReader(t.Generic[K, T]):
    """Reads each key's items on `workers` threads, handing them over in key order with at most
    about `budget` (in units of `size`) waiting."""

    def __init__(
        self,
        keys: Sequence[K],
        read: Callable[[K], Iterator[T]],
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
        # By default one item waits per reading thread.
        self._budget = budget if budget is not None else self._workers
        self._size = size
        self._name = name
        lock = threading.Lock()
        #: The consumer waits here for its key's next item.
        self._item_ready = threading.Condition(lock)
        #: Workers wait here for a key to read, or for room to read its next item.
        self._room = threading.Condition(lock)
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
            yield from self._read(key)  # not read ahead (or asked for again): read it here
            return
        self._start_threads()
        with self._room:
            for earlier in range(self._cursor, position):
                self._cancel(earlier)
            self._cursor = position
            self._room.notify_all()
        try:
            while True:
                with self._item_ready:
                    while not (task := self._tasks.get(position)) or not task.items:
                        self._item_ready.wait()
                    item, item_size = task.items.popleft()
                    self._waiting_size -= item_size
                    self._room.notify_all()
                if isinstance(item, _End):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            with self._room:
                self._cancel(position)
                self._cursor = max(self._cursor, position + 1)
                self._room.notify_all()

    def close(self) -> None:
        """Stop every worker; items not consumed are dropped."""
        with self._room:
            self._closed = True
            for position in list(self._tasks):
                self._cancel(position)
            self._room.notify_all()

    def _start_threads(self) -> None:
        if self._threads_started:
            return
        self._threads_started = True
        for number in range(self._workers):
            threading.Thread(target=self._work, name=f"{self._name}-{number}", daemon=True).start()

    # --- under the lock ----------------------------------------------------------------------

    def _next_task(self) -> _Task[T] | None:
        """The next key to read, once the budget allows (the consumer's own key starts
        regardless, or nothing would move); None when every key is taken."""
        while True:
            self._next_to_start = max(self._next_to_start, self._cursor)  # skipped keys never start
            if self._closed or self._next_to_start >= len(self._keys):
                return None
            if self._waiting_size < self._budget or self._next_to_start == self._cursor:
                task: _Task[T] = _Task(self._next_to_start)
                self._tasks[task.position] = task
                self._next_to_start += 1
                return task
            self._room.wait()

    def _may_read(self, task: _Task[T]) -> bool:
        if task.cancelled or self._waiting_size < self._budget:
            return True
        # Over budget: only the consumer's key reads on, and only once it has nothing left.
        return task.position == self._cursor and not task.items

    def _cancel(self, position: int) -> None:
        task = self._tasks.pop(position, None)
        if task is not None:
            task.cancelled = True
            for _item, item_size in task.items:
                self._waiting_size -= item_size
            task.items.clear()

    # --- on a worker thread ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._room:
                task = self._next_task()
            if task is None:
                return
            self._read_task(task)

    def _read_task(self, task: _Task[T]) -> None:
        items = self._iterate(self._keys[task.position])
        outcome: T | _End | _Failed
        try:
            while True:
                with self._room:
                    while not self._may_read(task):
                        self._room.wait()
                    if task.cancelled:
                        return
                try:
                    outcome = next(items)
                except StopIteration:
                    outcome = _END
                except BaseException as error:  # handed to the consumer, which raises it
                    outcome = _Failed(error)
                item_size = 0 if isinstance(outcome, _End | _Failed) else self._size(outcome)
                with self._room:
                    if task.cancelled:
                        return
                    task.items.append((outcome, item_size))
                    self._waiting_size += item_size
                    self._item_ready.notify()
                if isinstance(outcome, _End | _Failed):
                    return
        finally:
            items.close()  # the reader's own cleanup (its connection) runs on this thread

    def _iterate(self, key: K) -> t.Generator[T, None, None]:
        # Calling `read` happens on the first `next`, so its failure is handed over too.
        yield from self._read(key)


def map_in_parallel(
    function: Callable[[K], T], keys: Sequence[K], *, workers: int, name: str = "map"
) -> list[tuple[K, T | Exception]]:
    """`function` of every key on up to `workers` threads: each key with its result, or the
    exception it raised, in key order."""
    reader: OrderedParallelReader[K, T] = OrderedParallelReader(
        keys, lambda key: iter((function(key),)), workers=workers, name=name
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
