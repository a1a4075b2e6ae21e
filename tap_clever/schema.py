"""Stream schemas, derived from Clever's v3.1 OpenAPI record schemas.

`schemas/clever-v3.1-records.yaml` holds the spec's schemas verbatim; this module turns them into
the JSON Schema a Singer catalog needs. The spec is the one source of truth, so a field Clever adds
to the spec is picked up by pasting the new spec, not by retyping it here. What this module adds
to the spec, each for a stated reason:

- nullability exactly as the spec marks it (`nullable: true` becomes `["<type>", "null"]`);
- every object open (`additionalProperties: true`): Clever adds fields in minor versions and
  `ext` holds district-specific data of any shape;
- timestamps Clever writes itself keep a `date-time` format; date fields Clever passes through
  from the district's SIS without normalizing stay plain strings, so a loader never tries to
  parse `8/5/2011` or `2015-08-25 00:00:00.000000` as a timestamp;
- enums and patterns are dropped: Clever validates them upstream, and a value added to an enum
  must not make a loader reject a record (the warehouse tests the documented values instead);
- the v2-shaped contact fields that still arrive inside events;
- `district` on every record, which the tap guarantees (events do not carry it from Clever).
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

JSONSchema = dict[str, Any]

_SPEC_RESOURCE = "schemas/clever-v3.1-records.yaml"

# (spec schema, field) pairs that Clever validates as "some expression of time" but does not
# normalize: `2015-08-25`, `2015-08-25T00:00:00.000Z` and `2015-08-25 00:00:00.000000` all occur.
# `launch_date` is set by the district too; its spec format (`date`) is not a guarantee either.
_UNNORMALIZED_DATES = frozenset(
    {
        ("Term", "start_date"),
        ("Term", "end_date"),
        ("SchoolEnrollment", "start_date"),
        ("SchoolEnrollment", "end_date"),
        ("District", "launch_date"),
    }
)

# The older (v2) contact shape, still seen inside events: one relationship and type for a list
# of students, sometimes beside an empty `student_relationships` list.
_CONTACT_V2_FIELDS: JSONSchema = {
    "relationship": {"type": ["string", "null"]},
    "type": {"type": ["string", "null"]},
    "students": {"type": ["array", "null"], "items": {"type": "string"}},
}

_DISTRICT_ID: JSONSchema = {
    "type": "string",
    "description": "Clever id of the district the record belongs to (added by the tap where "
    "Clever's payload lacks it).",
}


@cache
def _spec_schemas() -> dict[str, JSONSchema]:
    text = resources.files("tap_clever").joinpath(_SPEC_RESOURCE).read_text(encoding="utf-8")
    loaded: dict[str, JSONSchema] = yaml.safe_load(text)
    return loaded


def _convert(node: JSONSchema, owner: str, field: str | None = None) -> JSONSchema:
    """Convert one OpenAPI schema node to JSON Schema; `owner` names the spec schema it is in."""
    if "$ref" in node:
        ref_name = node["$ref"].rsplit("/", 1)[-1]
        converted = _convert(_spec_schemas()[ref_name], owner=ref_name)
        if node.get("nullable"):
            converted["type"] = [converted["type"], "null"]
        return converted

    # `Roles` is the one object schema in the spec without an explicit type.
    json_type = node.get("type", "object" if "properties" in node else "string")
    out: JSONSchema = {}
    if json_type == "object":
        properties = {
            name: _convert(child, owner, name)
            for name, child in (node.get("properties") or {}).items()
        }
        if owner == "Contact":
            properties.update(copy.deepcopy(_CONTACT_V2_FIELDS))
        out["properties"] = properties
        out["additionalProperties"] = True
    elif json_type == "array":
        out["items"] = _convert(node.get("items", {}), owner)
    elif (
        json_type == "string"
        and node.get("format") in {"datetime", "date-time", "date"}
        and (owner, field) not in _UNNORMALIZED_DATES
    ):
        out["format"] = "date-time"

    out["type"] = [json_type, "null"] if node.get("nullable") else json_type
    return out


def record_schema(spec_name: str) -> JSONSchema:
    """JSON Schema of one Clever record type (`User`, `Section`, ...) as the tap emits it."""
    schema = _convert(_spec_schemas()[spec_name], owner=spec_name)
    schema["properties"]["district"] = dict(_DISTRICT_ID)
    schema["required"] = ["id"]
    return schema


def snapshot_record_schema(spec_name: str) -> JSONSchema:
    """A record type's schema as its snapshot stream emits it: tagged with its snapshot."""
    schema = record_schema(spec_name)
    schema["properties"]["_clever_snapshot_id"] = {
        "type": "string",
        "description": "The tap run's snapshot this record was read in (see the `snapshots` "
        "stream); added by the tap.",
    }
    return schema


def snapshots_schema() -> JSONSchema:
    """JSON Schema of the tap's `snapshots` stream (one record per completed snapshot)."""
    text: JSONSchema = {"type": "string"}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["district", "snapshot_id"],
        "properties": {
            "district": dict(_DISTRICT_ID),
            "snapshot_id": {**text, "description": "Sortable id of the snapshot (its start)."},
            "event_cursor": {
                **text,
                "description": 'Newest event id when the snapshot started ("" for an empty '
                "feed): events after it are the changes to apply on top of the snapshot.",
            },
            "reason": {**text, "description": "Why the district was snapshotted in this run."},
            "completed_at": {**text, "format": "date-time"},
        },
    }


def event_schema() -> JSONSchema:
    """JSON Schema of an Events API event, with the tap-added `district`."""
    open_object: JSONSchema = {"type": ["object", "null"], "additionalProperties": True}
    return {
        "type": "object",
        "additionalProperties": True,
        "required": ["id", "type"],
        "properties": {
            "id": {
                "type": "string",
                "description": "Event id (an ObjectID, ascending in feed "
                "order); not the id of the changed record.",
            },
            "type": {"type": "string", "description": "`<record type>.<created|updated|deleted>`"},
            "created": {"type": ["string", "null"], "format": "date-time"},
            "data": {
                "type": ["object", "null"],
                "additionalProperties": True,
                "properties": {
                    "object": {
                        **open_object,
                        "description": "The record after the change (for deletes, as it was).",
                    },
                    "previous_attributes": {
                        **open_object,
                        "description": "For updates: the changed fields' previous values.",
                    },
                },
            },
            "district": dict(_DISTRICT_ID),
        },
    }
