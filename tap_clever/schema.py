"""Stream schemas: Clever's v3.1 OpenAPI record schemas, read with the Singer SDK's OpenAPI support.

`schemas/clever-v3.1-records.yaml` holds the spec's schemas verbatim; the SDK's `OpenAPISchema`
resolves their `$ref`s and its normalizer turns them into JSON Schema. The spec is the one source
of truth: a field Clever adds to the spec is picked up by pasting the new spec. What this module
adds, each for a stated reason:

- **Nullable unless Clever guarantees it.** Clever guarantees a few fields per record type
  (`GUARANTEED_FIELDS`, from its data-model pages); everything else arrives "as it exists in the
  source system": a value, `null`, `""` or nothing. The SDK's normalizer already declares every
  non-key property nullable; a guaranteed field keeps the spec's own nullability instead. The
  spec's missing `nullable` is not a promise, so a validating loader would otherwise reject
  real data (a student's open enrollment has `end_date: null`).
- **`date-time` only on guaranteed timestamps.** `created` and `last_modified` of users,
  schools and sections are written by Clever itself. Every other date passes through from the
  district's SIS unnormalized (`2015-08-25`, `2015-08-25 00:00:00.000000`, `""`) and stays a
  plain string, so no loader types a column as a timestamp and then rejects a value: parsing is
  the warehouse's job.
- Every object open (`additionalProperties: true`): Clever adds fields in minor versions and
  `ext` holds district-specific data of any shape. Enums and patterns are dropped (by the SDK):
  a value Clever adds to an enum must not make a loader reject a record.
- The v2-shaped contact fields that still arrive inside events.
- `district` on every record, which the tap guarantees (events do not carry it from Clever).
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Sequence
from functools import cache, cached_property
from importlib import resources

import yaml
from singer_sdk.schema.source import OpenAPISchema, OpenAPISchemaNormalizer
from typing_extensions import override

JSONSchema = dict[str, t.Any]

_SPEC_RESOURCE = "schemas/clever-v3.1-records.yaml"
#: Marks an array's items in a field path: `roles.student.enrollments.[].school`.
ITEMS = "[]"

# Fields Clever guarantees, per spec schema, as dotted paths from the record (from Clever's
# data-model pages; see shared/reference/README.md). `name.first` is not among them although
# Clever lists it for users: a contact's full name may be stored in `name.last` alone.
GUARANTEED_FIELDS: dict[str, frozenset[str]] = {
    "User": frozenset(
        {
            "id",
            "district",
            "name",
            "name.last",
            "created",
            "last_modified",
            "roles.student.school",
            "roles.student.schools",
            "roles.student.enrollments",
            f"roles.student.enrollments.{ITEMS}.school",
            "roles.student.sis_id",
        }
    ),
    "Section": frozenset(
        {
            "id",
            "district",
            "school",
            "created",
            "last_modified",
            "name",
            "sis_id",
            "subject",
            "students",
            "teacher",
            "teachers",
        }
    ),
    "School": frozenset(
        {"id", "district", "name", "created", "last_modified", "sis_id", "school_number"}
    ),
    "District": frozenset({"id"}),
    "Term": frozenset({"id", "district"}),
    "Course": frozenset({"id", "district"}),
    "Resource": frozenset({"id", "district"}),
}

# The older (v2) contact shape, still seen inside events: one relationship and type for a list
# of students, sometimes beside an empty `student_relationships` list.
_CONTACT_PATH = ("roles", "contact")
_CONTACT_V2_FIELDS: JSONSchema = {
    "relationship": {"type": ["string", "null"]},
    "type": {"type": ["string", "null"]},
    "students": {"type": ["array", "null"], "items": {"type": "string"}},
}

_TIMESTAMP_FORMATS = frozenset({"datetime", "date-time"})

_DISTRICT_ID: JSONSchema = {
    "type": "string",
    "description": "Clever id of the district the record belongs to (added by the tap where "
    "Clever's payload lacks it).",
}


class CleverRecordNormalizer(OpenAPISchemaNormalizer):
    """The SDK's OpenAPI normalizer, told which of one record type's fields Clever guarantees.

    It walks the schema depth first, so it tracks the path of the field being normalized.
    """

    def __init__(self, guaranteed: frozenset[str]) -> None:
        self._guaranteed = guaranteed
        self._path: tuple[str, ...] = ()

    def _is_guaranteed(self, path: tuple[str, ...]) -> bool:
        return ".".join(path) in self._guaranteed

    @override
    def normalize_schema(
        self, schema: JSONSchema, *, key_properties: Sequence[str] = ()
    ) -> JSONSchema:
        if "properties" in schema and "type" not in schema:
            schema = {**schema, "type": "object"}  # `Roles` is the spec's one untyped object
        result = super().normalize_schema(schema, key_properties=key_properties)
        for key in [key for key in result if key.startswith("x-")]:
            del result[key]  # OpenAPI extensions (`x-validation`) mean nothing to a loader
        spec_format = result.pop("format", None)
        if spec_format in _TIMESTAMP_FORMATS and self._is_guaranteed(self._path):
            result["format"] = "date-time"
        return result

    @override
    def handle_object(
        self, schema: JSONSchema, *, key_properties: Sequence[str] = ()
    ) -> JSONSchema:
        parent = self._path
        # The record itself is not nullable; a nested object's flag was set by its parent.
        schema.setdefault("nullable", not key_properties)
        for name, child in schema.get("properties", {}).items():
            self._path = (*parent, name)
            spec_nullable = bool(child.get("nullable"))
            guaranteed = name in key_properties or self._is_guaranteed(self._path)
            child["nullable"] = spec_nullable or not guaranteed
            schema["properties"][name] = self.normalize_schema(child)
        self._path = parent
        if parent == _CONTACT_PATH:
            schema["properties"].update(copy.deepcopy(_CONTACT_V2_FIELDS))
        schema["additionalProperties"] = True
        return schema

    @override
    def handle_array_items(self, schema: JSONSchema) -> JSONSchema:
        parent = self._path
        self._path = (*parent, ITEMS)
        schema.setdefault("nullable", False)  # a list holds values, not nulls
        try:
            return super().handle_array_items(schema)
        finally:
            self._path = parent


class _VendoredSpec(OpenAPISchema[str]):
    """The vendored spec, parsed with libyaml where PyYAML has it (ten times faster: the schemas
    are built at every start of the tap)."""

    @cached_property
    @override
    def spec(self) -> dict[str, t.Any]:
        text = resources.files("tap_clever").joinpath(_SPEC_RESOURCE).read_bytes()
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        loaded: dict[str, t.Any] = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
        return loaded


@cache
def _spec() -> OpenAPISchema[str]:
    return _VendoredSpec(resources.files("tap_clever").joinpath(_SPEC_RESOURCE))


def record_schema(spec_name: str) -> JSONSchema:
    """JSON Schema of one Clever record type (`User`, `Section`, ...) as the tap emits it."""
    resolved = copy.deepcopy(_spec().resolve_schema(spec_name))
    normalizer = CleverRecordNormalizer(GUARANTEED_FIELDS[spec_name])
    schema = normalizer.normalize_schema(resolved, key_properties=["id"])
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
                "feed, or a district without events): events after it are the changes to "
                "apply on top of the snapshot.",
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
