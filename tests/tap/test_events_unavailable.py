"""Districts without the Events API still sync: by snapshot on every run, with one warning."""

from __future__ import annotations

import logging

import pytest
from werkzeug import Request, Response

from tests.tap.conftest import (
    DISTRICT_A,
    DISTRICT_B,
    TOKEN_A,
    TOKEN_B,
    FakeClever,
    object_id,
    run_sync,
)

STREAMS = {"districts", "users", "events", "snapshots"}


def _event(n: int) -> dict:
    return {
        "id": object_id(n, "61"),
        "type": "users.updated",
        "created": "2026-11-01T00:00:00Z",
        "data": {"object": {"id": object_id(n)}},
    }


def _two_districts(clever: FakeClever) -> dict:
    clever.add_district(TOKEN_B, DISTRICT_B, "Brookside ISD")
    for token, district in ((TOKEN_A, DISTRICT_A), (TOKEN_B, DISTRICT_B)):
        users = [{"id": object_id(n), "district": district} for n in range(1, 4)]
        clever.set_records(token, "users", users)
        clever.set_records(token, "sections", [])
    clever.set_records(TOKEN_A, "events", [_event(1), _event(2)])
    return {"api_url": clever.url, "district_tokens": [TOKEN_A, TOKEN_B]}


def _refuse(clever: FakeClever, token: str, status: int, paths: tuple[str, ...]) -> None:
    def refuse(request: Request) -> Response | None:
        if request.headers.get("Authorization") == f"Bearer {token}" and request.path in paths:
            return Response('{"message": "Events are not enabled"}', status=status)
        return None

    clever.intercept = refuse


@pytest.mark.parametrize("status", [404, 403, 401])
def test_a_district_whose_events_are_refused_is_snapshotted_on_every_run(
    clever: FakeClever, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    caplog.set_level(logging.INFO)
    config = _two_districts(clever)
    _refuse(clever, TOKEN_B, status, ("/v3.1/events",))

    first = run_sync(config, streams=STREAMS)

    assert first.error is None
    assert {u["district"] for u in first.records("users")} == {DISTRICT_A, DISTRICT_B}
    assert {e["district"] for e in first.records("events")} == {DISTRICT_A}
    snapshots = {s["district"]: s for s in first.records("snapshots")}
    assert snapshots[DISTRICT_B]["event_cursor"] == ""
    assert "Events API is not available" in snapshots[DISTRICT_B]["reason"]
    warnings = [r for r in caplog.records if "Events API is not available" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "'Brookside ISD'" in warnings[0].getMessage()
    assert "read only the changes" in warnings[0].getMessage()

    second = run_sync(config, state=first.final_state, streams=STREAMS)

    assert second.error is None
    # A reads only its new events; B is read whole again, so deletions still reach it.
    assert {u["district"] for u in second.records("users")} == {DISTRICT_B}
    assert [s["district"] for s in second.records("snapshots")] == [DISTRICT_B]


def test_a_district_whose_events_go_away_keeps_its_last_event_as_cursor(
    clever: FakeClever,
) -> None:
    config = _two_districts(clever)
    first = run_sync(config, streams=STREAMS)
    _refuse(clever, TOKEN_A, 404, ("/v3.1/events",))

    second = run_sync(config, state=first.final_state, streams=STREAMS)

    assert second.error is None
    # Events loaded before must not count as changes after this snapshot.
    snapshots = {s["district"]: s for s in second.records("snapshots")}
    assert snapshots[DISTRICT_A]["event_cursor"] == _event(2)["id"]


def test_a_district_that_is_not_secure_sync_syncs_what_its_token_may_read(
    clever: FakeClever, caplog: pytest.LogCaptureFixture
) -> None:
    # A non-Secure-Sync district-app token reads /districts and nothing else.
    config = _two_districts(clever)
    _refuse(clever, TOKEN_B, 403, ("/v3.1/events", "/v3.1/users", "/v3.1/sections"))

    result = run_sync(config, streams=STREAMS | {"sections"})

    assert result.error is None
    assert {d["id"] for d in result.records("districts")} == {DISTRICT_A, DISTRICT_B}
    assert {u["district"] for u in result.records("users")} == {DISTRICT_A}
    assert {s["district"] for s in result.records("snapshots")} == {DISTRICT_A, DISTRICT_B}
    refused = [r.getMessage() for r in caplog.records if "HTTP 403" in r.getMessage()]
    assert any("users" in m and "'Brookside ISD'" in m for m in refused)
    assert any("Secure Sync" in m for m in refused)
