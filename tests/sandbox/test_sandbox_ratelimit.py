"""Per-token fixed-window rate limits with Clever's headers and an empty-bodied 429."""

from __future__ import annotations

import time

import requests

from tests.sandbox.helpers import session_for


def test_headers_on_every_response(shared_sandbox) -> None:
    session = session_for(shared_sandbox, 1)
    for uri in ("/v3.1/users", "/v3.1/users/" + "0" * 24, "/v3.1/users?limit=0", "/nowhere"):
        response = session.get(shared_sandbox.base_url + uri)
        assert response.headers["X-RateLimit-Limit"] == "1200"
        assert 0 <= int(response.headers["X-RateLimit-Remaining"]) < 1200
        assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
        assert response.headers["X-RateLimit-Bucket"]


def test_429_with_empty_body_then_recovery_after_reset(make_sandbox) -> None:
    sandbox = make_sandbox(rate_limit=5, rate_window=1.0)
    session = session_for(sandbox)
    other = session_for(sandbox, 1)
    # start at the beginning of a window so the 6 requests share one
    time.sleep(1.0 - (time.time() % 1.0) + 0.02)
    statuses = [session.get(sandbox.base_url + "/v3.1/schools") for _ in range(6)]
    assert [r.status_code for r in statuses[:5]] == [200] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in statuses[:5]] == ["4", "3", "2", "1", "0"]
    limited = statuses[5]
    assert limited.status_code == 429
    assert limited.content == b""
    assert limited.headers["Content-Length"] == "0"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    # another district's token has its own bucket
    assert other.get(sandbox.base_url + "/v3.1/schools").status_code == 200
    reset = int(limited.headers["X-RateLimit-Reset"])
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert session.get(sandbox.base_url + "/v3.1/schools").status_code == 200


def test_rate_limit_can_change_at_run_time(make_sandbox) -> None:
    sandbox = make_sandbox()
    response = requests.post(
        sandbox.base_url + "/_sandbox/rate-limit", json={"limit": 2, "window": 3600}, timeout=10
    )
    assert response.json() == {"limit": 2, "window": 3600.0}
    session = session_for(sandbox)
    codes = [session.get(sandbox.base_url + "/v3.1/terms").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
