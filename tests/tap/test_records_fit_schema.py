"""Every record the tap emits fits the SCHEMA it declares, as a validating loader checks it.

A loader that validates (every singer-sdk target does by default) rejects a record whose
values the SCHEMA does not allow. The sandbox sends what Clever documents: only guaranteed
fields are always there, everything else may be a value, null, "" or absent, with hostile
strings among them. Every record of a full and an incremental sync is checked, formats
included, against the SCHEMA message the tap wrote for its stream.
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator

import pytest
from jsonschema import Draft7Validator

from clever_sandbox import SandboxConfig, SandboxServer
from tests.tap.conftest import SyncResult, run_sync

RECORD_STREAMS = ["districts", "schools", "terms", "courses", "sections", "users", "resources"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(districts=2, users_per_district=2500, seed=17, initial_events=40)
    with SandboxServer(config) as server:
        yield server


@pytest.fixture(scope="module")
def syncs(sandbox: SandboxServer) -> tuple[SyncResult, SyncResult]:
    config = {
        "api_url": sandbox.base_url,
        "oauth_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "page_size": 1000,
    }
    full = run_sync(config)
    assert full.error is None
    sandbox.random_changes(n=300, seed=8)
    incremental = run_sync(config, state=full.final_state)
    assert incremental.error is None
    return full, incremental


def _violations(result: SyncResult) -> list[str]:
    validators: dict[str, Draft7Validator] = {}
    found: list[str] = []
    for message in result.messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = Draft7Validator(
                message["schema"], format_checker=Draft7Validator.FORMAT_CHECKER
            )
        elif message["type"] == "RECORD":
            for error in validators[message["stream"]].iter_errors(message["record"]):
                where = "/".join(str(p) for p in error.absolute_path)
                found.append(f"{message['stream']} {message['record'].get('id')} {where}: ")
                found[-1] += error.message[:200]
    return found


def test_the_validator_checks_date_time_formats() -> None:
    # Without a format checker installed for date-time, jsonschema silently skips formats.
    validator = Draft7Validator(
        {"type": "string", "format": "date-time"}, format_checker=Draft7Validator.FORMAT_CHECKER
    )
    assert validator.is_valid("2024-08-25T00:00:00.000Z")
    assert not validator.is_valid("2024-08-25 00:00:00.000000")
    assert not validator.is_valid("")


def test_every_record_of_a_full_sync_fits_its_schema(
    syncs: tuple[SyncResult, SyncResult],
) -> None:
    full, _ = syncs
    for stream in [*RECORD_STREAMS, "events", "snapshots"]:
        assert full.records(stream), stream
    assert _violations(full) == []


def test_every_record_of_an_incremental_sync_fits_its_schema(
    syncs: tuple[SyncResult, SyncResult],
) -> None:
    _, incremental = syncs
    assert len(incremental.records("events")) >= 300
    assert _violations(incremental) == []


def _key(record: dict[str, t.Any], key_properties: list[str]) -> tuple[t.Any, ...]:
    return tuple(record[k] for k in key_properties)


@pytest.mark.parametrize("which", ["full", "incremental"])
def test_primary_keys_are_unique_in_every_stream(
    syncs: tuple[SyncResult, SyncResult], which: str
) -> None:
    result = syncs[0] if which == "full" else syncs[1]
    keys = {m["stream"]: m["key_properties"] for m in result.messages if m["type"] == "SCHEMA"}
    for stream, key_properties in keys.items():
        emitted = [_key(r, key_properties) for r in result.records(stream)]
        assert len(emitted) == len(set(emitted)), stream
