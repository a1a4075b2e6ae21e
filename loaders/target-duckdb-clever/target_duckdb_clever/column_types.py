"""JSON schema -> DuckDB column types, and what a column becomes when its type changes.

The raw tables keep the layout dbt was written against: one column per top-level property,
nested values as JSON text, Clever's timestamps as UTC TIMESTAMPs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

VARCHAR: Final = "VARCHAR"
TIMESTAMP: Final = "TIMESTAMP"
BIGINT: Final = "BIGINT"
DOUBLE: Final = "DOUBLE"
BOOLEAN: Final = "BOOLEAN"
JSON: Final = "JSON"

#: The SDK's record metadata (`add_record_metadata`). `_sdc_deleted_at` stays text as it was in
#: the tables of the previous loader (dbt parses it); the SDK's own schema says date-time.
METADATA_TYPES: Final[Mapping[str, str]] = {
    "_sdc_extracted_at": TIMESTAMP,
    "_sdc_received_at": TIMESTAMP,
    "_sdc_batched_at": TIMESTAMP,
    "_sdc_deleted_at": VARCHAR,
    "_sdc_sequence": BIGINT,
    "_sdc_table_version": BIGINT,
    "_sdc_sync_started_at": BIGINT,
}

# What a JSON-schema branch can hold, before it is resolved to one column type.
_ANY = "any"
_JSON_KINDS = {"object": JSON, "array": JSON}
_SCALAR_KINDS = {"string": VARCHAR, "integer": BIGINT, "number": DOUBLE, "boolean": BOOLEAN}


def _kinds(schema: Mapping[str, Any]) -> set[str]:
    """The value kinds a property schema allows, `null` included, anyOf/oneOf/allOf flattened."""
    kinds: set[str] = set()
    for combinator in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(combinator, ()):
            kinds |= _kinds(branch)
    declared = schema.get("type")
    if declared is None:
        # No type at all (`{}`) accepts any value; a pure combinator schema said it above.
        return kinds or {_ANY}
    for name in [declared] if isinstance(declared, str) else declared:
        if name == "string" and schema.get("format") == "date-time":
            kinds.add(TIMESTAMP)
        elif name in _JSON_KINDS:
            kinds.add(JSON)
        elif name in _SCALAR_KINDS:
            kinds.add(_SCALAR_KINDS[name])
        elif name != "null":
            kinds.add(_ANY)
    return kinds


def column_type(property_schema: Mapping[str, Any]) -> str:
    """The DuckDB type of one top-level property.

    object/array (alone or among other types) -> JSON, which keeps any value losslessly;
    string+date-time -> TIMESTAMP; integer -> BIGINT; number (or integer|number) -> DOUBLE;
    boolean -> BOOLEAN; any other mix of scalar types -> VARCHAR.
    """
    kinds = _kinds(property_schema)
    if JSON in kinds or _ANY in kinds:
        return JSON
    if not kinds:  # only null
        return VARCHAR
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {BIGINT, DOUBLE}:
        return DOUBLE
    return VARCHAR


def table_columns(schema: Mapping[str, Any]) -> dict[str, str]:
    """Column name -> type for a stream's schema (the sink's, metadata properties included)."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    return {
        name: METADATA_TYPES.get(name) or column_type(property_schema)
        for name, property_schema in properties.items()
    }


def widened(existing: str, wanted: str) -> str:
    """The type a column must have to hold both its current values and the new schema's.

    Never narrows and never drops a value: equal types stay; integer and number meet at DOUBLE;
    any other change becomes VARCHAR (DuckDB casts every type, JSON included, to text).
    """
    if existing.upper() == wanted.upper() or existing.upper() == VARCHAR:
        return existing
    if {existing.upper(), wanted.upper()} <= {BIGINT, DOUBLE}:
        return DOUBLE
    return VARCHAR
