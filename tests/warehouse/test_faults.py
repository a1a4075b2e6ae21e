"""Faults during the real `meltano run`: each one recovers, or stops clearly and reruns clean.

Issue 9: every outcome either recovers to the warehouse a clean run gives, or stops with a
message that names the district, the endpoint and the cause, and leaves state where the rerun
completes. One small sandbox (two districts of 300 users, 25 records a page, so every endpoint
has several pages) and one warehouse go through the tests in file order (each depends on the
state the one before left): an initial sync through a 429 storm; sandbox changes read as
events through 5xx answers, dropped connections and responses slower than the timeout; a token
revoked, and a body cut short, on a later page of one district's feed; a loader and a dbt
failure after the tap finished. After each recovery, and each rerun, every mart must hold
exactly the sandbox's data (tests/warehouse/marts_vs_sandbox.py) and fct_events every event
once.

The retry backoff the tap ships with (1, 2, 4 ... 60 s over 8 attempts) makes a fault that
outlasts every attempt cost two minutes in a `meltano run`: the last test, persistent
timeouts, runs the tap in-process with fewer, quicker attempts (see test_errors.py for 5xx
that persist).
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tap_clever.client import CleverClient
from tap_clever.errors import CleverDistrictsFailedError
from tests.tap.conftest import run_sync

from . import dbt_output
from .conftest import run_meltano, sandbox_pipeline

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")
clever_sandbox = pytest.importorskip("clever_sandbox")

from .marts_vs_sandbox import assert_marts_equal_sandbox, expected_marts  # noqa: E402

PIPELINE = ("--environment=sandbox", "run", "tap-clever", "target-duckdb", "dbt-duckdb:build")
STATE_ID = "sandbox:tap-clever-to-target-duckdb"
PAGE_SIZE = 25
#: Seconds (the tap's request_timeout): the latency faults below last longer.
REQUEST_TIMEOUT = 1
#: The pages of the event feeds, not the sync plan's probes (which ask for one event).
FEED_PAGES = rf"/v3\.1/events\?.*\blimit={PAGE_SIZE}\b"
RETRY = "failed, retrying in"
RATE_LIMITED = "(rate limit reached); waiting"


@dataclass
class Pipeline:
    server: Any  # clever_sandbox.SandboxServer
    database: Path
    work: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)

    def run(self, *, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        """`meltano run tap-clever target-duckdb dbt-duckdb:build`, with `env` on top."""
        result = run_meltano(*PIPELINE, env={**self.env, **env}, check=check)
        self.outputs.append(result.stdout + result.stderr)
        # Kept for a failure's post-mortem (pytest keeps the last runs' temporary folders).
        (self.work / f"run-{len(self.outputs)}.log").write_text(self.outputs[-1])
        if check:
            dbt_output.assert_build(self.outputs[-1], {})
        return result

    @property
    def output(self) -> str:
        return self.outputs[-1]

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()

    def state(self) -> dict[str, Any]:
        """The Singer state Meltano keeps for the pipeline (`meltano state get`)."""
        result = run_meltano("--environment=sandbox", "state", "get", STATE_ID, env=self.env)
        return json.loads(result.stdout.strip().splitlines()[-1])["singer_state"]

    def raw_event_ids(self, district: str) -> list[str]:
        rows = self.query(
            "select id from raw_clever.events where district = ? order by id", [district]
        )
        return [event_id for (event_id,) in rows]

    def assert_current(self) -> None:
        """Every mart holds the sandbox's data, and fct_events each of its events once."""
        assert_marts_equal_sandbox(self.database, self.server)
        loaded = [
            event_id for (event_id,) in self.query("select event_id from analytics.fct_events")
        ]
        assert sorted(loaded) == sorted(event["id"] for event in self.server.events())


@pytest.fixture(scope="module")
def pipeline(meltano_plugins, tmp_path_factory) -> Iterator[Pipeline]:
    config = clever_sandbox.SandboxConfig(
        districts=2, users_per_district=300, seed=29, initial_events=6
    )
    with sandbox_pipeline(
        tmp_path_factory,
        "faults",
        config,
        private_runs=True,
        TAP_CLEVER_PAGE_SIZE=str(PAGE_SIZE),
        TAP_CLEVER_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT),
    ) as run:
        yield Pipeline(server=run.server, database=run.database, work=run.work, env=run.env)


def label(server: Any, district: str) -> str:
    """How the tap names a district in its messages."""
    (record,) = server.records("districts", district)
    assert record.get("name"), "the sandbox's seed should give every district a name"
    return f"'{record['name']}' ({district})"


def logged(output: str, plugin: str, text: str) -> list[str]:
    """The lines `plugin` logged (Meltano prefixes each with its name) that contain `text`."""
    return [line for line in output.splitlines() if f"] {plugin} " in line and text in line]


def fault_rule(server: Any, rule_id: int) -> dict[str, Any]:
    return next(rule for rule in server.configure_faults()["rules"] if rule["id"] == rule_id)


@contextlib.contextmanager
def faults(server: Any, *rules: dict[str, Any]) -> Iterator[list[int]]:
    """Install fault rules for the block; yields their ids."""
    ids = [server.add_fault(**rule)["id"] for rule in rules]
    try:
        yield ids
    finally:
        server.clear_faults()


def students(server: Any, district: str) -> list[dict[str, Any]]:
    return [user for user in server.records("users", district) if "student" in user["roles"]]


def change_both_districts(server: Any, seed: int) -> None:
    """Changes of many kinds in both districts, over two pages of events each. (Not the
    sandbox's random changes: they may delete a school, which dbt's tests rightly warn of.)"""
    rng = random.Random(seed)
    for district in server.district_ids:
        picked = rng.sample(students(server, district), 50)
        schools = [school["id"] for school in server.records("schools", district)]
        sections = [s for s in server.records("sections", district) if s.get("students")]
        ops: list[dict[str, Any]] = [
            {"op": "set_grade", "user": student["id"], "grade": rng.choice(["1", "5", "9"])}
            for student in picked[:40]
        ]
        ops += [
            {
                "op": "move_school",
                "user": student["id"],
                "school": next(
                    s for s in schools if s != student["roles"]["student"].get("school")
                ),
            }
            for student in picked[40:45]
        ]
        ops += [{"op": "delete", "id": student["id"]} for student in picked[45:48]]
        ops += [
            {
                "op": "create",
                "type": "users",
                "role": "student",
                "district": district,
                "school": school,
            }
            for school in rng.sample(schools, 2)
        ]
        ops += [
            {"op": "remove_section_students", "section": s["id"], "students": s["students"][:1]}
            for s in rng.sample(sections, 3)
            # Not a student changed above: one deleted or moved has left its sections.
            if not set(s["students"][:1]) & {student["id"] for student in picked}
        ]
        events = server.apply_changes(ops)
        assert len(events) > 2 * PAGE_SIZE


def test_initial_sync_rides_out_429_storms(pipeline):
    server = pipeline.server
    # Short windows, so each wait for a reset is short.
    server.set_rate_limit(window=1)
    storm = {
        "kind": "status",
        "status": 429,
        "path": r"/v3\.1/users",
        "after": 2,
        "times": 4,
        "reset_seconds": 1,
    }
    try:
        with faults(server, storm) as (storm_id,):
            # On top of Clever's own 429s, another application sharing the tokens uses up
            # their windows while the tap pages the users.
            with shared_token_traffic(server, lambda: fault_rule(server, storm_id)["seen"] > 0):
                pipeline.run()
            assert fault_rule(server, storm_id)["fired"] == 4
    finally:
        server.set_rate_limit(window=60)

    waits = logged(pipeline.output, "tap-clever", RATE_LIMITED)
    # Each 429 was waited out (none is retried with backoff, none fails the run): the storm's
    # four, and at least one the spent window caused.
    assert len(waits) >= 4 + 1, "\n".join(waits)
    for line in waits:
        assert re.search(r"District '[^']+' \(\w{24}\): GET /v3\.1/\w+", line), line
    # A 429 is never retried with backoff, nor counted against the attempts.
    assert not [line for line in logged(pipeline.output, "tap-clever", RETRY) if "429" in line]
    pipeline.assert_current()


@contextlib.contextmanager
def shared_token_traffic(server: Any, start: Callable[[], bool]) -> Iterator[None]:
    """Once `start()`, spend every district token's whole rate-limit window, again and again
    for a second, as a busy application sharing the tokens would."""
    stop = threading.Event()

    def spend() -> None:
        while not start():
            if stop.wait(0.01):
                return
        until = time.monotonic() + 1
        while time.monotonic() < until and not stop.is_set():
            for district in server.district_ids:
                server.spend_rate_limit(district, 1200)
            stop.wait(0.1)

    thread = threading.Thread(target=spend, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def test_5xx_and_dropped_connections_mid_feed_are_retried(pipeline):
    server = pipeline.server
    change_both_districts(server, seed=1)
    # Spread over the feeds' pages (a rule counts only the pages no earlier rule failed).
    rules = [
        {"kind": "status", "status": 503, "path": FEED_PAGES, "after": 1},
        {"kind": "drop", "path": FEED_PAGES, "after": 2},
        {"kind": "status", "status": 502, "path": FEED_PAGES, "after": 3},
        {"kind": "short_body", "path": FEED_PAGES, "after": 4},
    ]
    with faults(server, *rules) as ids:
        pipeline.run()
        assert [fault_rule(server, rule_id)["fired"] for rule_id in ids] == [1, 1, 1, 1]

    retries = logged(pipeline.output, "tap-clever", RETRY)
    for line in retries:
        assert re.search(r"District '[^']+' \(\w{24}\): GET /v3\.1/events\?limit=25", line), line
    causes = [
        sum(cause in line for line in retries)
        for cause in ("answered HTTP 503", "answered HTTP 502", "could not reach Clever")
    ]
    # The drop and the short body cannot reach Clever; a loaded machine may add a timeout.
    assert causes[:2] == [1, 1], "\n".join(retries)
    assert causes[2] >= 2, "\n".join(retries)
    assert "incremental: events after the bookmark" in pipeline.output
    pipeline.assert_current()


def test_responses_slower_than_the_timeout_are_retried(pipeline):
    server = pipeline.server
    change_both_districts(server, seed=2)
    slow = {
        "kind": "latency",
        "latency_ms": (REQUEST_TIMEOUT + 2) * 1000,
        "path": FEED_PAGES,
        "after": 1,
        "times": 2,
    }
    with faults(server, slow) as (slow_id,):
        pipeline.run()
        assert fault_rule(server, slow_id)["fired"] == 2

    timeouts = logged(pipeline.output, "tap-clever", "could not reach Clever (ReadTimeout)")
    # Two at least: a loaded machine may be slower than the timeout now and then, and that
    # attempt is retried too.
    assert len(timeouts) >= 2, pipeline.output[-3000:]
    for line in timeouts:
        assert re.search(r"District '[^']+' \(\w{24}\): GET /v3\.1/events\?", line), line
        assert RETRY in line
    pipeline.assert_current()


@dataclass
class CutFeed:
    """One district's feed stopped by a fault on a later page."""

    district: str
    other: str
    #: The last event of the last page read: the fault is on the page after it.
    cut: str
    #: The district's events up to `cut`, all that the warehouse may hold of it.
    read: list[str]
    state_before: dict[str, Any]


def cut_feed_after_two_pages(pipeline: Pipeline, district: str, fault: dict[str, Any]) -> CutFeed:
    """Run the pipeline with `fault` on the third page of `district`'s feed, and rerun nothing.

    Fifty changes in the district (one event each: exactly two full pages after the bookmark),
    then changes in both districts, so that the district has events after the fault and the
    other district events to sync.
    """
    server = pipeline.server
    other = next(d for d in server.district_ids if d != district)
    state_before = pipeline.state()
    feeds = {p["context"]["district"]: p for p in state_before["bookmarks"]["events"]["partitions"]}
    assert feeds[district]["replication_key_value"] == server.events(district)[-1]["id"]
    grades = ["PreKindergarten", "12"]
    first_two_pages = server.apply_changes(
        [
            {"op": "set_grade", "user": student["id"], "grade": grades[index % 2]}
            for index, student in enumerate(students(server, district)[: 2 * PAGE_SIZE])
        ]
    )
    assert len(first_two_pages) == 2 * PAGE_SIZE
    cut = first_two_pages[-1]["id"]
    read = [event["id"] for event in server.events(district)]
    for each in (district, other):
        later = students(server, each)
        server.apply_changes(
            [{"op": "set_grade", "user": student["id"], "grade": "3"} for student in later[:5]]
            + [{"op": "delete", "id": later[-1]["id"]}]
        )
    rule = {**fault, "path": rf"/v3\.1/events\?.*starting_after={cut}", "times": None}
    with faults(server, rule) as (rule_id,):
        failed = pipeline.run(check=False)
        assert fault_rule(server, rule_id)["fired"] == 1  # not retried: it cannot succeed
    assert failed.returncode != 0
    return CutFeed(district=district, other=other, cut=cut, read=read, state_before=state_before)


def assert_stopped_clearly(pipeline: Pipeline, feed: CutFeed, cause: str) -> None:
    """The run named the district, the endpoint and `cause`; the district's state moved only
    over the pages the warehouse holds; the other district synced; a rerun completes."""
    server = pipeline.server
    name = label(server, feed.district)
    error = f"District {name}: GET /v3.1/events?limit={PAGE_SIZE}&starting_after={feed.cut} {cause}"
    assert logged(pipeline.output, "tap-clever", f"District {name} failed in stream 'events'")
    assert logged(pipeline.output, "tap-clever", "1 district(s) failed; the others were synced:")
    assert logged(pipeline.output, "tap-clever", f"- {name}: events: {error}"), pipeline.output[
        -5000:
    ]
    assert logged(pipeline.output, "meltano", "Extractor failed")
    for token in server.district_tokens:
        assert token not in pipeline.output

    state = pipeline.state()
    feeds = {p["context"]["district"]: p for p in state["bookmarks"]["events"]["partitions"]}
    before = {
        p["context"]["district"]: p for p in feed.state_before["bookmarks"]["events"]["partitions"]
    }
    # The failed district's bookmark moved over the two complete pages, which the loader
    # committed (it emits STATE only after a commit): a rerun resumes after them. Its feed was
    # not read to the end, so the time it was last read in full stays.
    assert feeds[feed.district]["replication_key_value"] == feed.cut
    assert feeds[feed.district]["synced_at"] == before[feed.district]["synced_at"]
    assert pipeline.raw_event_ids(feed.district) == feed.read
    # The other district synced all of its events.
    assert feeds[feed.other]["replication_key_value"] == server.events(feed.other)[-1]["id"]
    assert pipeline.raw_event_ids(feed.other) == [e["id"] for e in server.events(feed.other)]
    # No snapshot started or completed.
    assert state["bookmarks"]["snapshots"] == feed.state_before["bookmarks"]["snapshots"]

    pipeline.run()
    assert "incremental: events after the bookmark" in pipeline.output
    pipeline.assert_current()


def test_a_token_revoked_on_a_later_page_stops_that_district_clearly(pipeline):
    first = pipeline.server.district_ids[0]
    feed = cut_feed_after_two_pages(pipeline, first, {"kind": "status", "status": 401})

    assert_stopped_clearly(
        pipeline,
        feed,
        "failed with HTTP 401. Clever rejected the bearer token (unauthorized): it is wrong, "
        "revoked, or the district disconnected the application.",
    )
    assert logged(pipeline.outputs[-2], "tap-clever", "Clever said: injected fault: HTTP 401")


def test_a_truncated_body_stops_that_district_clearly(pipeline):
    second = pipeline.server.district_ids[1]
    # The JSON cut in half, with a Content-Length that matches: nothing at the HTTP level
    # tells it from a whole body.
    feed = cut_feed_after_two_pages(pipeline, second, {"kind": "truncated"})

    assert_stopped_clearly(
        pipeline,
        feed,
        "returned a response that is not a Clever API list: the body is not JSON.",
    )


def test_a_loader_failure_after_the_tap_finished_claims_nothing(pipeline):
    server = pipeline.server
    state_before = pipeline.state()
    raw_before = {district: pipeline.raw_event_ids(district) for district in server.district_ids}
    change_both_districts(server, seed=3)

    # A memory limit too small for the load: the tap reads every event, the loader fails
    # when it loads them.
    failed = pipeline.run(check=False, TARGET_DUCKDB_MEMORY_LIMIT="2MB")

    assert failed.returncode != 0
    assert logged(pipeline.output, "tap-clever", "Beginning sync of 'events'")
    assert re.search(
        r"\] target-duckdb +target-duckdb-clever: error: events: cannot load \d+ staged "
        r"record\(s\): Out of Memory Error",
        pipeline.output,
    ), pipeline.output[-5000:]
    assert logged(pipeline.output, "meltano", "Loader failed")
    # Nothing was committed, so no STATE went out: the state and the raw events are as they
    # were, and the rerun reads the same events again.
    assert pipeline.state() == state_before
    assert {d: pipeline.raw_event_ids(d) for d in server.district_ids} == raw_before

    pipeline.run()
    pipeline.assert_current()


def test_a_dbt_failure_after_the_load_leaves_the_marts_and_reruns_clean(pipeline):
    server = pipeline.server
    marts_before = expected_marts(server, server.district_ids)
    change_both_districts(server, seed=4)

    # A memory limit too small for dbt's DuckDB connection: the build fails before any model.
    failed = pipeline.run(check=False, CLEVER_DBT_MEMORY_LIMIT="1MB")

    assert failed.returncode != 0
    assert logged(pipeline.output, "dbt-duckdb", "Runtime Error")
    assert logged(pipeline.output, "dbt-duckdb", "Out of Memory Error: failed to allocate")
    # The tap and the loader finished: state covers every event, and the warehouse holds them.
    state = pipeline.state()
    for partition in state["bookmarks"]["events"]["partitions"]:
        district = partition["context"]["district"]
        events = [event["id"] for event in server.events(district)]
        assert partition["replication_key_value"] == events[-1]
        assert pipeline.raw_event_ids(district) == events
    # The marts are the last build's, whole.
    assert_marts_equal_sandbox(pipeline.database, server, marts_before)

    # The rerun reads no event twice (nothing new in the feed) and builds the marts.
    pipeline.run()
    pipeline.assert_current()


def test_responses_slower_than_the_timeout_on_every_attempt_stop_that_district(
    pipeline, monkeypatch
):
    """Persistent timeouts, with the tap in-process: the backoff the tap ships with would make
    a `meltano run` of them wait two minutes. Fewer, quicker attempts; the same logic."""
    monkeypatch.setattr(CleverClient, "max_attempts", 3)
    monkeypatch.setattr(CleverClient, "retry_base_seconds", 0.01)
    server = pipeline.server
    first, second = server.district_ids
    state = pipeline.state()
    grades = server.apply_changes(
        [
            {"op": "set_grade", "user": student["id"], "grade": "4"}
            for student in students(server, first)[: 2 * PAGE_SIZE]
        ]
    )
    cut = grades[-1]["id"]
    change_both_districts(server, seed=5)
    slow = {
        "kind": "latency",
        "latency_ms": (REQUEST_TIMEOUT + 2) * 1000,
        "path": rf"/v3\.1/events\?.*starting_after={cut}",
        "times": None,
    }
    config = {
        "api_url": server.base_url,
        "district_tokens": server.district_tokens,
        "page_size": PAGE_SIZE,
        "request_timeout": REQUEST_TIMEOUT,
    }
    with faults(server, slow) as (slow_id,):
        result = run_sync(config, state=state, streams={"events"})
        assert fault_rule(server, slow_id)["fired"] == 3

    assert isinstance(result.error, CleverDistrictsFailedError)
    assert (
        f"- {label(server, first)}: events: District {label(server, first)}: GET /v3.1/events"
        f"?limit={PAGE_SIZE}&starting_after={cut} could not reach Clever (ReadTimeout), on all 3 "
        "attempts. Clever may be down"
    ) in str(result.error)
    feeds = {
        p["context"]["district"]: p["replication_key_value"]
        for p in result.final_state["bookmarks"]["events"]["partitions"]
    }
    # Up to the last page read, which the loader would commit before this STATE; the other
    # district to its newest event.
    assert feeds == {first: cut, second: server.events(second)[-1]["id"]}
    # Each event of the first district after its bookmark up to the cut went out, no later one.
    bookmark = next(
        p["replication_key_value"]
        for p in state["bookmarks"]["events"]["partitions"]
        if p["context"]["district"] == first
    )
    assert [e["id"] for e in result.records("events") if e["district"] == first] == [
        e["id"] for e in server.events(first) if bookmark < e["id"] <= cut
    ]
