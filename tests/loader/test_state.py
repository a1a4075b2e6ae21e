"""STATE goes out only once the data it covers is committed; a killed run reruns to the same tables.

A fake incremental tap (`chunk_messages`) sends, per chunk: events (RECORDs, the incremental
stream), an update of a user (RECORD), every other chunk a sections BATCH file, then a STATE
whose bookmark is the chunk's last event. With batch_size_rows=3 the events sink fills within
each chunk, so drains happen mid-run and each STATE is emitted right after its chunk.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    STRING,
    batch,
    committed_copy,
    config_file,
    loader_command,
    loader_env,
    query,
    record,
    schema,
    state,
    write_jsonl,
)

CHUNKS = 6
EVENTS_PER_CHUNK = 4
EVENTS = {"id": {"type": "string"}, "user": STRING, "type": STRING}
USERS = {"id": {"type": "string"}, "name": STRING}
SECTIONS = {"id": {"type": "string"}, "teacher": STRING, "students": {"type": ["array", "null"]}}
# Columns that differ from one run to another (load and arrival times).
RUN_TIMES = (
    "_sdc_extracted_at, _sdc_received_at, _sdc_batched_at, _sdc_sequence, _sdc_sync_started_at"
)


def event_id(number: int) -> str:
    return f"e{number:04d}"


def chunk_messages(chunk: int, files: Path, *, big_batch_rows: int = 0) -> list[str]:
    lines = []
    for j in range(EVENTS_PER_CHUNK):
        number = chunk * EVENTS_PER_CHUNK + j
        lines.append(
            record("events", {"id": event_id(number), "user": f"u{number % 5}", "type": "x"})
        )
    lines.append(record("users", {"id": f"u{chunk % 3}", "name": f"name from chunk {chunk}"}))
    if chunk % 2 == 0:
        rows = [
            {"id": f"s{chunk % 4}", "teacher": f"t{chunk}", "students": [f"u{chunk}"]},
            *({"id": f"big{n}", "teacher": f"t{chunk}"} for n in range(big_batch_rows)),
        ]
        lines.append(batch("sections", [write_jsonl(files / f"sections-{chunk}.jsonl", rows)]))
    bookmark = event_id(chunk * EVENTS_PER_CHUNK + EVENTS_PER_CHUNK - 1)
    lines.append(state({"bookmarks": {"events": bookmark}}))
    return lines


def tap_run(files: Path, after: str | None = None, **options: Any) -> list[list[str]]:
    """The messages of one run, chunk by chunk, resuming after an events bookmark."""
    files.mkdir(parents=True, exist_ok=True)
    header = [
        schema("events", EVENTS),
        schema("users", USERS),
        schema("sections", SECTIONS),
    ]
    chunks = [
        chunk_messages(chunk, files, **options)
        for chunk in range(CHUNKS)
        if after is None or event_id(chunk * EVENTS_PER_CHUNK) > after
    ]
    return [header + chunks[0], *chunks[1:]] if chunks else [header]


class LiveLoader:
    """The loader as a process fed line by line; its STATE lines read as they come."""

    def __init__(self, tmp_path: Path, database: Path, **settings: Any) -> None:
        config = config_file(tmp_path, database, **settings)
        self.stderr_path = tmp_path / f"stderr-{time.monotonic_ns()}.txt"
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [*loader_command(), "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=loader_env(),
        )
        self._states: queue.Queue[Any] = queue.Queue()
        self._reader = threading.Thread(target=self._read_states, daemon=True)
        self._reader.start()

    def _read_states(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._states.put(json.loads(line))

    def send(self, lines: list[str]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("".join(line + "\n" for line in lines))
        self.process.stdin.flush()

    def next_state(self, timeout: float = 60) -> Any:
        try:
            return self._states.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            pytest.fail(f"no STATE within {timeout} s:\n{self.stderr_path.read_text()[-3000:]}")

    def remaining_states(self) -> list[Any]:
        states = []
        while not self._states.empty():
            states.append(self._states.get())
        return states

    def finish(self) -> list[Any]:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(timeout=120) == 0, self.stderr_path.read_text()[-3000:]
        self._reader.join(timeout=10)  # it has read every line the loader printed
        self._stderr.close()
        return self.remaining_states()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        self._stderr.close()


def tables(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: query(database, f"SELECT * EXCLUDE ({RUN_TIMES}) FROM raw.{name} ORDER BY id")  # noqa: S608
        for name in ("events", "users", "sections")
    }


def expected_after(chunks_done: int) -> dict[str, list[Any]]:
    """What the tables hold once the first `chunks_done` chunks are loaded (by a clean run)."""
    return {
        "events": sorted(event_id(n) for n in range(chunks_done * EVENTS_PER_CHUNK)),
        "users": sorted({f"u{c % 3}": f"name from chunk {c}" for c in range(chunks_done)}.items()),
    }


def test_every_emitted_state_is_covered_by_committed_rows(tmp_path):
    database = tmp_path / "w.duckdb"
    loader = LiveLoader(tmp_path, database, batch_size_rows=3)
    for chunk, lines in enumerate(tap_run(tmp_path / "files")):
        loader.send(lines)
        emitted = loader.next_state()
        assert emitted == {"bookmarks": {"events": event_id(chunk * EVENTS_PER_CHUNK + 3)}}
        # The loader now waits for input: a copy of its database is what it committed.
        copy = committed_copy(database, tmp_path / f"copy-{chunk}")
        expected = expected_after(chunk + 1)
        assert [row[0] for row in query(copy, "SELECT id FROM raw.events ORDER BY id")] == (
            expected["events"]
        )
        # The users sink never fills (one record a chunk): its records were committed by the
        # full drain that the STATE triggered.
        assert query(copy, "SELECT id, name FROM raw.users ORDER BY id") == expected["users"]
        sections = query(copy, "SELECT id, teacher FROM raw.sections ORDER BY id")
        assert (f"s{(chunk - chunk % 2) % 4}", f"t{chunk - chunk % 2}") in sections
    loader.finish()


def test_killed_after_first_state_reruns_to_the_same_tables(tmp_path):
    clean = tmp_path / "clean.duckdb"
    clean_loader = LiveLoader(tmp_path, clean, batch_size_rows=3)  # runs alongside
    for lines in tap_run(tmp_path / "clean-files"):
        clean_loader.send(lines)

    database = tmp_path / "killed.duckdb"
    loader = LiveLoader(tmp_path, database, batch_size_rows=3)
    run = tap_run(tmp_path / "killed-files")
    loader.send(run[0])
    first = loader.next_state()
    loader.send(run[1])  # more input in flight: the kill may land in the middle of its loading
    loader.kill()
    bookmark = first["bookmarks"]["events"]

    # What the first STATE covers is committed.
    committed = [row[0] for row in query(database, "SELECT id FROM raw.events ORDER BY id")]
    assert set(committed) >= {event_id(n) for n in range(EVENTS_PER_CHUNK)}
    assert bookmark in committed

    # The rerun resumes after the bookmark and ends with the clean run's tables.
    loader = LiveLoader(tmp_path, database, batch_size_rows=3)
    for lines in tap_run(tmp_path / "rerun-files", after=bookmark):
        loader.send(lines)
    loader.finish()
    clean_loader.finish()
    assert tables(database) == tables(clean)


def test_killed_while_loading_batch_files_reruns_to_the_same_tables(tmp_path):
    # All input at once, 5,000-row BATCH files, the default batch size: the kill right after
    # the first STATE lands while the next chunks are being loaded.
    clean = tmp_path / "clean.duckdb"
    clean_loader = LiveLoader(tmp_path, clean)
    database = tmp_path / "killed.duckdb"
    loader = LiveLoader(tmp_path, database)
    for lines in tap_run(tmp_path / "clean-files", big_batch_rows=5_000):
        clean_loader.send(lines)
    for lines in tap_run(tmp_path / "killed-files", big_batch_rows=5_000):
        loader.send(lines)
    first = loader.next_state()
    loader.kill()
    states = [first, *loader.remaining_states()]  # any more it printed before it died
    bookmark = states[-1]["bookmarks"]["events"]
    assert query(database, "SELECT max(id) FROM raw.events")[0][0] >= bookmark

    loader = LiveLoader(tmp_path, database)
    for lines in tap_run(tmp_path / "rerun-files", after=bookmark, big_batch_rows=5_000):
        loader.send(lines)
    loader.finish()
    clean_loader.finish()
    assert tables(database) == tables(clean)
