"""Run target-duckdb-clever as a real process and build the Singer messages it reads.

The loader runs as `python -m target_duckdb_clever` from this checkout, with the test
interpreter (the dev extra has everything the loader depends on: singer-sdk[msgspec], duckdb,
rfc3339-validator). Synthetic data only.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# duckdb (same pin as the pipeline) comes with the dev extra.
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")

REPO_ROOT = Path(__file__).resolve().parents[2]
LOADER_SOURCE = REPO_ROOT / "loaders" / "target-duckdb-clever"
SCHEMA = "raw"

STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
OBJECT = {"type": ["object", "null"], "additionalProperties": True, "properties": {}}
ARRAY = {"type": ["array", "null"], "items": {}}

USERS_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "district": STRING,
    "email": STRING,
    "name": OBJECT,
    "roles": OBJECT,
    "created": TIMESTAMP,
}


def loader_command() -> list[str]:
    return [sys.executable, "-m", "target_duckdb_clever"]


def loader_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TARGET_DUCKDB", "CLEVER_DUCKDB"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(LOADER_SOURCE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return env


# Messages


def schema(stream: str, properties: Mapping[str, Any], key: Sequence[str] = ("id",)) -> str:
    return json.dumps(
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": dict(properties)},
            "key_properties": list(key),
        }
    )


def record(stream: str, data: Mapping[str, Any], extracted: str | None = None) -> str:
    message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": dict(data)}
    if extracted:
        message["time_extracted"] = extracted
    return json.dumps(message)


def state(value: Any) -> str:
    return json.dumps({"type": "STATE", "value": value})


def batch(stream: str, paths: Sequence[Path], compression: str = "none") -> str:
    return json.dumps(
        {
            "type": "BATCH",
            "stream": stream,
            "encoding": {"format": "jsonl", "compression": compression},
            "manifest": [path.as_uri() for path in paths],
        }
    )


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """A BATCH file: one JSON object a line (gzip if the name ends in .gz)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    return path


# Runs


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "target-duckdb-clever: error" in line]


def config_file(tmp_path: Path, database: Path, **settings: Any) -> Path:
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*.json')))}.json"
    path.write_text(
        json.dumps({"path": str(database), "default_target_schema": SCHEMA, **settings})
    )
    return path


def run_loader(
    tmp_path: Path, database: Path, lines: Iterable[str], *, check: bool = True, **settings: Any
) -> Run:
    (run,) = run_loaders(tmp_path, [(database, lines, settings)], check=check)
    return run


def run_loaders(
    tmp_path: Path,
    cases: Sequence[tuple[Path, Iterable[str], Mapping[str, Any]]],
    *,
    check: bool = True,
) -> list[Run]:
    """Run one loader per (database, input lines, settings), all at once; their results."""
    processes = []
    for database, lines, settings in cases:
        config = config_file(tmp_path, database, **settings)
        process = subprocess.Popen(
            [*loader_command(), "--config", str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=loader_env(),
        )
        processes.append((process, "".join(line + "\n" for line in lines)))

    def finish(process: subprocess.Popen[str], text: str) -> Run:
        stdout, stderr = process.communicate(text, timeout=120)
        return Run(process.returncode, stdout, stderr)

    with ThreadPoolExecutor(max_workers=len(processes)) as pool:
        runs = list(pool.map(lambda pair: finish(*pair), processes))
    for run in runs:
        if check and run.returncode != 0:
            raise AssertionError(f"loader exited {run.returncode}:\n{run.stderr[-4000:]}")
    return runs


def query(database: Path, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


def committed_copy(database: Path, into: Path) -> Path:
    """A copy of the database and its WAL, to read what is committed while the loader runs.

    DuckDB lets one process open a file for writing, and nobody else then, even read-only; a
    copy taken while the loader waits for input holds exactly its committed transactions.
    """
    into.mkdir(parents=True, exist_ok=True)
    copy = into / database.name
    for suffix in ("", ".wal"):
        source = Path(str(database) + suffix)
        target = Path(str(copy) + suffix)
        target.unlink(missing_ok=True)
        if source.exists():
            shutil.copyfile(source, target)
    return copy


def table_columns(database: Path, table: str) -> dict[str, tuple[str, bool]]:
    """Column -> (type, nullable), in table order."""
    rows = query(
        database,
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [SCHEMA, table],
    )
    return {name: (kind, nullable) for name, kind, nullable in rows}
