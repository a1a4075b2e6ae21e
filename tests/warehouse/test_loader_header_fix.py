"""The loader keeps the first row of every batch (target-duckdb 0.8.0 drops it).

target-duckdb 0.8.0's CSV COPY lets DuckDB guess whether the batch file has a header row, and
for an all-VARCHAR stream DuckDB guesses yes: the first record of each batch disappears.
loaders/target-duckdb-clever tells the COPY there is no header.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

# duckdb (same pin as the pipeline) and meltano come with the dev extra.
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")

LOADER_BIN = Path("loaders") / "target-duckdb" / "venv" / "bin"


def all_varchar_stream(row_count: int) -> str:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": ["string", "null"]},
            "code": {"type": ["string", "null"]},
        },
    }
    lines = [
        json.dumps(
            {"type": "SCHEMA", "stream": "things", "schema": schema, "key_properties": ["id"]}
        )
    ]
    lines += [
        json.dumps(
            {
                "type": "RECORD",
                "stream": "things",
                "record": {"id": f"id-{i:04d}", "name": f"name {i}", "code": f"c{i}"},
            }
        )
        for i in range(row_count)
    ]
    lines.append(json.dumps({"type": "STATE", "value": {"done": True}}))
    return "\n".join(lines) + "\n"


def load(executable: Path, database: Path, messages: str, **settings: object) -> int:
    config = database.with_suffix(".json")
    config.write_text(
        json.dumps({"path": str(database), "default_target_schema": "raw", **settings})
    )
    subprocess.run(
        [str(executable), "--config", str(config)],
        input=messages,
        text=True,
        capture_output=True,
        check=True,
        timeout=120,
    )
    with duckdb.connect(str(database), read_only=True) as connection:
        (count,) = connection.execute("select count(*) from raw.things").fetchone()
    return count


@pytest.mark.parametrize(("row_count", "batch_size_rows"), [(50, 100_000), (25, 10)])
def test_wrapped_loader_keeps_every_row(meltano_plugins, tmp_path, row_count, batch_size_rows):
    wrapped = meltano_plugins / LOADER_BIN / "target-duckdb-clever"
    loaded = load(
        wrapped,
        tmp_path / "wrapped.duckdb",
        all_varchar_stream(row_count),
        batch_size_rows=batch_size_rows,
    )
    assert loaded == row_count


def test_upstream_loader_loses_first_row_of_each_batch(meltano_plugins, tmp_path):
    """Shows the bug the wrapper fixes; when this fails, upstream has fixed it: drop the wrapper."""
    upstream = meltano_plugins / LOADER_BIN / "target-duckdb"
    loaded = load(
        upstream, tmp_path / "upstream.duckdb", all_varchar_stream(25), batch_size_rows=10
    )
    assert loaded == 25 - 3  # batches of 10, 10 and 5 rows, each missing its first


VALIDATE = {"validate_records": True}


def test_record_validation_checks_types_and_timestamps(meltano_plugins, tmp_path):
    """The end-to-end tests load with validate_records on: it must refuse what does not fit."""
    wrapped = meltano_plugins / LOADER_BIN / "target-duckdb-clever"
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
        },
    }
    header = json.dumps(
        {"type": "SCHEMA", "stream": "things", "schema": schema, "key_properties": ["id"]}
    )

    def messages(created: object) -> str:
        record = {"type": "RECORD", "stream": "things", "record": {"id": "a", "created": created}}
        return f"{header}\n{json.dumps(record)}\n"

    assert load(wrapped, tmp_path / "ok.duckdb", messages("2024-08-25T00:00:00Z"), **VALIDATE) == 1
    for bad in (None, "", "2024-08-25 00:00:00.000000"):
        with pytest.raises(subprocess.CalledProcessError) as failed:
            load(wrapped, tmp_path / "bad.duckdb", messages(bad), **VALIDATE)
        assert "created" in failed.value.stderr
