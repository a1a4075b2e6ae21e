"""Small HTTP helpers shared by the sandbox tests (plain requests, no tap code)."""

from __future__ import annotations

from typing import Any

import requests

from clever_sandbox import SandboxServer


def session_for(sandbox: SandboxServer, district: int = 0) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {sandbox.district_tokens[district]}"
    return session


def link(payload: dict[str, Any], rel: str) -> str | None:
    return next((x["uri"] for x in payload["links"] if x["rel"] == rel), None)


def get_json(session: requests.Session, sandbox: SandboxServer, uri: str) -> dict[str, Any]:
    response = session.get(sandbox.base_url + uri, timeout=30)
    assert response.status_code == 200, (uri, response.status_code, response.text[:200])
    return response.json()


def page_all(
    session: requests.Session, sandbox: SandboxServer, uri: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow ``next`` links from ``uri``; returns (records, every page payload)."""
    records: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    next_uri: str | None = uri
    while next_uri:
        payload = get_json(session, sandbox, next_uri)
        pages.append(payload)
        records.extend(item["data"] for item in payload["data"])
        next_uri = link(payload, "next")
        assert len(pages) < 10_000, "paging does not terminate"
    return records, pages
