"""Stream schemas follow Clever's v3.1 spec, with the tap's documented additions."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from tap_clever.schema import event_schema, record_schema
from tap_clever.tap import TapClever

SPEC = yaml.safe_load(
    resources.files("tap_clever").joinpath("schemas/clever-v3.1-records.yaml").read_text()
)["components"]["schemas"]
STREAM_SPECS = {
    "districts": "District",
    "schools": "School",
    "users": "User",
    "sections": "Section",
    "terms": "Term",
    "courses": "Course",
    "resources": "Resource",
}


@pytest.fixture(scope="module")
def catalog_schemas() -> dict[str, dict]:
    tap = TapClever(config={})
    return {name: stream.schema for name, stream in tap.streams.items()}


@pytest.mark.parametrize(("stream", "spec_name"), STREAM_SPECS.items())
def test_every_spec_field_is_in_the_stream_schema(
    catalog_schemas: dict[str, dict], stream: str, spec_name: str
) -> None:
    properties = catalog_schemas[stream]["properties"]
    assert set(SPEC[spec_name]["properties"]) | {"district", "_clever_snapshot_id"} == set(
        properties
    )
    assert catalog_schemas[stream]["additionalProperties"] is True


def test_fields_clever_guarantees_keep_the_spec_type_and_every_other_field_is_nullable() -> None:
    users = record_schema("User")["properties"]
    assert users["id"]["type"] == "string"
    assert users["created"]["type"] == "string"
    assert users["name"]["type"] == "object"
    assert users["email"]["type"] == ["string", "null"]
    # Guaranteed for users, but a contact's full name may be in `name.last` alone.
    assert users["name"]["properties"]["first"]["type"] == ["string", "null"]
    assert users["roles"]["type"] == ["object", "null"]
    student = users["roles"]["properties"]["student"]
    assert student["type"] == ["object", "null"]
    assert student["properties"]["sis_id"]["type"] == "string"
    assert student["properties"]["schools"]["type"] == "array"
    assert student["properties"]["ell_status"]["type"] == ["string", "null"]
    assert student["properties"]["location"]["type"] == ["object", "null"]
    assert student["properties"]["credentials"]["properties"]["district_username"]["type"] == [
        "string",
        "null",
    ]
    enrollment = student["properties"]["enrollments"]["items"]
    assert enrollment["type"] == "object"
    assert enrollment["properties"]["school"]["type"] == "string"
    # An open enrollment has no end yet, and Clever derives the start from section data.
    assert enrollment["properties"]["end_date"]["type"] == ["string", "null"]
    assert enrollment["properties"]["start_date"]["type"] == ["string", "null"]
    teacher = users["roles"]["properties"]["teacher"]["properties"]
    assert teacher["sis_id"]["type"] == ["string", "null"]
    assert teacher["school"]["type"] == ["string", "null"]
    sections = record_schema("Section")["properties"]
    for guaranteed in ("school", "name", "sis_id", "students", "teachers"):
        assert "null" not in sections[guaranteed]["type"], guaranteed
    for optional in ("term_id", "course", "grade", "period", "lms_status"):
        assert "null" in sections[optional]["type"], optional


# The fields Clever's data-model pages guarantee, per record type (written out here, not taken
# from tap_clever.schema, so the two can disagree).
DOCUMENTED_GUARANTEES = {
    "District": {"id"},
    "School": {"id", "name", "created", "last_modified", "sis_id", "school_number"},
    "User": {"id", "name", "created", "last_modified"},
    "Section": {"id", "school", "created", "last_modified", "name", "sis_id", "subject"}
    | {"students", "teacher", "teachers"},
    "Term": {"id"},
    "Course": {"id"},
    "Resource": {"id"},
}


@pytest.mark.parametrize("spec_name", STREAM_SPECS.values())
def test_a_top_level_field_is_non_null_only_if_clever_guarantees_it(spec_name: str) -> None:
    properties = record_schema(spec_name)["properties"]
    non_null = {
        name
        for name, prop in properties.items()
        if "null" not in prop["type"] and name != "district"
    }
    # Some guaranteed fields are nullable in the spec itself (`name.last`); none is stricter.
    assert non_null <= DOCUMENTED_GUARANTEES[spec_name]


def test_nested_objects_are_nullable_all_the_way_down() -> None:
    def walk(node: dict, path: str) -> list[str]:
        strict = []
        for name, prop in (node.get("properties") or {}).items():
            child = f"{path}.{name}"
            if "null" not in prop.get("type", []):
                strict.append(child)
            strict += walk(prop, child)
        if "items" in node:
            strict += walk(node["items"], f"{path}[]")
        return strict

    roles = record_schema("User")["properties"]["roles"]
    assert sorted(walk(roles, "roles")) == [
        "roles.student.enrollments",
        "roles.student.enrollments[].school",
        "roles.student.school",
        "roles.student.schools",
        "roles.student.sis_id",
    ]


def test_user_roles_cover_every_role_with_nested_objects() -> None:
    roles = record_schema("User")["properties"]["roles"]["properties"]
    assert set(roles) == {"student", "teacher", "staff", "district_admin", "contact"}
    student = roles["student"]["properties"]
    assert student["enrollments"]["items"]["properties"].keys() == {
        "school",
        "start_date",
        "end_date",
    }
    assert "disability_status" in student["disability"]["properties"]
    assert student["ext"] == {"additionalProperties": True, "type": ["object", "null"]}
    relationship = roles["contact"]["properties"]["student_relationships"]["items"]
    assert set(relationship["properties"]) == {"student", "relationship", "type"}


def test_v2_contact_fields_are_declared() -> None:
    contact = record_schema("User")["properties"]["roles"]["properties"]["contact"]["properties"]
    assert contact["students"]["type"] == ["array", "null"]
    assert contact["relationship"]["type"] == ["string", "null"]


def test_only_timestamps_clever_guarantees_are_date_times() -> None:
    term = record_schema("Term")["properties"]
    assert "format" not in term["start_date"]
    assert "format" not in term["end_date"]
    enrollment = record_schema("User")["properties"]["roles"]["properties"]["student"][
        "properties"
    ]["enrollments"]["items"]["properties"]
    assert "format" not in enrollment["start_date"]
    student = record_schema("User")["properties"]["roles"]["properties"]["student"]["properties"]
    assert "format" not in student["dob"]
    assert "pattern" not in student["dob"]
    # A non-guaranteed timestamp may be "" (as the source system had it): no loader may type it.
    assert "format" not in student["created"]
    assert "format" not in record_schema("District")["properties"]["last_sync"]
    assert "format" not in record_schema("Resource")["properties"]["updated"]
    assert "format" not in record_schema("District")["properties"]["launch_date"]
    for spec_name in ("User", "School", "Section"):
        properties = record_schema(spec_name)["properties"]
        assert properties["created"]["format"] == "date-time"
        assert properties["last_modified"]["format"] == "date-time"


def test_enums_are_not_enforced() -> None:
    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert "enum" not in node
            assert "x-validation" not in node
            for value in node.values():
                walk(value)

    for spec_name in STREAM_SPECS.values():
        walk(record_schema(spec_name))


def test_event_schema() -> None:
    schema = event_schema()
    assert set(schema["properties"]) == {"id", "type", "created", "data", "district"}
    assert set(schema["properties"]["data"]["properties"]) == {"object", "previous_attributes"}


def test_streams_keys_and_replication(catalog_schemas: dict[str, dict]) -> None:
    tap = TapClever(config={})
    for name, stream in tap.streams.items():
        expected_keys = ["district", "snapshot_id"] if name == "snapshots" else ["id"]
        assert list(stream.primary_keys) == expected_keys
        assert stream.replication_key == ("id" if name == "events" else None)
    assert set(tap.streams) == set(STREAM_SPECS) | {"events", "snapshots"}


def test_streams_sync_in_dependency_order() -> None:
    # Snapshots first, then the events after their cursor, then the completion records.
    assert list(TapClever(config={}).streams) == [
        "districts",
        "schools",
        "terms",
        "courses",
        "sections",
        "users",
        "resources",
        "events",
        "snapshots",
    ]
