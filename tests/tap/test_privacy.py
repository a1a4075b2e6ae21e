"""Student privacy (`pii_mode`): every personal field of every record and event, in each mode.

Unit tests of tap_clever/privacy.py on records holding every listed field, then syncs against
the fake (a catalog deselection inside events, the BATCH path) and against a small sandbox
(every record fits its schema, and no personal value of the sandbox leaves the tap).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import subprocess
import sys
import typing as t
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from jsonschema import Draft7Validator
from singer_sdk.exceptions import ConfigValidationError

from clever_sandbox import SandboxConfig, SandboxServer
from tap_clever import privacy
from tap_clever.errors import PiiConfigError
from tap_clever.privacy import PrivacyPolicy
from tap_clever.schema import ITEMS
from tap_clever.tap import TapClever
from tests.privacy_scan import leaks, personal_values, sandbox_records, strings_in
from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, SyncResult, object_id, run_sync

SALT = "s3cret-salt-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[2]


def hashed(value: str, salt: str = SALT) -> str:
    """What hash mode must write: HMAC-SHA256 of the value under the salt, as hex."""
    return hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()


def student_user(district: str = DISTRICT_A, oid: str = "u1") -> dict[str, t.Any]:
    return {
        "id": oid,
        "district": district,
        "email": "ana.ng@example.org",
        "name": {"first": "Ana", "middle": "", "last": "Ng"},
        "created": "2024-07-01T00:00:00.000Z",
        "roles": {
            "student": {
                "dob": "8/5/2011",
                "grade": "7",
                "sis_id": "S123",
                "state_id": "ST123",
                "student_number": "123",
                "legacy_id": "legacy-1",
                "school": "sch1",
                "preferred_name": {"first": "Annie", "middle": None, "last": "Ngo"},
                "credentials": {"district_username": "ana.ng1"},
                "location": {
                    "address": "12 Oak St",
                    "city": "Springfield",
                    "state": "IL",
                    "zip": "62701",
                    "lat": "39.78",
                    "lon": -89.65,  # not the spec's string: hashed as its JSON text
                },
                "enrollments": [{"school": "sch1", "start_date": "2024-08-25"}],
            }
        },
    }


def staff_user() -> dict[str, t.Any]:
    return {
        "id": "u2",
        "email": "bo.li@example.com",
        "name": {"first": "Bo", "last": "Li"},
        "roles": {
            "teacher": {
                "name": {"first": "Bo", "last": "Li"},
                "credentials": {"district_username": "bo.li"},
                "sis_id": "T9",
                "state_id": "STT9",
                "teacher_number": "0009",
                "title": "Teacher",
            },
            "staff": {"credentials": {"district_username": "bo_li"}, "staff_id": "E9"},
            "district_admin": {"title": "Principal", "legacy_id": "legacy-2"},
        },
    }


def contact_user() -> dict[str, t.Any]:
    return {
        "id": "u3",
        "email": None,
        "name": {"last": "Cara Diaz"},
        "roles": {
            "contact": {
                "phone": "(555) 010-1234",
                "phone_type": "Cell",
                "sis_id": "P7",
                "student_relationships": [{"student": "u1", "relationship": "Parent"}],
            }
        },
    }


def school() -> dict[str, t.Any]:
    return {
        "id": "sch1",
        "name": "Lincoln Middle",
        "phone": "(555) 100-1000",
        "sis_id": "SCH1",
        "principal": {"name": "Dee Eze", "email": "dee.eze@example.org"},
        "location": {"address": "1 School Rd", "lat": "40.1", "lon": "-100.2"},
    }


def district() -> dict[str, t.Any]:
    return {
        "id": DISTRICT_A,
        "name": "Ashfield Unified",
        "district_contact": {
            "id": "c1",
            "name": {"first": "Dana", "last": "Placeholder-Åberg"},
            "email": "dana@example.org",
            "phone": "(555) 999-0000",
            "title": "Data Coordinator",
        },
    }


# Every listed field of the records above, as (record type, path, value as sent).
PERSONAL = [
    ("users", ("email",), "ana.ng@example.org"),
    ("users", ("name", "first"), "Ana"),
    ("users", ("name", "last"), "Ng"),
    ("users", ("roles", "student", "dob"), "8/5/2011"),
    ("users", ("roles", "student", "preferred_name", "first"), "Annie"),
    ("users", ("roles", "student", "preferred_name", "last"), "Ngo"),
    ("users", ("roles", "student", "credentials", "district_username"), "ana.ng1"),
    ("users", ("roles", "student", "location", "address"), "12 Oak St"),
    ("users", ("roles", "student", "location", "lat"), "39.78"),
    ("users", ("roles", "student", "location", "lon"), -89.65),
]
IDENTIFIERS = [
    ("users", ("roles", "student", "sis_id"), "S123"),
    ("users", ("roles", "student", "state_id"), "ST123"),
    ("users", ("roles", "student", "student_number"), "123"),
]
# Left as sent in every mode: not personal, or a Clever id.
KEPT = [
    ("users", ("id",), "u1"),
    ("users", ("roles", "student", "grade"), "7"),
    ("users", ("roles", "student", "legacy_id"), "legacy-1"),
    ("users", ("roles", "student", "location", "city"), "Springfield"),
    ("users", ("roles", "student", "location", "zip"), "62701"),
    (
        "users",
        ("roles", "student", "enrollments"),
        [{"school": "sch1", "start_date": "2024-08-25"}],
    ),
]
# "" and null hold nothing: hash mode leaves them (drop mode nulls them like any value).
EMPTY = [
    ("users", ("name", "middle"), ""),
    ("users", ("roles", "student", "preferred_name", "middle"), None),
]
STAFF_PERSONAL = [
    (("email",), "bo.li@example.com"),
    (("name", "first"), "Bo"),
    (("name", "last"), "Li"),
    (("roles", "teacher", "name", "first"), "Bo"),
    (("roles", "teacher", "name", "last"), "Li"),
    (("roles", "teacher", "credentials", "district_username"), "bo.li"),
    (("roles", "staff", "credentials", "district_username"), "bo_li"),
]
STAFF_IDENTIFIERS = [
    (("roles", "teacher", "sis_id"), "T9"),
    (("roles", "teacher", "state_id"), "STT9"),
    (("roles", "teacher", "teacher_number"), "0009"),
    (("roles", "staff", "staff_id"), "E9"),
]


def at(record: t.Any, path: tuple[str, ...]) -> t.Any:
    for key in path:
        record = record[key]
    return record


def as_hashed(value: t.Any) -> str:
    return hashed(value if isinstance(value, str) else json.dumps(value))


def protect(mode: str, record_type: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
    policy = PrivacyPolicy(mode, SALT if mode == "hash" else None)
    return policy.protect(record_type, copy.deepcopy(record))


@pytest.mark.parametrize(
    "make", [student_user, staff_user, contact_user, school, district], ids=lambda f: f.__name__
)
def test_keep_leaves_every_record_as_sent(make: t.Callable[[], dict[str, t.Any]]) -> None:
    record = make()
    for record_type in ("users", "schools", "districts"):
        assert protect("keep", record_type, record) == record


def test_hash_replaces_every_personal_field_and_identifier_of_a_student() -> None:
    record = protect("hash", "users", student_user())

    for _, path, value in PERSONAL + IDENTIFIERS:
        assert at(record, path) == as_hashed(value), path
    for _, path, value in KEPT + EMPTY:
        assert at(record, path) == value, path


def test_drop_nulls_every_personal_field_of_a_student_and_keeps_its_identifiers() -> None:
    record = protect("drop", "users", student_user())

    for _, path, _value in PERSONAL + EMPTY:
        assert at(record, path) is None, path
    for _, path, value in IDENTIFIERS + KEPT:
        assert at(record, path) == value, path
    # The name stays an object (the schema requires one), every part of it null.
    assert record["name"] == {"first": None, "middle": None, "last": None}


def test_teacher_staff_and_admin_fields() -> None:
    as_hash = protect("hash", "users", staff_user())
    as_drop = protect("drop", "users", staff_user())

    for path, value in STAFF_PERSONAL:
        assert at(as_hash, path) == hashed(value), path
        assert at(as_drop, path) is None, path
    for path, value in STAFF_IDENTIFIERS:
        assert at(as_hash, path) == hashed(value), path
        assert at(as_drop, path) == value, path
    for record in (as_hash, as_drop):
        assert record["roles"]["teacher"]["title"] == "Teacher"
        assert record["roles"]["district_admin"] == {"title": "Principal", "legacy_id": "legacy-2"}


def test_contact_phone_and_name() -> None:
    as_hash = protect("hash", "users", contact_user())
    as_drop = protect("drop", "users", contact_user())

    assert as_hash["name"] == {"last": hashed("Cara Diaz")}
    assert as_hash["roles"]["contact"]["phone"] == hashed("(555) 010-1234")
    assert as_hash["roles"]["contact"]["sis_id"] == hashed("P7")
    assert as_drop["name"] == {"last": None}
    assert as_drop["roles"]["contact"]["phone"] is None
    assert as_drop["roles"]["contact"]["sis_id"] == "P7"
    for record in (as_hash, as_drop):
        assert record["email"] is None
        assert record["roles"]["contact"]["phone_type"] == "Cell"
        assert record["roles"]["contact"]["student_relationships"] == [
            {"student": "u1", "relationship": "Parent"}
        ]


def test_school_principal_and_district_contact() -> None:
    as_hash = protect("hash", "schools", school())
    as_drop = protect("drop", "schools", school())
    assert as_hash["principal"] == {
        "name": hashed("Dee Eze"),
        "email": hashed("dee.eze@example.org"),
    }
    assert as_drop["principal"] == {"name": None, "email": None}
    # A school's own phone, address and ids are the institution's, not a person's.
    for record in (as_hash, as_drop):
        assert {k: v for k, v in record.items() if k != "principal"} == {
            k: v for k, v in school().items() if k != "principal"
        }

    contact = protect("hash", "districts", district())["district_contact"]
    assert contact == {
        "id": "c1",
        "name": {"first": hashed("Dana"), "last": hashed("Placeholder-Åberg")},
        "email": hashed("dana@example.org"),
        "phone": hashed("(555) 999-0000"),
        "title": "Data Coordinator",
    }
    contact = protect("drop", "districts", district())["district_contact"]
    assert contact == {
        "id": "c1",
        "name": {"first": None, "last": None},
        "email": None,
        "phone": None,
        "title": "Data Coordinator",
    }


def test_other_record_types_pass_unchanged() -> None:
    section = {"id": "sec1", "name": "Algebra", "sis_id": "SEC1", "students": ["u1"]}
    for mode in ("hash", "drop"):
        assert protect(mode, "sections", section) == section


def test_a_value_has_one_hash_across_districts_runs_and_fields() -> None:
    first = PrivacyPolicy("hash", SALT).protect("users", student_user("d1", "u1"))
    again = PrivacyPolicy("hash", SALT).protect("users", student_user("d2", "u9"))
    other_salt = PrivacyPolicy("hash", SALT + "!").protect("users", student_user("d1", "u1"))

    assert first["email"] == again["email"] == hashed("ana.ng@example.org")
    assert first["roles"]["student"]["sis_id"] == again["roles"]["student"]["sis_id"]
    assert other_salt["email"] != first["email"]
    # The same text in another field hashes the same: a contact's email matches a user's.
    policy = PrivacyPolicy("hash", SALT)
    assert policy.hash_value("Ng") == first["name"]["last"]
    assert len(first["email"]) == 64
    assert int(first["email"], 16) >= 0


def users_event(mode: str) -> dict[str, t.Any]:
    event = {
        "id": "e1",
        "type": "users.updated",
        "data": {
            "object": student_user(),
            "previous_attributes": {
                "email": "old.ana@example.org",
                "name": {"first": "Anna", "last": "Ng"},
                "roles": {"student": {"dob": "8/6/2011", "sis_id": "S122", "grade": "6"}},
            },
        },
    }
    return PrivacyPolicy(mode, SALT if mode == "hash" else None).protect_event(event)


def test_events_object_and_previous_attributes_in_hash_mode() -> None:
    data = users_event("hash")["data"]

    for _, path, value in PERSONAL + IDENTIFIERS:
        assert at(data["object"], path) == as_hashed(value), path
    previous = data["previous_attributes"]
    assert previous == {
        "email": hashed("old.ana@example.org"),
        "name": {"first": hashed("Anna"), "last": hashed("Ng")},
        "roles": {"student": {"dob": hashed("8/6/2011"), "sis_id": hashed("S122"), "grade": "6"}},
    }


def test_events_object_and_previous_attributes_in_drop_mode() -> None:
    data = users_event("drop")["data"]

    for _, path, _value in PERSONAL:
        assert at(data["object"], path) is None, path
    assert data["previous_attributes"] == {
        "email": None,
        "name": {"first": None, "last": None},
        "roles": {"student": {"dob": None, "sis_id": "S122", "grade": "6"}},
    }


def test_events_of_schools_and_districts_follow_their_record_type() -> None:
    policy = PrivacyPolicy("drop")
    school_event = policy.protect_event({"type": "schools.created", "data": {"object": school()}})
    district_event = policy.protect_event(
        {"type": "districts.updated", "data": {"object": district(), "previous_attributes": {}}}
    )
    assert school_event["data"]["object"]["principal"] == {"name": None, "email": None}
    assert district_event["data"]["object"]["district_contact"]["email"] is None
    # An event without data (or of a record type the tap does not know) passes as it is.
    assert policy.protect_event({"type": "users.deleted"}) == {"type": "users.deleted"}


# -- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"pii_mode": "hash"}, "pii_mode is hash but pii_salt is not set"),
        ({"pii_mode": "hash", "pii_salt": ""}, "pii_mode is hash but pii_salt is not set"),
        ({"pii_mode": "hash", "pii_salt": "short-salt"}, "pii_salt is shorter than 16"),
        ({"pii_salt": SALT}, "pii_salt is set but pii_mode is keep"),
        ({"pii_mode": "drop", "pii_salt": SALT}, "pii_salt is set but pii_mode is drop"),
    ],
)
def test_settings_that_do_not_fit_fail_before_any_request(
    clever: FakeClever, settings: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TapClever(config={"api_url": clever.url, "auth_token": TOKEN_A, **settings})

    (line,) = caught.value.errors or []  # the line the command line prints
    assert expected in line
    assert SALT not in str(caught.value)
    assert "short-salt" not in str(caught.value)
    assert clever.server.log == []


def test_an_unknown_mode_is_refused(clever: FakeClever) -> None:
    # The SDK's validation of the settings' schema names it first...
    with pytest.raises(ConfigValidationError) as caught:
        TapClever(config={"api_url": clever.url, "auth_token": TOKEN_A, "pii_mode": "mask"})
    (line,) = caught.value.errors or []
    assert "'mask' is not one of ['keep', 'hash', 'drop']" in line
    # ... and the tap's own check when that validation is off (`--discover` skips it).
    with pytest.raises(ConfigValidationError) as caught:
        TapClever(config={"pii_mode": "mask"}, validate_config=False)
    assert caught.value.errors == ["pii_mode is 'mask'; it must be one of keep, hash or drop."]
    with pytest.raises(PiiConfigError):
        PrivacyPolicy.from_config({"pii_mode": "mask"})
    assert clever.server.log == []


def test_the_command_line_prints_one_error_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auth_token": TOKEN_A, "pii_mode": "hash"}))
    tap = str(Path(sys.executable).parent / "tap-clever")

    result = subprocess.run(
        [tap, "--config", str(config)], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "pii_" in line]
    assert len(errors) == 1, result.stderr
    assert "pii_mode is hash but pii_salt is not set" in errors[0]


def test_settings_are_declared_for_the_tap_and_meltano() -> None:
    properties = TapClever.config_jsonschema["properties"]
    assert properties["pii_mode"]["enum"] == list(privacy.PII_MODES)
    assert properties["pii_mode"]["default"] == "keep"
    assert properties["pii_salt"]["secret"] is True

    meltano = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    (tap,) = [p for p in meltano["plugins"]["extractors"] if p["name"] == "tap-clever"]
    settings = {s["name"]: s for s in tap["settings"]}
    assert [o["value"] for o in settings["pii_mode"]["options"]] == list(privacy.PII_MODES)
    assert settings["pii_salt"]["sensitive"] is True


# -- schemas ---------------------------------------------------------------------------------


def _leaves(schema: dict[str, t.Any]) -> Iterator[dict[str, t.Any]]:
    if "properties" in schema:
        for child in schema["properties"].values():
            yield from _leaves(child)
    else:
        yield schema


def _types(schema: dict[str, t.Any]) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def test_the_schemas_stay_true_in_every_mode() -> None:
    """A hash is a string and a dropped value null: every listed field's schema must allow
    both (it does: all are strings in Clever's spec, and nullable), else a validating loader
    rejects the records of that mode."""
    streams = TapClever(config={}).streams
    fields = [
        (record_type, path, personal)
        for listing, personal in (
            (privacy.PERSONAL_FIELDS, True),
            (privacy.MATCHING_IDENTIFIERS, False),
        )
        for record_type, paths in listing.items()
        for path in paths
    ]
    assert len(fields) > 20
    for record_type, path, personal in fields:
        schema = streams[record_type].schema
        for key in path:
            assert ITEMS not in path
            schema = schema.get("properties", {}).get(key, {})  # absent: an open object's field
        for leaf in _leaves(schema):
            allowed = _types(leaf)
            assert not allowed or "string" in allowed, (record_type, path)
            assert not personal or not allowed or "null" in allowed, (record_type, path)


# -- syncs -----------------------------------------------------------------------------------

DOB = ("properties", "roles", "properties", "student", "properties", "dob")


@pytest.fixture
def roster(clever: FakeClever) -> FakeClever:
    users = [student_user(DISTRICT_A, object_id(n)) for n in range(1, 5)]
    clever.set_records(TOKEN_A, "districts", [district()])
    clever.set_records(TOKEN_A, "users", users)
    clever.set_records(TOKEN_A, "schools", [{**school(), "id": object_id(90)}])
    for collection in ("terms", "courses", "sections", "resources"):
        clever.set_records(TOKEN_A, collection, [])
    updated = {
        "id": object_id(1, "61"),
        "type": "users.updated",
        "created": "2026-11-01T00:00:00.000Z",
        "data": {
            "object": users[0],
            "previous_attributes": {"roles": {"student": {"dob": "8/6/2011", "grade": "6"}}},
        },
    }
    school_event = {
        "id": object_id(2, "61"),
        "type": "schools.updated",
        "created": "2026-11-01T00:00:01.000Z",
        "data": {"object": {**school(), "id": object_id(90)}},
    }
    clever.set_records(TOKEN_A, "events", [updated, school_event])
    return clever


def _catalog_without(stream: str, breadcrumb: tuple[str, ...]) -> dict[str, t.Any]:
    catalog = TapClever(config={}).catalog_dict
    found = False
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if entry["stream"] == stream and tuple(item["breadcrumb"]) == breadcrumb:
                item["metadata"]["selected"] = False
                found = True
    assert found
    return catalog


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_a_deselected_nested_property_leaves_events_too(roster: FakeClever, mode: str) -> None:
    config = {"api_url": roster.url, "auth_token": TOKEN_A, "pii_mode": mode}
    if mode == "hash":
        config["pii_salt"] = SALT

    result = run_sync(config, catalog=_catalog_without("users", DOB))

    assert result.error is None, result.stderr[-2000:]
    users = result.records("users")
    assert users
    assert all("dob" not in u["roles"]["student"] for u in users)
    (event, school_event) = result.records("events")
    student = event["data"]["object"]["roles"]["student"]
    assert "dob" not in student
    assert "grade" in student
    assert event["data"]["previous_attributes"] == {"roles": {"student": {"grade": "6"}}}
    # Other record types' events keep what their stream selects.
    assert "principal" in school_event["data"]["object"]
    assert "8/5/2011" not in result.output
    assert "8/6/2011" not in result.output


def test_hash_mode_reaches_records_events_and_batch_files(
    roster: FakeClever, tmp_path: Path
) -> None:
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": tmp_path.as_uri(), "prefix": "run-"},
        "batch_size": 100,
    }
    config = {
        "api_url": roster.url,
        "auth_token": TOKEN_A,
        "pii_mode": "hash",
        "pii_salt": SALT,
        "batch_config": batch_config,
    }

    result = run_sync(config)

    assert result.error is None, result.stderr[-2000:]
    files = [
        json.loads(line)
        for message in result.messages
        if message["type"] == "BATCH"
        for url in message["manifest"]
        for line in Path(urlparse(url).path).read_text().splitlines()
    ]
    users = [r for r in files if "roles" in r]
    assert len(users) == 4  # users went out as files: pii_mode keeps the BATCH path
    assert {u["email"] for u in users} == {hashed("ana.ng@example.org")}
    assert {u["roles"]["student"]["dob"] for u in users} == {hashed("8/5/2011")}
    (event, _) = result.records("events")
    assert event["data"]["object"]["email"] == hashed("ana.ng@example.org")
    assert event["data"]["previous_attributes"]["roles"]["student"]["dob"] == hashed("8/6/2011")
    written = result.output + "".join(json.dumps(r) for r in files)
    for value in ("ana.ng@example.org", "8/5/2011", "8/6/2011", "Placeholder-Åberg", "Dee Eze"):
        assert value not in written


# -- against the sandbox ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(districts=2, users_per_district=150, seed=31, initial_events=0)
    with SandboxServer(config) as server:
        yield server


def _violations(result: SyncResult) -> list[str]:
    validators: dict[str, Draft7Validator] = {}
    found = []
    for message in result.messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = Draft7Validator(message["schema"])
        elif message["type"] == "RECORD":
            for error in validators[message["stream"]].iter_errors(message["record"]):
                found.append(f"{message['stream']} {list(error.absolute_path)}: {error.message}")
    return found[:10]


def sync_leaks(result: SyncResult, values: set[str]) -> list[str]:
    """The values found in a sync's messages, or in its logs."""
    texts = {text for message in result.messages for text in strings_in(message)}
    return leaks(texts, result.output, values)


@pytest.mark.parametrize(("mode", "seed"), [("hash", 11), ("drop", 12)])
def test_no_personal_value_of_the_sandbox_leaves_the_tap(
    sandbox: SandboxServer, mode: str, seed: int
) -> None:
    config = {
        "api_url": sandbox.base_url,
        "oauth_url": sandbox.base_url,
        "district_tokens": sandbox.district_tokens,
        "pii_mode": mode,
        **({"pii_salt": SALT} if mode == "hash" else {}),
    }
    before = sandbox_records(sandbox)
    full = run_sync(config)
    assert full.error is None, full.stderr[-2000:]
    sandbox.random_changes(n=40, seed=seed)
    incremental = run_sync(config, state=full.final_state)
    assert incremental.error is None, incremental.stderr[-2000:]
    assert incremental.records("events")
    # Identifiers are hashed in hash mode, so they must not show either; drop mode keeps them.
    values = personal_values(before + sandbox_records(sandbox), identifiers=mode == "hash")
    assert len(values) > 500

    for result in (full, incremental):
        assert _violations(result) == []
        found = sync_leaks(result, values)
        assert found == [], f"{len(found)} personal values left the tap, e.g. {found[:5]}"


def test_the_scan_finds_personal_values_in_keep_mode(sandbox: SandboxServer) -> None:
    """The control: the same scan on a sync that keeps personal data finds every kind."""
    config = {
        "api_url": sandbox.base_url,
        "oauth_url": sandbox.base_url,
        "district_tokens": sandbox.district_tokens,
    }
    result = run_sync(config)
    assert result.error is None, result.stderr[-2000:]

    values = personal_values(sandbox_records(sandbox), identifiers=True)
    found = set(sync_leaks(result, values))
    users = sandbox.records("users")
    students = [u for u in users if "student" in u["roles"]]
    contacts = [u for u in users if "contact" in u["roles"]]
    for kind, sample in [
        ("email", {u.get("email") for u in users} & values),
        ("last name", {u["name"].get("last") for u in users} & values),
        ("dob", {u["roles"]["student"].get("dob") for u in students} & values),
        ("phone", {u["roles"]["contact"].get("phone") for u in contacts} & values),
        ("sis_id", {u["roles"]["student"].get("sis_id") for u in students} & values),
    ]:
        assert sample, kind
        assert sample <= found, kind
