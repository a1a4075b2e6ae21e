"""Fault injection: statuses, dropped connections, malformed bodies, latency, random faults."""

from __future__ import annotations

import time

import pytest
import requests

from tests.sandbox.helpers import session_for


def _codes(session: requests.Session, url: str, n: int) -> list[int]:
    return [session.get(url).status_code for _ in range(n)]


def test_status_fault_n_times_after_k(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="status", status=503, path=r"^/v3\.1/users", times=2, after=1)
    session = session_for(sandbox)
    assert _codes(session, sandbox.base_url + "/v3.1/users", 4) == [200, 503, 503, 200]
    assert _codes(session, sandbox.base_url + "/v3.1/schools", 1) == [200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults_carry_json_message(make_sandbox, status: int) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="status", status=status)
    response = session_for(sandbox).get(sandbox.base_url + "/v3.1/terms")
    assert response.status_code == status
    assert "message" in response.json()
    assert "X-RateLimit-Limit" in response.headers


def test_429_fault_has_reset_and_empty_body(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="status", status=429, reset_seconds=2)
    response = session_for(sandbox).get(sandbox.base_url + "/v3.1/terms")
    assert response.status_code == 429
    assert response.content == b""
    reset = int(response.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 3


def test_connection_drop(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="drop", path="sections")
    session = session_for(sandbox)
    with pytest.raises(requests.ConnectionError):
        session.get(sandbox.base_url + "/v3.1/sections")
    assert session.get(sandbox.base_url + "/v3.1/sections").status_code == 200


def test_html_body_with_200(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="html")
    response = session_for(sandbox).get(sandbox.base_url + "/v3.1/users")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):  # noqa: PT011 - requests' JSONDecodeError is a ValueError
        response.json()


def test_json_without_data(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="no_data")
    response = session_for(sandbox).get(sandbox.base_url + "/v3.1/users")
    assert response.status_code == 200
    assert "data" not in response.json()


def test_truncated_json(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="truncated")
    response = session_for(sandbox).get(sandbox.base_url + "/v3.1/users")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):  # noqa: PT011
        response.json()


def test_short_body_breaks_the_read(make_sandbox) -> None:
    sandbox = make_sandbox()
    sandbox.add_fault(kind="short_body")
    with pytest.raises(requests.exceptions.RequestException):
        session_for(sandbox).get(sandbox.base_url + "/v3.1/users").content  # noqa: B018


def test_latency(make_sandbox) -> None:
    sandbox = make_sandbox(latency_ms=150)
    session = session_for(sandbox)
    start = time.perf_counter()
    session.get(sandbox.base_url + "/v3.1/terms")
    assert time.perf_counter() - start >= 0.15
    sandbox.configure_faults(latency_ms=0)
    sandbox.add_fault(kind="latency", latency_ms=200, times=1)
    start = time.perf_counter()
    session.get(sandbox.base_url + "/v3.1/terms")
    assert time.perf_counter() - start >= 0.2
    start = time.perf_counter()
    session.get(sandbox.base_url + "/v3.1/terms")
    assert time.perf_counter() - start < 0.2


def test_random_fault_rate_is_reproducible(make_sandbox) -> None:
    runs = []
    for _ in range(2):
        sandbox = make_sandbox(fault_rate=0.3, fault_seed=9)
        runs.append(_codes(session_for(sandbox), sandbox.base_url + "/v3.1/terms", 40))
    assert runs[0] == runs[1]
    assert {500, 502, 503} & set(runs[0])
    assert 200 in runs[0]


def test_faults_over_http_control(make_sandbox) -> None:
    sandbox = make_sandbox()
    url = sandbox.base_url + "/_sandbox/faults"
    state = requests.post(
        url, json={"add": [{"kind": "status", "status": 502, "times": 1}]}, timeout=10
    ).json()
    assert state["rules"][0]["status"] == 502
    session = session_for(sandbox)
    assert _codes(session, sandbox.base_url + "/v3.1/users", 2) == [502, 200]
    assert requests.get(url, timeout=10).json()["rules"][0]["fired"] == 1
    requests.post(url, json={"add": [{"kind": "status", "status": 500, "times": None}]}, timeout=10)
    assert _codes(session, sandbox.base_url + "/v3.1/users", 2) == [500, 500]
    assert requests.post(url, json={"clear": True}, timeout=10).json()["rules"] == []
    assert _codes(session, sandbox.base_url + "/v3.1/users", 1) == [200]
    bad = requests.post(url, json={"add": [{"kind": "explode"}]}, timeout=10)
    assert bad.status_code == 400


def test_control_api_is_never_faulted_or_limited(make_sandbox) -> None:
    sandbox = make_sandbox(rate_limit=1, fault_rate=1.0)
    for _ in range(3):
        assert requests.get(sandbox.base_url + "/_sandbox/info", timeout=10).status_code == 200


def test_fault_rules_at_start_up(make_sandbox) -> None:
    sandbox = make_sandbox(fault_rules=({"kind": "status", "status": 502, "times": 1, "after": 1},))
    session = session_for(sandbox)
    assert _codes(session, sandbox.base_url + "/v3.1/users", 3) == [200, 502, 200]
