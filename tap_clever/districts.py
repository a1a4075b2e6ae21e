"""Which districts to sync, and the bearer token of each.

Three ways in, combinable: one `auth_token`, a list of `district_tokens`, or the application's
`client_id` + `client_secret`, with which the tap asks Clever's `/oauth/tokens` for every
district token the application holds (a partner app with 500 districts configures two secrets,
not 500 tokens). A configured token does not say which district it belongs to, so the tap asks
`/v3.1/districts` once per token: state is keyed on the district id, which never changes,
rather than on a token or its position in a list, which do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tap_clever.errors import (
    CleverAPIError,
    CleverConnectionError,
    CleverError,
    CleverResponseError,
    InstantLoginTokenError,
)

logger = logging.getLogger(__name__)

# Instant Login tokens start with "il"; district-app tokens are hexadecimal, so they never do.
_INSTANT_LOGIN_PREFIX = "il"
_TIMEOUT_SECONDS = 60
#: Attempts, and the first backoff wait (doubling), for the start-up calls.
STARTUP_ATTEMPTS = 5
STARTUP_BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class DistrictAccess:
    """One district to sync and the token that reads it. The token never shows in a repr."""

    district_id: str
    token: str = field(repr=False)
    source: str
    name: str | None = None


@dataclass(frozen=True)
class UnresolvedToken:
    """A configured token whose district could not be read, and why."""

    source: str
    error: CleverError


def configured_tokens(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The tokens set in `auth_token` and `district_tokens`, each with the setting it came from."""
    tokens: list[tuple[str, str]] = []
    if config.get("auth_token"):
        tokens.append(("auth_token", config["auth_token"]))
    for index, token in enumerate(config.get("district_tokens") or []):
        if token:
            tokens.append((f"district_tokens[{index}]", token))
    return tokens


def reject_instant_login_tokens(config: Mapping[str, Any]) -> None:
    """Fail before any request if a configured token is an Instant Login token."""
    for source, token in configured_tokens(config):
        if token.startswith(_INSTANT_LOGIN_PREFIX):
            raise InstantLoginTokenError(source)


def new_session(user_agent: str) -> requests.Session:
    """A session for the few start-up calls, retrying Clever's transient failures."""
    retry = Retry(
        total=STARTUP_ATTEMPTS - 1,
        backoff_factor=STARTUP_BACKOFF_SECONDS,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET",),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = user_agent
    return session


def _get_json(session: requests.Session, url: str, where: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = session.get(url, timeout=_TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        # The exception text can carry the URL but never headers, so no secret leaks here.
        msg = (
            f"{where} could not reach Clever ({type(exc).__name__}). Check the URL setting and "
            "the network; the tap retried transient failures before giving up."
        )
        raise CleverConnectionError(msg) from None
    if response.status_code >= 400:
        raise CleverAPIError(where=where, status=response.status_code, detail=_message(response))
    try:
        body = response.json()
    except ValueError:
        raise CleverResponseError(where=where, problem="the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise CleverResponseError(where=where, problem="it has no `data` list")
    return body


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def discover_district_tokens(
    session: requests.Session, oauth_url: str, client_id: str, client_secret: str
) -> list[DistrictAccess]:
    """Every district token the application holds, from `GET /oauth/tokens?owner_type=district`."""
    found: list[DistrictAccess] = []
    url: str | None = urljoin(oauth_url, "/oauth/tokens?owner_type=district")
    while url:
        where = "Token discovery (GET /oauth/tokens with client_id/client_secret)"
        try:
            body = _get_json(session, url, where, auth=(client_id, client_secret))
        except CleverAPIError as exc:
            if exc.status == 401:
                msg = (
                    f"{where} failed with HTTP 401: Clever rejected client_id/client_secret. "
                    "Copy both from the application's settings in the Clever dashboard "
                    "(TAP_CLEVER_CLIENT_ID, TAP_CLEVER_CLIENT_SECRET), and check oauth_url."
                )
                raise CleverError(msg) from None
            raise
        for item in body["data"]:
            owner = item.get("owner") or {}
            if owner.get("type") != "district" or not item.get("access_token"):
                continue
            found.append(
                DistrictAccess(
                    district_id=owner["id"],
                    token=item["access_token"],
                    source="client_id token discovery",
                )
            )
        url = _next_link(oauth_url, body.get("links"))
    return found


def _next_link(base_url: str, links: Any) -> str | None:
    for link in links or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("uri"):
            return urljoin(base_url, str(link["uri"]))
    return None


def resolve_configured_tokens(
    session: requests.Session, api_url: str, tokens: Sequence[tuple[str, str]]
) -> tuple[list[DistrictAccess], list[UnresolvedToken]]:
    """Read the district of each configured token from `GET /v3.1/districts`."""
    resolved: list[DistrictAccess] = []
    unresolved: list[UnresolvedToken] = []
    for source, token in tokens:
        where = f"Reading the district of the token in `{source}` (GET /v3.1/districts)"
        try:
            body = _get_json(
                session,
                urljoin(api_url, "/v3.1/districts"),
                where,
                headers={"Authorization": f"Bearer {token}"},
            )
            records = [item.get("data") or {} for item in body["data"]]
            if len(records) != 1 or not records[0].get("id"):
                problem = f"it lists {len(records)} districts where a district token sees one"
                raise CleverResponseError(where=where, problem=problem)
        except CleverError as exc:
            unresolved.append(UnresolvedToken(source=source, error=exc))
            continue
        resolved.append(
            DistrictAccess(
                district_id=records[0]["id"],
                token=token,
                source=source,
                name=records[0].get("name"),
            )
        )
    return resolved, unresolved


def deduplicate(accesses: Sequence[DistrictAccess]) -> list[DistrictAccess]:
    """One entry per district, the first configured token winning."""
    seen: dict[str, DistrictAccess] = {}
    for access in accesses:
        if access.district_id in seen:
            logger.warning(
                "District %s has tokens from both %s and %s; using the first.",
                access.district_id,
                seen[access.district_id].source,
                access.source,
            )
            continue
        seen[access.district_id] = access
    return list(seen.values())
