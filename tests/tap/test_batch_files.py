"""With `batch_config`, the snapshot streams go out as JSON-lines files (BATCH messages).

The files must hold exactly what RECORD messages would have carried, events and snapshots stay
RECORD messages, and anything that changes records on the RECORD path (a deselected property,
a stream map) keeps the stream on that path.
"""

from __future__ import annotations

import gzip
import json
import typing as t
from pathlib import Path
from urllib.parse import urlparse

import pytest
from singer_sdk import Stream

from tap_clever.streams import CleverStream
from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, SyncResult, object_id, run_sync


def _batch_config(root: Path, *, compression: str = "none", batch_size: int = 3) -> dict:
    return {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "run-"},
        "batch_size": batch_size,
    }


def _batched(result: SyncResult, stream: str) -> list[list[dict[str, t.Any]]]:
    """The records of each of the stream's batch files, in message order."""
    files = []
    for message in result.messages:
        if message["type"] == "BATCH" and message["stream"] == stream:
            for url in message["manifest"]:
                path = Path(urlparse(url).path)
                opener = gzip.open if path.suffix == ".gz" else open
                with opener(path, "rt", encoding="utf-8") as lines:
                    files.append([json.loads(line) for line in lines])
    return files


@pytest.fixture
def roster(clever: FakeClever) -> FakeClever:
    users = [
        {
            "id": object_id(n),
            "district": DISTRICT_A,
            "name": {"first": f"Ana{n}", "last": 'Ng\u0000\n"quoted" \u202e'},
            "roles": {"student": {"grade": str(n)}},
        }
        for n in range(1, 8)
    ]
    clever.set_records(TOKEN_A, "users", users)
    clever.set_records(TOKEN_A, "schools", [{"id": object_id(90), "name": "Lincoln"}])
    for collection in ("terms", "courses", "sections", "resources"):
        clever.set_records(TOKEN_A, collection, [])
    clever.set_records(
        TOKEN_A,
        "events",
        [
            {
                "id": object_id(1, "61"),
                "type": "users.updated",
                "created": "2026-11-01T00:00:00.000Z",
                "data": {"object": users[0]},
            }
        ],
    )
    return clever


def test_snapshot_streams_go_out_as_files_holding_the_records_messages_would(
    roster: FakeClever, tmp_path: Path
) -> None:
    config = {"api_url": roster.url, "auth_token": TOKEN_A}
    as_records = run_sync(config)
    as_files = run_sync({**config, "batch_config": _batch_config(tmp_path)})

    assert as_records.error is None
    assert as_files.error is None
    users = _batched(as_files, "users")
    assert [len(batch) for batch in users] == [3, 3, 1]  # batch_size 3: files as they fill
    key = {"_clever_snapshot_id"}  # a new snapshot id each run
    for stream in ("users", "schools", "districts"):
        expected = [
            {k: v for k, v in r.items() if k not in key} for r in as_records.records(stream)
        ]
        files = [record for batch in _batched(as_files, stream) for record in batch]
        assert [{k: v for k, v in r.items() if k not in key} for r in files] == expected
        assert as_files.records(stream) == []
    # Events move a bookmark and snapshots complete a district: both stay RECORD messages.
    assert len(as_files.records("events")) == 1
    assert len(as_files.records("snapshots")) == 1
    assert {path.name.split("--")[0] for path in tmp_path.iterdir()} == {"run-tap-clever"}


def test_each_batch_comes_after_its_schema_and_before_the_next_state(
    roster: FakeClever, tmp_path: Path
) -> None:
    result = run_sync(
        {"api_url": roster.url, "auth_token": TOKEN_A, "batch_config": _batch_config(tmp_path)}
    )

    kinds = [(m["type"], m.get("stream")) for m in result.messages]
    first_batch = kinds.index(("BATCH", "users"))
    assert ("SCHEMA", "users") in kinds[:first_batch]
    assert kinds[first_batch + 1] == ("STATE", None)


def test_gzip_files(roster: FakeClever, tmp_path: Path) -> None:
    config = {
        "api_url": roster.url,
        "auth_token": TOKEN_A,
        "batch_config": _batch_config(tmp_path, compression="gzip", batch_size=100),
    }
    result = run_sync(config, streams={"users"})

    (users,) = _batched(result, "users")
    assert [u["id"] for u in users] == [object_id(n) for n in range(1, 8)]
    assert all(path.suffix == ".gz" for path in tmp_path.iterdir())


def test_a_deselected_property_keeps_the_stream_on_records(
    roster: FakeClever, tmp_path: Path
) -> None:
    from tap_clever.tap import TapClever

    catalog = TapClever(config={}).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["stream"] == "users" and item["breadcrumb"] == ["properties", "name"]:
                item["metadata"]["selected"] = False
    config = {"api_url": roster.url, "auth_token": TOKEN_A, "batch_config": _batch_config(tmp_path)}

    result = run_sync(config, catalog=catalog)

    assert _batched(result, "users") == []
    assert len(result.records("users")) == 7
    assert all("name" not in user for user in result.records("users"))
    assert _batched(result, "schools") != []  # other streams still go out as files


def test_a_stream_map_keeps_the_stream_on_records(roster: FakeClever, tmp_path: Path) -> None:
    config = {
        "api_url": roster.url,
        "auth_token": TOKEN_A,
        "batch_config": _batch_config(tmp_path),
        "stream_maps": {"users": {"email": None}},
    }

    result = run_sync(config, streams={"users"})

    assert _batched(result, "users") == []
    assert len(result.records("users")) == 7


def test_files_hold_what_the_sdks_own_batching_writes(
    roster: FakeClever, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tap's batcher replaces the SDK's (gzip, a list a batch) but feeds on the same records
    (the SDK's private `_sync_records`): run the SDK's own get_batches on the same data."""
    config = {"api_url": roster.url, "auth_token": TOKEN_A}
    ours = run_sync({**config, "batch_config": _batch_config(tmp_path / "ours")})
    monkeypatch.setattr(CleverStream, "get_batches", Stream.get_batches)
    sdks = run_sync({**config, "batch_config": _batch_config(tmp_path / "sdk")})

    def records(result: SyncResult) -> list[dict[str, t.Any]]:
        return [
            {k: v for k, v in r.items() if k != "_clever_snapshot_id"}
            for batch in _batched(result, "users")
            for r in batch
        ]

    assert records(ours) == records(sdks)
    assert len(records(ours)) == 7
    assert [m["type"] for m in ours.messages] == [m["type"] for m in sdks.messages]
