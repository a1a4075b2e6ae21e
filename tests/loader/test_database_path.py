"""The `path` setting: a bad one fails at start-up in one line; the file is its owner's only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.loader.harness import (
    STRING,
    Run,
    duckdb,
    query,
    record,
    run_loader,
    schema,
    state,
)
from tests.loader.test_state import LiveLoader

LINES = [
    schema("users", {"id": {"type": "string"}, "email": STRING}),
    record("users", {"id": "u1"}),
]
LINES += [state({"bookmarks": {"users": {"at": 1}}})]


def assert_one_line_at_start_up(run: Run, *expected: str) -> None:
    assert run.returncode == 1
    # No STATE: the run's input was not consumed, so nothing is lost to the failure.
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.stderr
    line = run.error_lines[0]
    assert "`path` setting (CLEVER_DUCKDB_PATH, or TARGET_DUCKDB_PATH under Meltano)" in line
    for text in expected:
        assert text in line, line


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    folder.mkdir()

    run = run_loader(tmp_path, folder, LINES, check=False)

    assert_one_line_at_start_up(run, f"is {folder}, a folder", f"{folder}/clever.duckdb")
    assert list(folder.iterdir()) == []


def test_a_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    # A file where a folder should be: refused whoever runs the test, root included.
    (tmp_path / "not-a-folder").write_text("")
    database = tmp_path / "not-a-folder" / "sub" / "clever.duckdb"

    run = run_loader(tmp_path, database, LINES, check=False)

    assert_one_line_at_start_up(run, "cannot be created", "folder this user can write")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes any folder")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        run = run_loader(tmp_path, folder / "clever.duckdb", LINES, check=False)
    finally:
        folder.chmod(0o700)

    assert_one_line_at_start_up(run, "in a folder this user cannot write")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes any file")
def test_a_file_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "clever.duckdb"
    run_loader(tmp_path, database, LINES)
    database.chmod(0o400)

    run = run_loader(tmp_path, database, LINES, check=False)

    assert_one_line_at_start_up(run, "cannot read and write")


def test_a_database_another_program_holds_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "clever.duckdb"
    run_loader(tmp_path, database, LINES)
    with duckdb.connect(str(database)):
        run = run_loader(tmp_path, database, LINES, check=False)

    assert_one_line_at_start_up(run, "which DuckDB cannot open", "another program has it open")


def test_the_database_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "new" / "clever.duckdb"

    run_loader(tmp_path, database, LINES)

    assert mode(database) == 0o600
    assert mode(database.parent) == 0o700
    assert query(database, "SELECT id FROM raw.users") == [("u1",)]


def test_the_write_ahead_log_is_owner_only(tmp_path: Path) -> None:
    # DuckDB keeps the log beside the database while the loader runs (and after a crash).
    database = tmp_path / "clever.duckdb"
    loader = LiveLoader(tmp_path, database, batch_size_rows=1)
    loader.send(LINES)
    loader.next_state()  # rows committed: the loader now waits for input, its log on disk

    log = Path(f"{database}.wal")
    assert log.exists()
    assert mode(log) == 0o600
    assert mode(database) == 0o600
    loader.finish()


def test_a_database_others_can_read_is_made_owner_only(tmp_path: Path) -> None:
    # As a file from before this loader, or one dbt created, may be.
    database = tmp_path / "clever.duckdb"
    run_loader(tmp_path, database, LINES)
    database.chmod(0o644)

    run_loader(tmp_path, database, LINES)

    assert mode(database) == 0o600
