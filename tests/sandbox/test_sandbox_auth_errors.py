"""Tokens, OAuth token listing and the error statuses of the API."""

from __future__ import annotations

import pytest
import requests

from clever_sandbox import SandboxServer
from tests.sandbox.helpers import get_json, session_for


def _get(sandbox: SandboxServer, uri: str, token: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(sandbox.base_url + uri, headers=headers, timeout=10)


@pytest.mark.parametrize("token", [None, "", "not-a-token", "il3jsfUI2131da2f"])
def test_bad_tokens_are_401_with_message(shared_sandbox: SandboxServer, token) -> None:
    response = _get(shared_sandbox, "/v3.1/users", token)
    assert response.status_code == 401
    assert isinstance(response.json()["message"], str)


def test_il_prefix_is_rejected_even_for_a_valid_token_suffix(
    shared_sandbox: SandboxServer,
) -> None:
    response = _get(shared_sandbox, "/v3.1/users", "il" + shared_sandbox.district_tokens[0])
    assert response.status_code == 401
    assert "Instant Login" in response.json()["message"]


def test_each_token_sees_only_its_district(shared_sandbox: SandboxServer) -> None:
    first, second = shared_sandbox.district_ids
    own = get_json(session_for(shared_sandbox, 0), shared_sandbox, "/v3.1/districts")
    assert [i["data"]["id"] for i in own["data"]] == [first]
    other_user = shared_sandbox.records("users", second)[0]["id"]
    response = _get(shared_sandbox, f"/v3.1/users/{other_user}", shared_sandbox.district_tokens[0])
    assert response.status_code == 404
    response = _get(shared_sandbox, f"/v3.1/districts/{second}", shared_sandbox.district_tokens[0])
    assert response.status_code == 404
    response = _get(shared_sandbox, f"/v3.1/users/{other_user}", shared_sandbox.district_tokens[1])
    assert response.status_code == 200
    assert response.json()["data"]["id"] == other_user


@pytest.mark.parametrize(
    ("uri", "status"),
    [
        ("/v3.1/users?limit=10001", 413),
        ("/v3.1/events?limit=20000", 413),
        ("/v3.1/users?limit=abc", 400),
        ("/v3.1/users?limit=0", 400),
        ("/v3.1/users?limit=-5", 400),
        ("/v3.1/users?limit=1.5", 400),
        ("/v3.1/users?role=principal", 400),
        ("/v3.1/events?record_type=students", 400),
        ("/v3.1/users/" + "0" * 24, 404),
        ("/v3.1/users/not-an-id", 404),
        ("/v3.1/events/" + "0" * 24, 404),
        ("/v3.1/students", 404),
        ("/v2.1/users", 404),
        ("/nowhere", 404),
    ],
)
def test_error_statuses(shared_sandbox: SandboxServer, uri: str, status: int) -> None:
    response = _get(shared_sandbox, uri, shared_sandbox.district_tokens[0])
    assert response.status_code == status, response.text
    assert "message" in response.json()


def test_limit_10000_is_allowed(shared_sandbox: SandboxServer) -> None:
    response = _get(shared_sandbox, "/v3.1/users?limit=10000", shared_sandbox.district_tokens[0])
    assert response.status_code == 200
    assert len(response.json()["data"]) == 600


def test_single_record_shape(shared_sandbox: SandboxServer) -> None:
    user = shared_sandbox.records("users", shared_sandbox.district_ids[0])[3]
    payload = get_json(session_for(shared_sandbox), shared_sandbox, f"/v3.1/users/{user['id']}")
    assert payload["data"] == user
    assert payload["links"] == [{"rel": "self", "uri": f"/v3.1/users/{user['id']}"}]


def test_oauth_tokens_with_basic_auth(shared_sandbox: SandboxServer) -> None:
    response = requests.get(
        shared_sandbox.base_url + "/oauth/tokens",
        params={"owner_type": "district"},
        auth=(shared_sandbox.client_id, shared_sandbox.client_secret),
        timeout=10,
    )
    assert response.status_code == 200
    payload = response.json()
    assert [t["owner"] for t in payload["data"]] == [
        {"type": "district", "id": d} for d in shared_sandbox.district_ids
    ]
    assert [t["access_token"] for t in payload["data"]] == shared_sandbox.district_tokens
    for token in payload["data"]:
        assert set(token) == {"id", "created", "owner", "access_token", "scopes"}
        assert token["scopes"]
    assert payload["links"][0]["rel"] == "self"
    # the listed tokens work against the Data API
    listed = payload["data"][1]["access_token"]
    assert _get(shared_sandbox, "/v3.1/schools", listed).status_code == 200


@pytest.mark.parametrize("auth", [("wrong", "creds"), None, "bearer"])
def test_oauth_tokens_rejects_bad_credentials(shared_sandbox: SandboxServer, auth) -> None:
    kwargs: dict = {}
    if auth == "bearer":
        kwargs["headers"] = {"Authorization": f"Bearer {shared_sandbox.district_tokens[0]}"}
    elif auth is not None:
        kwargs["auth"] = (shared_sandbox.client_id, "not-the-secret")
    response = requests.get(
        shared_sandbox.base_url + "/oauth/tokens?owner_type=district", timeout=10, **kwargs
    )
    assert response.status_code == 401
    assert "message" in response.json()
