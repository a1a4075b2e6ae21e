"""The raw tables dbt reads: schema, one table per stream, column types, metadata columns."""

from __future__ import annotations

import datetime

from .harness import (
    ARRAY,
    OBJECT,
    SCHEMA,
    STRING,
    TIMESTAMP,
    query,
    record,
    run_loaders,
    schema,
    state,
    table_columns,
)

PROPERTIES = {
    "id": {"type": "string"},
    "text": STRING,
    "created": TIMESTAMP,
    "count": {"type": ["integer", "null"]},
    "ratio": {"type": "number"},
    "flag": {"type": ["boolean", "null"]},
    "name": OBJECT,
    "roles": ARRAY,
    "either": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    "mixed": {"type": ["string", "integer", "null"]},
    "numeric": {"type": ["integer", "number"]},
    "anything": {},
    "plain_date": {"type": "string", "format": "date"},
}


def test_tables_columns_types_and_metadata(tmp_path):
    database = tmp_path / "nested" / "folder" / "warehouse.duckdb"  # the folder is created
    row = {
        "id": "u1",
        "text": 'quote " and \\ backslash',
        "created": "2024-07-02T00:54:29.000Z",
        "count": 7,
        "ratio": 0.25,
        "flag": True,
        "name": {"first": "Ada", "middle": "", "last": "Example"},
        "roles": ["student", {"school": "s1"}],
        "either": {"k": [1, 2]},
        "mixed": 12,
        "numeric": 3,
        "anything": [1, "two", None],
        "plain_date": "2024-07-02",
        "not_in_schema": "ignored",
    }
    offset = {**row, "id": "u2", "created": "2024-07-02T05:54:29+05:00", "either": "text"}
    snapshot = {"district": STRING, "snapshot_id": STRING, "completed_at": TIMESTAMP}
    without_metadata = tmp_path / "without-metadata.duckdb"
    run_loaders(
        tmp_path,
        [
            (
                database,
                [
                    schema("people", PROPERTIES),
                    schema("snapshots", snapshot, key=("district", "snapshot_id")),
                    record("people", row, extracted="2024-07-03T10:00:00.123456Z"),
                    record("people", offset, extracted="2024-07-03T10:00:00Z"),
                    record("people", {"id": "u3"}),  # every other property absent
                    record("snapshots", {"district": "d1", "snapshot_id": "s1"}),
                    state({"done": True}),
                ],
                {},
            ),
            (
                without_metadata,
                [schema("courses", {"id": {"type": "string"}}), record("courses", {"id": "c1"})],
                {"add_record_metadata": False},
            ),
        ],
    )
    # One table per stream; the composite key's columns are both NOT NULL.
    assert query(
        database,
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
        [SCHEMA],
    ) == [("people",), ("snapshots",)]
    snapshots = table_columns(database, "snapshots")
    assert snapshots["district"] == ("VARCHAR", False)
    assert snapshots["snapshot_id"] == ("VARCHAR", False)
    assert snapshots["completed_at"] == ("TIMESTAMP", True)
    assert list(table_columns(without_metadata, "courses")) == ["id"]

    assert table_columns(database, "people") == {
        "id": ("VARCHAR", False),  # the key: NOT NULL
        "text": ("VARCHAR", True),
        "created": ("TIMESTAMP", True),
        "count": ("BIGINT", True),
        "ratio": ("DOUBLE", True),
        "flag": ("BOOLEAN", True),
        "name": ("JSON", True),
        "roles": ("JSON", True),
        "either": ("JSON", True),
        "mixed": ("VARCHAR", True),
        "numeric": ("DOUBLE", True),
        "anything": ("JSON", True),
        "plain_date": ("VARCHAR", True),
        "_sdc_extracted_at": ("TIMESTAMP", True),
        "_sdc_received_at": ("TIMESTAMP", True),
        "_sdc_batched_at": ("TIMESTAMP", True),
        "_sdc_deleted_at": ("VARCHAR", True),
        "_sdc_sequence": ("BIGINT", True),
        "_sdc_table_version": ("BIGINT", True),
        "_sdc_sync_started_at": ("BIGINT", True),
    }
    rows = query(
        database,
        "SELECT id, text, created, count, ratio, flag, name::VARCHAR, roles->>'$[1].school', "
        "either::VARCHAR, mixed, numeric, anything::VARCHAR, plain_date, _sdc_extracted_at "
        "FROM raw.people ORDER BY id",
    )
    assert rows == [
        (
            "u1",
            'quote " and \\ backslash',
            datetime.datetime(2024, 7, 2, 0, 54, 29),
            7,
            0.25,
            True,
            '{"first":"Ada","middle":"","last":"Example"}',
            "s1",
            '{"k":[1,2]}',
            "12",
            3.0,
            '[1,"two",null]',
            "2024-07-02",
            datetime.datetime(2024, 7, 3, 10, 0, 0, 123456),
        ),
        # An offset is converted to UTC; a string in a JSON column is a JSON string.
        (
            "u2",
            'quote " and \\ backslash',
            datetime.datetime(2024, 7, 2, 0, 54, 29),
            7,
            0.25,
            True,
            '{"first":"Ada","middle":"","last":"Example"}',
            "s1",
            '"text"',
            "12",
            3.0,
            '[1,"two",null]',
            "2024-07-02",
            datetime.datetime(2024, 7, 3, 10, 0),
        ),
        ("u3", *[None] * 12, None),
    ]
    ((batched, received, deleted, sync_started),) = query(
        database,
        "SELECT DISTINCT _sdc_batched_at, _sdc_received_at IS NOT NULL, _sdc_deleted_at, "
        "_sdc_sync_started_at IS NOT NULL FROM raw.people",
    )
    now = datetime.datetime.now(tz=datetime.UTC).replace(tzinfo=None)
    assert now - datetime.timedelta(minutes=5) < batched <= now  # UTC, one value per load
    assert (received, deleted, sync_started) == (True, None, True)
