"""JSON schema -> column type, and the widening of a column whose property changed type."""

from __future__ import annotations

import pytest

column_types = pytest.importorskip("target_duckdb_clever.column_types")


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "VARCHAR"),
        ({"type": ["string", "null"]}, "VARCHAR"),
        ({"type": ["null", "string"], "format": "date-time"}, "TIMESTAMP"),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}, "TIMESTAMP"),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string"}]}, "VARCHAR"),
        ({"type": "string", "format": "date"}, "VARCHAR"),
        ({"type": "integer"}, "BIGINT"),
        ({"type": ["number", "null"]}, "DOUBLE"),
        ({"type": ["integer", "number"]}, "DOUBLE"),
        ({"type": "boolean"}, "BOOLEAN"),
        ({"type": ["object", "null"], "properties": {}}, "JSON"),
        ({"type": "array", "items": {"type": "string"}}, "JSON"),
        ({"anyOf": [{"type": "string"}, {"type": "array"}]}, "JSON"),
        ({"type": ["string", "object"]}, "JSON"),
        ({}, "JSON"),
        ({"type": ["string", "integer"]}, "VARCHAR"),
        ({"type": ["boolean", "integer"]}, "VARCHAR"),
        ({"type": "null"}, "VARCHAR"),
    ],
)
def test_column_type(schema, expected):
    assert column_types.column_type(schema) == expected


def test_metadata_columns_keep_the_previous_loader_types():
    columns = column_types.table_columns(
        {
            "properties": {
                "id": {"type": "string"},
                "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
                "_sdc_batched_at": {"type": ["null", "string"], "format": "date-time"},
                "_sdc_sequence": {"type": ["null", "integer"]},
            }
        }
    )
    assert columns == {
        "id": "VARCHAR",
        "_sdc_deleted_at": "VARCHAR",
        "_sdc_batched_at": "TIMESTAMP",
        "_sdc_sequence": "BIGINT",
    }


@pytest.mark.parametrize(
    ("existing", "wanted", "result"),
    [
        ("VARCHAR", "VARCHAR", "VARCHAR"),
        ("BIGINT", "DOUBLE", "DOUBLE"),
        ("DOUBLE", "BIGINT", "DOUBLE"),
        ("BIGINT", "VARCHAR", "VARCHAR"),
        ("VARCHAR", "BIGINT", "VARCHAR"),  # never narrowed
        ("TIMESTAMP", "VARCHAR", "VARCHAR"),
        ("JSON", "VARCHAR", "VARCHAR"),
        ("VARCHAR", "JSON", "VARCHAR"),  # objects are stored as their JSON text
        ("BOOLEAN", "BIGINT", "VARCHAR"),
        ("TIMESTAMP", "TIMESTAMP", "TIMESTAMP"),
    ],
)
def test_widened(existing, wanted, result):
    assert column_types.widened(existing, wanted) == result
