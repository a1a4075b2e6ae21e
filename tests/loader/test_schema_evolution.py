"""A changed SCHEMA adds columns and widens types; no value is dropped."""

from __future__ import annotations

from .harness import STRING, query, record, run_loader, schema, state, table_columns

V1 = {"id": {"type": "string"}, "name": STRING, "grade": {"type": ["integer", "null"]}}


def test_new_property_adds_a_column(tmp_path):
    database = tmp_path / "w.duckdb"
    run_loader(
        tmp_path, database, [schema("things", V1), record("things", {"id": "a", "grade": 1})]
    )
    v2 = {**V1, "nickname": STRING, "tags": {"type": ["array", "null"]}}
    run_loader(
        tmp_path,
        database,
        [schema("things", v2), record("things", {"id": "b", "nickname": "bee", "tags": ["x"]})],
    )
    assert table_columns(database, "things")["nickname"] == ("VARCHAR", True)
    assert table_columns(database, "things")["tags"] == ("JSON", True)
    assert query(
        database, "SELECT id, grade, nickname, tags::VARCHAR FROM raw.things ORDER BY id"
    ) == [("a", 1, None, None), ("b", None, "bee", '["x"]')]


def test_schema_change_within_one_run(tmp_path):
    # The records staged under the old schema are loaded before the new schema's: the later
    # record of a key still wins.
    database = tmp_path / "w.duckdb"
    v2 = {**V1, "nickname": STRING}
    run_loader(
        tmp_path,
        database,
        [
            schema("things", V1),
            record("things", {"id": "a", "name": "old"}),
            schema("things", v2),
            record("things", {"id": "a", "name": "new", "nickname": "n"}),
            record("things", {"id": "b", "name": "fills the new sink: it drains first"}),
            state({"done": True}),
        ],
        batch_size_rows=2,
    )
    assert query(database, "SELECT id, name, nickname FROM raw.things ORDER BY id") == [
        ("a", "new", "n"),
        ("b", "fills the new sink: it drains first", None),
    ]


def test_type_changes_widen_the_column(tmp_path):
    database = tmp_path / "w.duckdb"
    v1 = {**V1, "score": {"type": ["integer", "null"]}}
    run_loader(
        tmp_path,
        database,
        [schema("things", v1), record("things", {"id": "a", "grade": 7, "score": 2})],
    )
    # grade: integer -> string (VARCHAR keeps "7"); score: integer -> number (DOUBLE).
    v2 = {**V1, "grade": STRING, "score": {"type": ["number", "null"]}}
    run_loader(
        tmp_path,
        database,
        [schema("things", v2), record("things", {"id": "b", "grade": "K", "score": 2.5})],
    )
    columns = table_columns(database, "things")
    assert columns["grade"] == ("VARCHAR", True)
    assert columns["score"] == ("DOUBLE", True)
    assert query(database, "SELECT id, grade, score FROM raw.things ORDER BY id") == [
        ("a", "7", 2.0),
        ("b", "K", 2.5),
    ]
    # Back to integer: the VARCHAR column stays VARCHAR (never narrowed), values as text.
    run_loader(
        tmp_path, database, [schema("things", V1), record("things", {"id": "c", "grade": 3})]
    )
    assert table_columns(database, "things")["grade"] == ("VARCHAR", True)
    assert query(database, "SELECT grade FROM raw.things WHERE id = 'c'") == [("3",)]
    # A property the schema dropped keeps its column and values (NULL for new rows).
    assert query(database, "SELECT id, score FROM raw.things ORDER BY id") == [
        ("a", 2.0),
        ("b", 2.5),
        ("c", None),
    ]
