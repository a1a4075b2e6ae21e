"""Server behaviours a client must cope with: districts without events or without Secure Sync,
a token whose rate-limit window someone else spent, a server that ignores ``ending_before``."""

from __future__ import annotations

import time

import pytest
import requests

from clever_sandbox import Sandbox, SandboxConfig, SandboxServer
from tests.sandbox.helpers import get_json, session_for

DATA_PATHS = ("/v3.1/users", "/v3.1/schools", "/v3.1/sections", "/v3.1/terms", "/v3.1/courses",
              "/v3.1/resources")  # fmt: skip


def _student(sandbox: SandboxServer, district: int) -> str:
    users = sandbox.records("users", sandbox.district_ids[district])
    return next(u["id"] for u in users if "student" in u["roles"])


def _set_grade(student: str, grade: str) -> list[dict[str, object]]:
    return [{"op": "set_grade", "user": student, "grade": grade}]


# -- district modes -------------------------------------------------------------------------------
def test_events_off_district_has_no_feed_but_its_data(make_sandbox) -> None:
    sandbox = make_sandbox(district_modes={1: "events_off"}, initial_events=3)
    on, off = sandbox.district_ids
    assert sandbox.events(on)
    assert sandbox.events(off) == []  # its initial changes applied without events
    session = session_for(sandbox, 1)
    for uri in ("/v3.1/events", "/v3.1/events?ending_before=last&limit=1",
                f"/v3.1/events/{sandbox.events(on)[0]['id']}"):  # fmt: skip
        response = session.get(sandbox.base_url + uri)
        assert response.status_code == 404, uri
        assert "events are not enabled" in response.json()["message"]
        assert response.headers["X-RateLimit-Limit"] == "1200"
    for uri in (*DATA_PATHS, "/v3.1/districts", f"/v3.1/districts/{off}"):
        assert session.get(sandbox.base_url + uri).status_code == 200, uri
    assert session_for(sandbox, 0).get(sandbox.base_url + "/v3.1/events").status_code == 200

    student = _student(sandbox, 1)
    assert sandbox.apply_changes(_set_grade(student, "7")) == []
    record = sandbox.record("users", student)
    assert record is not None
    assert record["roles"]["student"]["grade"] == "7"
    assert sandbox.random_changes(20, seed=1, district_id=off) == []
    assert sandbox.events(off) == []

    sandbox.set_district_mode(off, "events_on")
    [event] = sandbox.apply_changes(_set_grade(student, "8"))
    feed = get_json(session, sandbox, "/v3.1/events")
    assert [item["data"] for item in feed["data"]] == [event]  # the feed starts now
    assert event["data"]["previous_attributes"]["roles"]["student"]["grade"] == "7"


def test_district_without_secure_sync_reads_districts_only(make_sandbox) -> None:
    sandbox = make_sandbox(district_modes={0: "no_secure_sync"})
    district = sandbox.district_ids[0]
    session = session_for(sandbox, 0)
    own = get_json(session, sandbox, "/v3.1/districts")
    assert [item["data"]["id"] for item in own["data"]] == [district]
    assert get_json(session, sandbox, f"/v3.1/districts/{district}")["data"]["id"] == district
    user = sandbox.records("users", district)[0]["id"]
    for uri in (*DATA_PATHS, f"/v3.1/users/{user}", "/v3.1/events", "/v3.1/events/" + "0" * 24,
                "/v3.1/users?limit=99999"):  # fmt: skip
        response = session.get(sandbox.base_url + uri)
        assert response.status_code == 403, uri
        assert "Secure Sync" in response.json()["message"]
        assert "X-RateLimit-Remaining" in response.headers
    assert session.get(sandbox.base_url + "/v3.1/students").status_code == 404
    other = session_for(sandbox, 1)
    assert other.get(sandbox.base_url + "/v3.1/users").status_code == 200
    assert other.get(sandbox.base_url + "/v3.1/events").status_code == 200
    # its data still changes (the district's own SIS), it just cannot be read
    assert sandbox.apply_changes(_set_grade(_student(sandbox, 0), "5")) == []
    listed = requests.get(
        sandbox.base_url + "/oauth/tokens",
        auth=(sandbox.client_id, sandbox.client_secret),
        timeout=10,
    ).json()["data"]
    assert [t["owner"]["id"] for t in listed] == sandbox.district_ids


def test_district_modes_over_the_control_api_and_in_info(make_sandbox) -> None:
    sandbox = make_sandbox()
    first, second = sandbox.district_ids
    info = requests.get(sandbox.base_url + "/_sandbox/info", timeout=10).json()
    assert [d["mode"] for d in info["districts"]] == ["events_on", "events_on"]
    url = sandbox.base_url + "/_sandbox/district-mode"
    response = requests.post(url, json={"district": second, "mode": "no_secure_sync"}, timeout=10)
    assert response.json() == {"district": second, "mode": "no_secure_sync"}
    assert session_for(sandbox, 1).get(sandbox.base_url + "/v3.1/users").status_code == 403
    info = requests.get(sandbox.base_url + "/_sandbox/info", timeout=10).json()
    assert [d["mode"] for d in info["districts"]] == ["events_on", "no_secure_sync"]
    bad = requests.post(url, json={"district": first, "mode": "sometimes"}, timeout=10)
    assert bad.status_code == 400
    assert "events_off" in bad.json()["message"]
    missing = requests.post(url, json={"district": "nope", "mode": "events_off"}, timeout=10)
    assert missing.status_code == 404
    assert sandbox.info()["districts"][0]["mode"] == "events_on"


def test_district_modes_in_the_config() -> None:
    sandbox = Sandbox(
        SandboxConfig(districts=3, users_per_district=50, district_modes={2: "events_off"})
    )
    assert [d["mode"] for d in sandbox.info()["districts"]] == [
        "events_on",
        "events_on",
        "events_off",
    ]
    assert sandbox.info()["config"]["district_modes"] == {"2": "events_off"}
    with pytest.raises(ValueError, match="do not exist"):
        Sandbox(SandboxConfig(districts=2, users_per_district=50, district_modes={2: "events_off"}))
    with pytest.raises(ValueError, match="district mode"):
        Sandbox(SandboxConfig(districts=2, users_per_district=50, district_modes={0: "off"}))


# -- a rate-limit window already spent -----------------------------------------------------------
def test_spent_budget_answers_429_until_the_window_resets(make_sandbox) -> None:
    sandbox = make_sandbox(rate_window=3600.0)
    first, _ = sandbox.district_ids
    assert sandbox.spend_rate_limit(first, 1200) == 0
    response = session_for(sandbox, 0).get(sandbox.base_url + "/v3.1/schools")
    assert response.status_code == 429
    assert response.content == b""
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) == (int(time.time()) // 3600 + 1) * 3600
    assert session_for(sandbox, 1).get(sandbox.base_url + "/v3.1/schools").status_code == 200


def test_spend_over_the_control_api_keeps_the_count(make_sandbox) -> None:
    sandbox = make_sandbox(rate_limit=50, rate_window=3600.0)
    first, second = sandbox.district_ids
    session = session_for(sandbox, 0)
    assert session.get(sandbox.base_url + "/v3.1/terms").headers["X-RateLimit-Remaining"] == "49"
    response = requests.post(
        sandbox.base_url + "/_sandbox/rate-limit",
        json={"spend": {first: 10, second: 50}},
        timeout=10,
    )
    assert response.json() == {
        "limit": 50,
        "window": 3600.0,
        "remaining": {first: 39, second: 0},
    }
    assert session.get(sandbox.base_url + "/v3.1/terms").headers["X-RateLimit-Remaining"] == "38"
    assert session_for(sandbox, 1).get(sandbox.base_url + "/v3.1/terms").status_code == 429
    unknown = requests.post(
        sandbox.base_url + "/_sandbox/rate-limit", json={"spend": {"nope": 1}}, timeout=10
    )
    assert unknown.status_code == 404


# -- a server that ignores ending_before ---------------------------------------------------------
def _newest_probe(sandbox: SandboxServer) -> str:
    payload = get_json(session_for(sandbox), sandbox, "/v3.1/events?ending_before=last&limit=1")
    [item] = payload["data"]
    return str(item["data"]["id"])


def test_ignoring_ending_before_answers_the_oldest_event(make_sandbox) -> None:
    sandbox = make_sandbox(initial_events=5)
    feed = [e["id"] for e in sandbox.events(sandbox.district_ids[0])]
    assert len(feed) >= 5
    assert _newest_probe(sandbox) == feed[-1]
    sandbox.set_events_ignore_ending_before(True)
    assert _newest_probe(sandbox) == feed[0]
    assert sandbox.info()["events_ignore_ending_before"] is True
    # data endpoints still honour ending_before
    users = [u["id"] for u in sandbox.records("users", sandbox.district_ids[0])]
    page = get_json(session_for(sandbox), sandbox, f"/v3.1/users?ending_before={users[3]}")
    assert [item["data"]["id"] for item in page["data"]] == users[:3]
    response = requests.post(
        sandbox.base_url + "/_sandbox/events-paging",
        json={"ignore_ending_before": False},
        timeout=10,
    )
    assert response.json() == {"ignore_ending_before": False}
    assert _newest_probe(sandbox) == feed[-1]


def test_ignoring_ending_before_from_the_config(make_sandbox) -> None:
    sandbox = make_sandbox(initial_events=4, events_ignore_ending_before=True)
    assert _newest_probe(sandbox) == sandbox.events(sandbox.district_ids[0])[0]["id"]
