"""Rows are upserted on the stream's key: a key's last record wins, within a load and across."""

from __future__ import annotations

from .harness import (
    STRING,
    batch,
    query,
    record,
    run_loader,
    run_loaders,
    schema,
    state,
    write_jsonl,
)

PROPERTIES = {"id": {"type": "string"}, "name": STRING, "grade": {"type": ["integer", "null"]}}


def names(database):
    return query(database, "SELECT id, name, grade FROM raw.things ORDER BY id")


def test_records_upsert_last_wins(tmp_path):
    database = tmp_path / "w.duckdb"
    run_loader(
        tmp_path,
        database,
        [
            schema("things", PROPERTIES),
            record("things", {"id": "a", "name": "first a", "grade": 1}),
            record("things", {"id": "b", "name": "b", "grade": 2}),
            record("things", {"id": "a", "name": "second a", "grade": 3}),
            record("things", {"id": "a", "name": "last a"}),  # grade absent: NULL, not kept
        ],
    )
    assert names(database) == [("a", "last a", None), ("b", "b", 2)]

    # A later run replaces rows by key and inserts new ones.
    run_loader(
        tmp_path,
        database,
        [
            schema("things", PROPERTIES),
            record("things", {"id": "b", "name": "b again", "grade": 5}),
            record("things", {"id": "c", "name": "c", "grade": 6}),
        ],
    )
    assert names(database) == [("a", "last a", None), ("b", "b again", 5), ("c", "c", 6)]


def test_small_batches_keep_record_order(tmp_path):
    # Drains every 2 records: a key's later record always lands after its earlier one.
    database = tmp_path / "w.duckdb"
    lines = [schema("things", PROPERTIES)]
    lines += [record("things", {"id": f"k{i % 3}", "name": f"v{i}", "grade": i}) for i in range(11)]
    run_loader(tmp_path, database, lines, batch_size_rows=2)
    assert names(database) == [("k0", "v9", 9), ("k1", "v10", 10), ("k2", "v8", 8)]


def test_batch_files_upsert_last_wins(tmp_path):
    database = tmp_path / "w.duckdb"
    first = write_jsonl(
        tmp_path / "first.jsonl",
        [
            {"id": "a", "name": "a1", "grade": 1},
            {"id": "b", "name": "b1", "grade": 1},
            {"id": "a", "name": "a2", "grade": 2},  # repeated within the file: the last wins
        ],
    )
    second = write_jsonl(
        tmp_path / "second.jsonl.gz",
        [{"id": "b", "name": "b2", "grade": 2}, {"id": "c", "name": "c2", "grade": 2}],
    )
    run_loader(
        tmp_path,
        database,
        [schema("things", PROPERTIES), batch("things", [first]), batch("things", [second], "gzip")],
    )
    assert names(database) == [("a", "a2", 2), ("b", "b2", 2), ("c", "c2", 2)]

    # Into a table that has rows: one manifest of two files, in manifest order.
    third = write_jsonl(
        tmp_path / "third.jsonl",
        [{"id": "c", "name": "c3", "grade": 3}, {"id": "c", "name": "c3 last", "grade": 3}],
    )
    fourth = write_jsonl(tmp_path / "fourth.jsonl", [{"id": "c", "name": "c4", "grade": 4}])
    run_loader(tmp_path, database, [schema("things", PROPERTIES), batch("things", [third, fourth])])
    assert names(database) == [("a", "a2", 2), ("b", "b2", 2), ("c", "c4", 4)]


def test_records_and_batches_mixed_in_one_stream(tmp_path):
    database = tmp_path / "w.duckdb"
    file = write_jsonl(
        tmp_path / "users.jsonl",
        [{"id": "a", "name": "from file", "grade": 2}, {"id": "b", "name": "file b", "grade": 2}],
    )
    run_loader(
        tmp_path,
        database,
        [
            schema("things", PROPERTIES),
            # Staged, not yet loaded when the BATCH arrives: the file's rows must still win.
            record("things", {"id": "a", "name": "record before", "grade": 1}),
            record("things", {"id": "c", "name": "record c", "grade": 1}),
            batch("things", [file]),
            # And a RECORD after the file wins over it.
            record("things", {"id": "b", "name": "record after", "grade": 3}),
            state({"bookmark": 1}),
        ],
    )
    assert names(database) == [
        ("a", "from file", 2),
        ("b", "record after", 3),
        ("c", "record c", 1),
    ]


def test_hard_delete(tmp_path):
    database = tmp_path / "w.duckdb"
    soft = tmp_path / "soft.duckdb"
    lines = [
        schema("things", PROPERTIES),
        record("things", {"id": "a", "name": "a"}),
        record("things", {"id": "b", "name": "b"}),
    ]
    deleted = {"id": "a", "name": "a", "_sdc_deleted_at": "2024-07-02T00:00:00Z"}
    run_loaders(
        tmp_path,
        [
            (database, lines, {"hard_delete": True}),
            # Without hard_delete the row stays, marked.
            (soft, [*lines, record("things", deleted)], {}),
        ],
    )
    run_loader(
        tmp_path,
        database,
        [schema("things", PROPERTIES), record("things", deleted)],
        hard_delete=True,
    )
    assert [row[0] for row in names(database)] == ["b"]
    assert query(soft, "SELECT id, _sdc_deleted_at FROM raw.things ORDER BY id") == [
        ("a", "2024-07-02T00:00:00Z"),
        ("b", None),
    ]
