"""Pins the two private singer-sdk methods the loader overrides, against the SDK's own behaviour.

If a singer-sdk release renames or changes them, these fail before the loader silently changes:
- `Target._process_state_message`: the SDK only remembers a STATE and writes it at the next full
  drain; the loader adds a full drain when rows were committed since the last STATE.
- `Sink._parse_timestamps_in_record`: the SDK parses date-time strings into datetimes for every
  record; the loader leaves that to DuckDB.
"""

from __future__ import annotations

import datetime
import inspect
import json

import pytest
from singer_sdk.sinks import BatchSink, Sink
from singer_sdk.target_base import Target

from .harness import TIMESTAMP

target_module = pytest.importorskip("target_duckdb_clever.target")
sink_module = pytest.importorskip("target_duckdb_clever.sink")

SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}, "created": TIMESTAMP}}


@pytest.fixture
def target(tmp_path):
    loader = target_module.TargetDuckDBClever(
        config={"path": str(tmp_path / "w.duckdb"), "default_target_schema": "raw"}
    )
    yield loader
    loader.connection.close()


def written_states(capsys) -> list[object]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_sdk_state_message_is_only_remembered_until_a_full_drain(target, capsys):
    assert list(inspect.signature(Target._process_state_message).parameters) == [
        "self",
        "message_dict",
    ]
    Target._process_state_message(target, {"type": "STATE", "value": {"a": 1}})
    assert written_states(capsys) == []
    target.drain_all()
    assert written_states(capsys) == [{"a": 1}]


def test_loader_emits_a_state_after_committed_rows_only(target, capsys):
    target._process_state_message({"type": "STATE", "value": {"a": 1}})
    assert written_states(capsys) == []  # nothing committed since: as the SDK
    target.note_commit()
    target._process_state_message({"type": "STATE", "value": {"a": 2}})
    assert written_states(capsys) == [{"a": 2}]
    target._process_state_message({"type": "STATE", "value": {"a": 3}})
    assert written_states(capsys) == []


def test_sdk_parses_timestamps_through_the_hook_the_loader_overrides(target):
    assert list(inspect.signature(Sink._parse_timestamps_in_record).parameters) == [
        "self",
        "record",
        "schema",
        "treatment",
    ]
    sdk_sink = type("PlainSink", (BatchSink,), {"process_batch": lambda self, context: None})(
        target, "things", SCHEMA, ["id"]
    )
    parsed = sdk_sink._validate_and_parse({"id": "a", "created": "2024-07-02T00:54:29.000Z"})
    assert isinstance(parsed["created"], datetime.datetime)

    loader_sink = sink_module.DuckDBSink(target, "things", SCHEMA, ["id"])
    kept = loader_sink._validate_and_parse({"id": "a", "created": "2024-07-02T00:54:29.000Z"})
    assert kept["created"] == "2024-07-02T00:54:29.000Z"  # DuckDB parses it at load time
