"""Reading several districts at once while the Singer output stays one district at a time.

The SDK syncs a stream's partitions (districts) one after another on one thread, and every
message must leave the tap in that order. Clever's latency, not the tap's CPU, is what a run of
many small districts waits on, and Clever's rate limit is per token, so districts do not share
a budget. `OrderedParallelReader` therefore reads the districts of a stream on worker threads,
each district on its own, and hands each district's pages to the one consumer (the SDK's sync
loop) in district order.

Memory stays bounded however many districts there are: at most `workers` districts are read
ahead of the one being consumed, and each worker fetches a page only once the consumer has
taken the previous one, so at most `workers` pages wait, plus the one being consumed.

Worker threads are daemons and check for cancellation while they wait, so a failing or
interrupted run never waits for a district it no longer needs.
"""

from __future__ import annotations

import threading
import typing as t
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field

K = t.TypeVar("K", bound=Hashable)
T = t.TypeVar("T")

_POLL_SECONDS = 0.2


class _End:
    """A district's items are all read."""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@dataclass
class _District(t.Generic[T]):
    """The handover between one worker and the consumer."""

    items: deque[T | _End | _Failed] = field(default_factory=deque)
    #: Items waiting for the consumer.
    ready: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    #: Permission to read the next item: given back each time the consumer takes one.
    may_read: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))
    cancelled: threading.Event = field(default_factory=threading.Event)


class OrderedParallelReader(t.Generic[K, T]):
    """Reads each key's items on its own thread, at most `workers` at once, in key order."""

    def __init__(
        self,
        keys: Sequence[K],
        read: Callable[[K], Iterator[T]],
        *,
        workers: int,
        name: str = "reader",
    ) -> None:
        self._keys = list(keys)
        self._position = {key: index for index, key in enumerate(self._keys)}
        self._read = read
        self._workers = max(1, workers)
        self._name = name
        self._started: dict[int, _District[T]] = {}
        self._next_to_start = 0
        #: Lowest position the consumer has not finished with.
        self._consumed = 0

    def __contains__(self, key: object) -> bool:
        return key in self._position

    def items(self, key: K) -> Iterator[T]:
        """The items of `key`, read ahead on a worker thread; a worker's exception is raised
        here, after the items read before it. Keys are consumed in order: asking for a key
        abandons the keys before it that were not asked for."""
        position = self._position.get(key)
        if position is None or position < self._consumed:
            yield from self._read(key)  # not read ahead (or asked for again): read it here
            return
        while self._consumed < position:
            self._finish(self._consumed)
        self._start_window()
        district = self._started[position]
        try:
            while True:
                district.ready.acquire()
                item = district.items.popleft()
                if isinstance(item, _End):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                district.may_read.release()  # the worker fetches the next one meanwhile
                yield item
        finally:
            self._finish(position)

    def close(self) -> None:
        """Stop every worker; items not consumed are dropped."""
        for position in list(self._started):
            self._finish(position)
        self._consumed = self._next_to_start = len(self._keys)

    def _start_window(self) -> None:
        while self._next_to_start < min(len(self._keys), self._consumed + self._workers):
            position = self._next_to_start
            district: _District[T] = _District()
            self._started[position] = district
            threading.Thread(
                target=self._work,
                args=(self._keys[position], district),
                name=f"{self._name}-{position}",
                daemon=True,
            ).start()
            self._next_to_start += 1

    def _finish(self, position: int) -> None:
        district = self._started.pop(position, None)
        if district is not None:
            district.cancelled.set()
            district.may_read.release()  # wake a worker waiting for permission to read
        self._consumed = max(self._consumed, position + 1)
        self._start_window()

    def _work(self, key: K, district: _District[T]) -> None:
        items: Iterator[T] | None = None
        try:
            items = self._read(key)
            while _acquire_unless_cancelled(district.may_read, district.cancelled):
                item = next(items, _END)
                district.items.append(item)
                district.ready.release()
                if item is _END:
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            district.items.append(_Failed(error))
            district.ready.release()
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's own cleanup (its connection) runs on this thread


_END = _End()


def _acquire_unless_cancelled(semaphore: threading.Semaphore, cancelled: threading.Event) -> bool:
    while not cancelled.is_set():
        if semaphore.acquire(timeout=_POLL_SECONDS):
            return not cancelled.is_set()
    return False


def map_in_parallel(
    function: Callable[[K], T], keys: Sequence[K], *, workers: int, name: str = "map"
) -> list[tuple[K, T | Exception]]:
    """`function` of every key on up to `workers` threads: each key with its result, or the
    exception it raised, in key order."""
    reader: OrderedParallelReader[K, T] = OrderedParallelReader(
        keys, lambda key: iter((function(key),)), workers=workers, name=name
    )
    results: list[tuple[K, T | Exception]] = []
    for key in keys:
        try:
            results.extend((key, value) for value in reader.items(key))
        except Exception as error:  # each key's failure is the caller's to judge
            results.append((key, error))
    return results
