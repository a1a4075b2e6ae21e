"""Read-ahead: generate the next page's records while the client is busy with this one.

A client that pages through a cold collection spends most of each round trip parsing the page
it just got; the server is idle meanwhile. After answering a full page, the API asks the
prefetcher to generate the chunks holding the next page's records on one background thread,
so the next request finds them cached. Generation is deterministic per chunk, so who generates
a chunk (request thread or prefetcher) never changes a byte; the dataset lock keeps them from
generating the same chunk twice.
"""

from __future__ import annotations

import threading

from .dataset import CHUNK, Collection


class Prefetcher:
    """One daemon thread generating chunk ranges on request; newest request wins."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._cond = threading.Condition()
        self._pending: tuple[Collection, int, int] | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None

    def request(self, coll: Collection, next_ids: list[str]) -> None:
        """Make sure the chunks holding ``next_ids`` (live ids of ``coll``) get generated."""
        if not next_ids or self._stopped:
            return
        first, last = coll.base_position(next_ids[0]), coll.base_position(next_ids[-1])
        if first is None or last is None:
            return
        start, stop = first // CHUNK, min(last // CHUNK, first // CHUNK + 64) + 1
        if all(coll.has_chunk(n) for n in range(start, stop)):
            return
        with self._cond:
            self._pending = (coll, start, stop)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="clever-sandbox-prefetch", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                assert self._pending is not None
                coll, start, stop = self._pending
                self._pending = None
            for chunk_no in range(start, stop):
                with self._cond:
                    if self._stopped or self._pending is not None:
                        break
                with self._lock:
                    coll.chunk_bytes(chunk_no)
