"""Source-system messiness and hostile strings: present where Clever's docs say they can be.

A district of modest size (2 x 2000 users) must contain every case a warehouse has to absorb;
the pass itself must hit its documented rates; nothing messy may break the sandbox's own
consistency (rosters, contacts, cascades, events).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from clever_sandbox import ChangeError, Sandbox, SandboxConfig, SandboxServer, jsonutil
from clever_sandbox import schema as s
from clever_sandbox.generate import LONE_SURROGATE_POSITION
from clever_sandbox.hostile_strings import HOSTILE_STRINGS, LONE_SURROGATE
from clever_sandbox.schema import RECORD_TYPES
from clever_sandbox.source_quirks import (
    HOSTILE_RATE,
    MISSING_RATE,
    Outcomes,
    apply_source_quirks,
    compile_plan,
)
from tests.sandbox.helpers import session_for
from tests.sandbox.schema_checks import check_record

HOSTILE = set(HOSTILE_STRINGS) | {LONE_SURROGATE}


@pytest.fixture(scope="module")
def messy() -> Sandbox:
    return Sandbox(SandboxConfig(districts=2, users_per_district=2000, seed=31))


@pytest.fixture(scope="module")
def users(messy: Sandbox) -> list[dict[str, Any]]:
    return messy.records("users")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _roles(users: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [u["roles"][name] for u in users if name in u["roles"]]


def _outcome(container: dict[str, Any], key: str) -> str:
    if key not in container:
        return "absent"
    value = container[key]
    if value is None:
        return "null"
    if value == "":
        return '""'
    if value == []:
        return "[]"
    return "value"


def assert_seen(counts: Counter[str], *outcomes: str) -> None:
    for outcome in outcomes:
        assert counts[outcome], (outcome, counts)


def test_every_record_keeps_the_guarantees(messy: Sandbox) -> None:
    for district in messy.district_ids:
        for record_type in RECORD_TYPES:
            for record in messy.records(record_type, district):
                check_record(record_type, record, district)


def test_enrollments_open_ended_and_undated(users) -> None:
    students = _roles(users, "student")
    enrollments = [e for st in students for e in st["enrollments"]]
    assert all(e["school"] for e in enrollments)
    end_dates = Counter(_outcome(e, "end_date") for e in enrollments)
    assert_seen(end_dates, "absent", "null", "value")
    start_dates = Counter(_outcome(e, "start_date") for e in enrollments)
    assert_seen(start_dates, "absent", "null")
    assert any(st["enrollments"] == [] for st in students)


def test_ext_location_and_credentials_as_the_source_has_them(users) -> None:
    roles = [role for u in users for role in u["roles"].values() if len(role) > 1]
    ext = Counter(_outcome(role, "ext") for role in roles)
    assert_seen(ext, "absent", "null")
    assert any(role.get("ext") == {} for role in roles)
    students = _roles(users, "student")
    location = Counter(_outcome(st, "location") for st in students)
    assert_seen(location, "absent", "null")
    partial = [
        loc
        for st in students
        if isinstance(loc := st.get("location"), dict)
        and any(loc.get(k) for k in s.LOCATION)
        and any(loc.get(k) is None for k in s.LOCATION)
    ]
    assert partial
    credentials = Counter(_outcome(role, "credentials") for role in roles)
    assert_seen(credentials, "absent", "null")
    usernames = Counter(
        _outcome(role["credentials"], "district_username")
        for role in roles
        if isinstance(role.get("credentials"), dict)
    )
    assert_seen(usernames, "null", '""', "absent")


def test_role_identifiers_may_be_missing(users) -> None:
    combined: Counter[str] = Counter()
    for role, key in (("teacher", "sis_id"), ("contact", "sis_id"), ("staff", "staff_id")):
        found = Counter(_outcome(r, key) for r in _roles(users, role) if len(r) > 1)
        missing = found["null"] + found['""'] + found["absent"]
        assert 0 < missing < found["value"] / 5, (role, found)
        combined += found
    assert_seen(combined, "null", '""', "absent")


def test_contacts_named_in_name_last_alone(users) -> None:
    contacts = [u for u in users if "contact" in u["roles"]]
    last_only = [u["name"] for u in contacts if "first" not in u["name"]]
    empty_first = [u["name"] for u in contacts if u["name"].get("first") == ""]
    assert last_only
    assert empty_first
    assert all(
        " " in name["last"] for name in last_only + empty_first if name["last"] not in HOSTILE
    )
    others = [u for u in users if "contact" not in u["roles"]]
    assert all(u["name"].get("first") is not None for u in others)


def test_multi_role_users_whose_extra_role_holds_only_a_legacy_id(users) -> None:
    bare = [
        u
        for u in users
        if len(u["roles"]) > 1 and any(set(r) == {"legacy_id"} for r in u["roles"].values())
    ]
    assert bare
    assert {frozenset(u["roles"]) for u in bare} >= {frozenset({"teacher", "district_admin"})}


def test_emails_are_not_validated(users) -> None:
    emails = Counter(_outcome(u, "email") for u in users)
    assert_seen(emails, "null", '""', "absent")
    assert any(u.get("email") and "@" not in u["email"] for u in users)


def test_every_replacement_of_every_kind_occurs(messy: Sandbox) -> None:
    """For each kind of optional field the generator fills: null, "" (strings), [] (arrays)
    and absence all turn up, in users and in the other record types alike."""
    seen: dict[str, set[str]] = defaultdict(set)

    def walk(value: dict[str, Any], shape: s.Shape, users_too: str) -> None:
        for key, field in shape.items():
            if field.may_be_missing:
                seen[f"{users_too}:{field.kind}"].add(_outcome(value, key))
            item = value.get(key)
            if field.fields is not None and isinstance(item, dict):
                walk(item, field.fields, users_too)
            elif field.fields is not None and isinstance(item, list):
                for element in item:
                    walk(element, field.fields, users_too)

    for record_type in RECORD_TYPES:
        group = "users" if record_type == "users" else "others"
        for record in messy.records(record_type):
            walk(record, s.RECORD_SHAPES[record_type], group)
    for group in ("users", "others"):
        assert {"value", "null", '""', "absent"} <= seen[f"{group}:string"], group
        assert {"value", "null", "absent"} <= seen[f"{group}:object"], group
    assert {"value", "null", "[]", "absent"} <= seen["users:array"] | seen["others:array"]


def test_the_pass_hits_its_documented_rates() -> None:
    shape: s.Shape = {
        "id": s.Field(s.STRING, s.GUARANTEED),
        "code": s.Field(s.STRING),
        "title": s.Field(s.STRING, text=True),
        "name": s.Field(s.STRING, s.GUARANTEED, text=True),
        "tags": s.Field(s.ARRAY),
        "flag": s.Field(s.BOOLEAN),
    }
    plan = compile_plan(shape)
    r = random.Random(5).random
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    draws = 40_000
    for n in range(draws):
        record = {"id": str(n), "code": "c", "title": "t", "name": "n", "tags": ["x"], "flag": True}
        apply_source_quirks(r, record, plan, ("HOSTILE",))
        for key in shape:
            value = record.get(key, "<absent>")
            outcomes[key]["hostile" if value == "HOSTILE" else _outcome(record, key)] += 1
    assert outcomes["id"] == {"value": draws}

    def share(key: str, outcome: str) -> float:
        return outcomes[key][outcome] / draws

    for outcome in ("null", '""', "absent"):
        assert share("code", outcome) == pytest.approx(MISSING_RATE / 3, abs=0.004)
        assert share("title", outcome) == pytest.approx(MISSING_RATE / 3, abs=0.004)
    for outcome in ("null", "[]", "absent"):
        assert share("tags", outcome) == pytest.approx(MISSING_RATE / 3, abs=0.004)
    for outcome in ("null", "absent"):
        assert share("flag", outcome) == pytest.approx(MISSING_RATE / 2, abs=0.004)
    assert share("title", "hostile") == pytest.approx(HOSTILE_RATE, abs=0.003)
    assert share("name", "hostile") == pytest.approx(HOSTILE_RATE, abs=0.003)
    assert outcomes["name"]["value"] + outcomes["name"]["hostile"] == draws


def test_replayed_outcomes_keep_the_rates_and_skip_what_a_record_lacks() -> None:
    item: s.Shape = {"school": s.Field(s.STRING, s.GUARANTEED), "end": s.Field(s.STRING)}
    shape: s.Shape = {
        "code": s.Field(s.STRING),
        "title": s.Field(s.STRING, text=True),
        "items": s.Field(s.ARRAY, s.GUARANTEED, fields=item),
        "extra": s.Field(s.STRING),
    }
    # a big pool, so its own sampling error stays well inside the tolerance
    outcomes = Outcomes(shape, skip=(), count=8192, seed="test")
    r = random.Random(9).random
    codes: Counter[str] = Counter()
    hostile = 0
    draws = 60_000
    for _ in range(draws):
        record: dict[str, Any] = {"code": "c", "title": "t", "items": [{"school": "s"}]}
        outcomes.apply(r, record, ("HOSTILE",))
        codes[_outcome(record, "code")] += 1
        hostile += record.get("title") == "HOSTILE"
        assert "extra" not in record  # never added
        assert record["items"][0]["school"] == "s"
        assert "end" not in record["items"][0]
    for outcome in ("null", '""', "absent"):
        assert codes[outcome] / draws == pytest.approx(MISSING_RATE / 3, abs=0.006)
    assert hostile / draws == pytest.approx(HOSTILE_RATE, abs=0.004)


def test_every_hostile_string_turns_up(messy: Sandbox) -> None:
    found: Counter[str] = Counter()
    for record_type in RECORD_TYPES:
        for record in messy.records(record_type):
            found.update(v for v in _strings(record) if v in HOSTILE)
    missing = [h[:20] for h in HOSTILE_STRINGS if not found[h]]
    assert not missing
    assert max(len(h) for h in found) >= 10_000
    assert any("\u200d" in h for h in found)  # a ZWJ sequence
    assert any("\u0301" in h for h in found)  # a decomposed accent


def test_hostile_strings_stay_out_of_identifiers_and_enums(users) -> None:
    for user in users:
        assert user["id"] not in HOSTILE
        for role in user["roles"].values():
            for key in ("legacy_id", "sis_id", "school", "grade", "gender", "race"):
                assert role.get(key) not in HOSTILE


def test_lone_surrogate_in_every_district(messy: Sandbox) -> None:
    for district in messy.district_ids:
        users = messy.records("users", district)
        planted = users[LONE_SURROGATE_POSITION]
        assert planted["name"]["middle"] == LONE_SURROGATE
        assert "\ud83d" in planted["name"]["middle"]  # the Python str keeps the lone surrogate


def test_lone_surrogate_is_served_as_an_escape(make_sandbox) -> None:
    sandbox = make_sandbox(districts=1, users_per_district=1000)
    planted = sandbox.records("users")[LONE_SURROGATE_POSITION]
    session = session_for(sandbox)
    response = session.get(sandbox.base_url + f"/v3.1/users/{planted['id']}")
    assert response.status_code == 200
    assert b"\\ud83d" in response.content
    response.content.decode("utf-8")  # valid UTF-8 all the same
    assert response.json()["data"]["name"]["middle"] == LONE_SURROGATE
    page = session.get(sandbox.base_url + "/v3.1/users?limit=10000")
    assert page.content.count(b"\\ud83d") >= 1
    served = {item["data"]["id"]: item["data"] for item in page.json()["data"]}
    assert served[planted["id"]] == planted
    records = requests.get(sandbox.base_url + "/_sandbox/records/users", timeout=30).json()
    assert records["data"][LONE_SURROGATE_POSITION]["name"]["middle"] == LONE_SURROGATE
    # the feed carries it too, once the user changes
    [event] = sandbox.apply_changes(
        [{"op": "update", "id": planted["id"], "set": {"email": "zoe@example.org"}}]
    )
    assert event["data"]["object"]["name"]["middle"] == LONE_SURROGATE
    feed = session.get(sandbox.base_url + "/v3.1/events")
    assert b"\\ud83d" in feed.content
    assert feed.json()["data"][0]["data"]["data"]["object"] == event["data"]["object"]


def test_json_backends_agree_on_lone_surrogates(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {"name": {"first": "Zoë", "middle": LONE_SURROGATE}, "id": "x"}
    fast = jsonutil.dumps(record)
    assert fast == b'{"id":"x","name":{"first":"Zo\\u00eb","middle":"Zo\\u00eb \\ud83d"}}'
    assert jsonutil.loads(fast) == record
    monkeypatch.setattr(jsonutil, "_orjson", None)
    assert jsonutil.dumps(record) == fast
    assert jsonutil.loads(fast) == record
    assert jsonutil.dumps({"plain": "Zoë"}) == '{"plain":"Zoë"}'.encode()


def test_hostile_pool_off_changes_only_the_hostile_values(messy: Sandbox) -> None:
    tame = Sandbox(
        SandboxConfig(districts=2, users_per_district=2000, seed=31, hostile_strings=False)
    )
    differences = 0

    def compare(wild: Any, plain: Any) -> None:
        nonlocal differences
        if isinstance(wild, dict):
            assert isinstance(plain, dict)
            assert set(wild) == set(plain)
            for key in wild:
                compare(wild[key], plain[key])
        elif isinstance(wild, list):
            assert isinstance(plain, list)
            assert len(wild) == len(plain)
            for a, b in zip(wild, plain, strict=True):
                compare(a, b)
        elif wild != plain:
            assert wild in HOSTILE, (wild, plain)
            assert plain not in HOSTILE
            differences += 1

    for record_type in RECORD_TYPES:
        wild, plain = messy.records(record_type), tame.records(record_type)
        assert [r["id"] for r in wild] == [r["id"] for r in plain]
        if record_type == "users":  # the planted lone surrogate may add a middle name
            for district in messy.district_ids:
                planted = next(u for u in wild if u["district"] == district)
                planted_at = wild.index(planted) + LONE_SURROGATE_POSITION
                assert wild[planted_at]["name"].pop("middle") == LONE_SURROGATE
                plain[planted_at]["name"].pop("middle", None)
        for a, b in zip(wild, plain, strict=True):
            compare(a, b)
        for record in plain:
            assert not any(v in HOSTILE for v in _strings(record))
            assert not any("\ud800" <= ch <= "\udfff" for v in _strings(record) for ch in v)
    assert differences > 50


def test_changes_keep_the_sandbox_consistent_with_messy_records(make_sandbox) -> None:
    sandbox = make_sandbox(users_per_district=800, seed=17)
    events = sandbox.random_changes(600, seed=3)
    assert len(events) >= 600
    for district in sandbox.district_ids:
        users = sandbox.records("users", district)
        students = {u["id"] for u in users if "student" in u["roles"]}
        teachers = {u["id"] for u in users if "teacher" in u["roles"]}
        for section in sandbox.records("sections", district):
            assert set(section["students"]) <= students
            assert section["teachers"]
            assert set(section["teachers"]) <= teachers
        for user in users:
            contact = user["roles"].get("contact")
            if contact:
                linked = contact.get("students") or [
                    rel["student"] for rel in contact.get("student_relationships") or []
                ]
                assert set(linked) <= students
        for record_type in RECORD_TYPES:
            for record in sandbox.records(record_type, district):
                check_record(record_type, record, district)
        for event in sandbox.events(district):
            record_type = event["type"].split(".")[0]
            check_record(record_type, event["data"]["object"], district)


def test_created_records_go_through_the_pass(make_sandbox) -> None:
    sandbox = make_sandbox(districts=1, users_per_district=400)
    ops = [{"op": "create", "type": "users", "role": "student"} for _ in range(150)]
    ops += [{"op": "create", "type": "users", "role": "teacher"} for _ in range(50)]
    events = sandbox.apply_changes(ops)
    created = [e["data"]["object"] for e in events]
    # only the pass leaves these out or empties them (the generator always fills them in)
    assert any(_outcome(u, "email") in ('""', "absent") for u in created)
    roles = [role for u in created for role in u["roles"].values()]
    assert any(_outcome(role, "credentials") != "value" for role in roles)
    for user in created:
        check_record("users", user, sandbox.district_ids[0])


def test_a_section_losing_its_last_teacher_is_deleted(make_sandbox) -> None:
    sandbox = make_sandbox(districts=1, users_per_district=600)
    district = sandbox.district_ids[0]
    sections = sandbox.records("sections", district)
    single = next(x for x in sections if len(x["teachers"]) == 1)
    teacher = single["teachers"][0]
    taught = [x for x in sections if teacher in x["teachers"]]
    events = sandbox.apply_changes([{"op": "delete", "id": teacher}])
    by_object = {e["data"]["object"]["id"]: e["type"] for e in events}
    assert by_object[teacher] == "users.deleted"
    for section in taught:
        expected = "sections.deleted" if len(section["teachers"]) == 1 else "sections.updated"
        assert by_object[section["id"]] == expected
    assert sandbox.record("sections", single["id"]) is None
    other = next(x for x in sandbox.records("sections", district))
    with pytest.raises(ChangeError):
        sandbox.apply_changes(
            [{"op": "set_section_teachers", "section": other["id"], "teachers": []}]
        )


def test_served_records_equal_records_with_hostile_text(make_sandbox) -> None:
    sandbox: SandboxServer = make_sandbox(districts=1, users_per_district=1200, seed=8)
    session = session_for(sandbox)
    for record_type in ("users", "sections", "schools"):
        payload = session.get(sandbox.base_url + f"/v3.1/{record_type}?limit=10000").json()
        assert [item["data"] for item in payload["data"]] == sandbox.records(record_type)
