"""Text a source system damaged never fails a district: it is repaired, counted and reported."""

from __future__ import annotations

import json
import logging

import msgspec
import pytest
from pytest_httpserver import HTTPServer

from tap_clever.lenient_json import repair
from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, object_id, run_sync

REPLACEMENT = "\ufffd"


@pytest.mark.parametrize(
    ("raw", "decoded", "replaced"),
    [
        # An emoji cut in half (its high surrogate alone), mid-string and at the end.
        (rb'{"a":"Zo\u00eb \ud83d"}', "Zoë " + REPLACEMENT, 1),
        (rb'{"a":"x\ud83dy\ude00"}', "x" + REPLACEMENT + "y" + REPLACEMENT, 2),
        # A whole pair is an emoji, untouched.
        (rb'{"a":"\ud83d\ude00"}', "😀", 0),
        # An escaped backslash followed by text that looks like an escape is not one.
        (rb'{"a":"\\ud83d"}', "\\ud83d", 0),
        (rb'{"a":"\\\ud83d"}', "\\" + REPLACEMENT, 1),
        # Bytes that are not UTF-8 at all (Latin-1 from a source system).
        (b'{"a":"Jos\xe9"}', "Jos" + REPLACEMENT, 1),
    ],
)
def test_repair_replaces_what_utf8_cannot_hold_and_counts_it(
    raw: bytes, decoded: str, replaced: int
) -> None:
    body, count = repair(raw)

    assert msgspec.json.decode(body) == {"a": decoded}
    assert count == replaced


def test_a_clean_body_is_left_as_it_is() -> None:
    body = json.dumps({"a": "Ñandú ✓ \t\n  עברית 👨‍👩‍👧", "b": "\\u0041"}).encode()
    assert repair(body) == (body, 0)


def test_a_lone_surrogate_in_a_record_is_replaced_and_reported(
    clever: FakeClever, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    user = {"id": object_id(1), "district": DISTRICT_A, "name": {"first": "Zoë", "last": "X"}}
    clever.set_records(TOKEN_A, "users", [user, {"id": object_id(2), "district": DISTRICT_A}])
    page = json.dumps({"data": [{"data": user}], "links": []}).replace("X", "X \\ud83d")
    httpserver.expect_oneshot_request("/v3.1/users").respond_with_data(
        page, content_type="application/json"
    )

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams={"users"})

    assert result.error is None
    assert result.records("users")[0]["name"]["last"] == "X " + REPLACEMENT
    report = [r.getMessage() for r in caplog.records if "U+FFFD" in r.getMessage()]
    assert len(report) == 1
    assert "1 value(s) of users" in report[0]
    assert "'Ashfield Unified'" in report[0]
