"""Stream schemas follow Clever's v3.1 spec, with the tap's documented additions."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from tap_clever.schema import event_schema, record_schema
from tap_clever.tap import TapClever

SPEC = yaml.safe_load(
    resources.files("tap_clever").joinpath("schemas/clever-v3.1-records.yaml").read_text()
)
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


def test_nullability_follows_the_spec() -> None:
    users = record_schema("User")["properties"]
    assert users["email"]["type"] == ["string", "null"]
    assert users["id"]["type"] == "string"
    student = users["roles"]["properties"]["student"]["properties"]
    assert student["ell_status"]["type"] == ["string", "null"]
    assert student["sis_id"]["type"] == "string"


def test_user_roles_cover_every_role_with_nested_objects() -> None:
    roles = record_schema("User")["properties"]["roles"]["properties"]
    assert set(roles) == {"student", "teacher", "staff", "district_admin", "contact"}
    student = roles["student"]["properties"]
    assert student["enrollments"]["items"]["properties"].keys() == {
        "school",
        "start_date",
        "end_date",
    }
    assert student["credentials"]["properties"]["district_username"]["type"] == "string"
    assert "disability_status" in student["disability"]["properties"]
    assert student["ext"] == {"properties": {}, "additionalProperties": True, "type": "object"}
    relationship = roles["contact"]["properties"]["student_relationships"]["items"]
    assert set(relationship["properties"]) == {"student", "relationship", "type"}


def test_v2_contact_fields_are_declared() -> None:
    contact = record_schema("User")["properties"]["roles"]["properties"]["contact"]["properties"]
    assert contact["students"]["type"] == ["array", "null"]
    assert contact["relationship"]["type"] == ["string", "null"]


def test_unnormalized_dates_are_plain_strings_and_clever_timestamps_are_date_times() -> None:
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
    assert student["created"]["format"] == "date-time"
    assert record_schema("User")["properties"]["last_modified"]["format"] == "date-time"
    assert "format" not in record_schema("District")["properties"]["launch_date"]


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
