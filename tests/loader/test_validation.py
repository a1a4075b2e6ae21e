"""validate_records: off by default (DuckDB's casts and the bad-value policy apply); on, the first
invalid record, RECORD or BATCH line, stops the load with one line naming stream, key, problem."""

from __future__ import annotations

import datetime

from .harness import (
    USERS_PROPERTIES,
    batch,
    query,
    record,
    run_loader,
    run_loaders,
    schema,
    write_jsonl,
)

PROPERTIES = {**USERS_PROPERTIES, "grade": {"type": ["integer", "null"]}}
GOOD = {"id": "u1", "created": "2024-07-02T00:54:29.000Z", "grade": 5}


INVALID = [
    ({"id": "u2", "grade": "five"}, "grade: 'five' is not of type 'integer', 'null'"),
    ({"id": "u2", "created": "not a date"}, "created: 'not a date' is not a 'date-time'"),
    ({"id": "u2", "created": "2024-07-02 00:54:29"}, "is not a 'date-time'"),
]


def test_validation_on(tmp_path):
    # Each invalid record in its own run, an invalid BATCH line, and a valid run: all at once.
    bad_file = write_jsonl(
        tmp_path / "users.jsonl.gz", [GOOD, {"id": "u2", "created": "2024-13-45T00:00:00Z"}]
    )
    good_file = write_jsonl(tmp_path / "good.jsonl", [{**GOOD, "id": "u3"}])
    header = [schema("users", PROPERTIES), record("users", GOOD)]
    inputs = [
        *([*header, record("users", bad)] for bad, _ in INVALID),
        [schema("users", PROPERTIES), batch("users", [bad_file], "gzip")],
        [*header, batch("users", [good_file])],
    ]
    cases = [
        (tmp_path / f"w{index}.duckdb", lines, {"validate_records": True})
        for index, lines in enumerate(inputs)
    ]
    *invalid_runs, bad_line_run, valid_run = run_loaders(tmp_path, cases, check=False)

    for (database, _, _), run, (_, problem) in zip(cases, invalid_runs, INVALID, strict=False):
        assert run.returncode == 1
        (line,) = run.error_lines
        assert line.startswith("target-duckdb-clever: error: users record (id='u2'): ")
        assert problem in line
        assert "Traceback" not in run.stderr
        assert query(database, "SELECT count(*) FROM raw.users") == [(0,)]

    assert bad_line_run.error_lines == [
        f"target-duckdb-clever: error: users batch file {bad_file} line 2 (id='u2'): "
        "created: '2024-13-45T00:00:00Z' is not a 'date-time'"
    ]
    assert bad_file.exists()
    assert query(cases[-2][0], "SELECT count(*) FROM raw.users") == [(0,)]

    assert valid_run.returncode == 0, valid_run.stderr
    assert query(cases[-1][0], "SELECT id FROM raw.users ORDER BY id") == [("u1",), ("u3",)]


def test_bad_values_without_validation_are_null_with_a_warning(tmp_path):
    # The row is kept, the value that is not of its column's type is NULL, and the log says
    # how many and where the first one is. Same for RECORDs and BATCH files.
    database = tmp_path / "w.duckdb"
    bad = [
        {"id": "r1", "created": "", "grade": 1},
        {"id": "r2", "created": "not a date", "grade": "five"},
        {"id": "r3", "created": "2024-07-02T00:54:29.000Z", "grade": 3},
    ]
    file = write_jsonl(tmp_path / "users.jsonl", [{**row, "id": "b" + row["id"]} for row in bad])
    run = run_loader(
        tmp_path,
        database,
        [
            schema("users", PROPERTIES),
            *[record("users", row) for row in bad],
            batch("users", [file]),
        ],
    )
    assert query(database, "SELECT id, created, grade FROM raw.users ORDER BY id") == [
        ("br1", None, 1),
        ("br2", None, None),
        ("br3", datetime.datetime(2024, 7, 2, 0, 54, 29), 3),
        ("r1", None, 1),
        ("r2", None, None),
        ("r3", datetime.datetime(2024, 7, 2, 0, 54, 29), 3),
    ]
    warnings = [line for line in run.stderr.splitlines() if "stored as NULL" in line]
    assert len(warnings) == 4, run.stderr
    assert any(
        "users: 2 value(s) of column created are not a valid TIMESTAMP and were stored as NULL "
        f"(the first: '', key {{'id': br1}}, record 1 of {file})" in line
        for line in warnings
    )
    assert any(
        "users: 1 value(s) of column grade are not a valid BIGINT and were stored as NULL "
        "(the first: 'five', key {'id': r2}, record 2 of 3 staged record(s))" in line
        for line in warnings
    )
