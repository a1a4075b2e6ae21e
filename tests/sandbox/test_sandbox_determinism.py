"""Same seed and sizes => byte-identical responses, before and after random changes."""

from __future__ import annotations

import time

from clever_sandbox import SandboxServer
from tests.sandbox.helpers import session_for

URIS = (
    "/v3.1/users?limit=10000",
    "/v3.1/sections?limit=10000",
    "/v3.1/schools",
    "/v3.1/terms",
    "/v3.1/courses",
    "/v3.1/resources",
    "/v3.1/districts",
    "/v3.1/events?limit=10000",
)


def _snapshot(sandbox: SandboxServer) -> list[bytes]:
    out = []
    for district in range(len(sandbox.district_ids)):
        session = session_for(sandbox, district)
        out.extend(session.get(sandbox.base_url + uri).content for uri in URIS)
    return out


def test_same_seed_same_bytes(make_sandbox) -> None:
    first = make_sandbox(seed=21, initial_events=5)
    second = make_sandbox(seed=21, initial_events=5)
    assert first.district_tokens == second.district_tokens
    assert first.client_secret == second.client_secret
    assert _snapshot(first) == _snapshot(second)
    first.random_changes(40, seed=2)
    second.random_changes(40, seed=2)
    assert _snapshot(first) == _snapshot(second)


def test_generation_does_not_depend_on_access_order(make_sandbox) -> None:
    first = make_sandbox(seed=4, users_per_district=2000)
    second = make_sandbox(seed=4, users_per_district=2000)
    session = session_for(second)
    session.get(second.base_url + "/v3.1/users?limit=10&starting_after=" + "f" * 8)
    late = second.records("users", second.district_ids[0])[-1]["id"]
    single = session.get(second.base_url + f"/v3.1/users/{late}").content
    assert session_for(first).get(first.base_url + f"/v3.1/users/{late}").content == single
    assert _snapshot(first) == _snapshot(second)


def test_different_seed_different_data(make_sandbox) -> None:
    first = make_sandbox(seed=1)
    second = make_sandbox(seed=2)
    assert first.district_tokens != second.district_tokens
    assert _snapshot(first)[0] != _snapshot(second)[0]


def test_prefetch_and_pregeneration_serve_the_same_bytes(make_sandbox) -> None:
    lazy = make_sandbox(seed=6, users_per_district=3000, districts=1)
    eager = make_sandbox(seed=6, users_per_district=3000, districts=1, pregenerate=True)
    pages = []
    for sandbox in (lazy, eager):
        session = session_for(sandbox)
        uri: str | None = "/v3.1/users?limit=700"
        bodies = []
        while uri:
            response = session.get(sandbox.base_url + uri)
            bodies.append(response.content)
            uri = next((x["uri"] for x in response.json()["links"] if x["rel"] == "next"), None)
        pages.append(bodies)
    assert pages[0] == pages[1]
    assert len(pages[0]) == 5


def test_read_ahead_generates_the_next_page(make_sandbox) -> None:
    sandbox = make_sandbox(users_per_district=5000, districts=1)
    users = sandbox.sandbox.dataset.districts[0].collections["users"]
    session_for(sandbox).get(sandbox.base_url + "/v3.1/users?limit=1000")
    deadline = time.monotonic() + 5
    while not users.has_chunk(3) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert users.has_chunk(3)  # records 1536..2047 belong to the next page
    assert not users.has_chunk(5)
