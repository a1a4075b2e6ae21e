"""Which districts to sync, and the bearer token of each.

Three ways in, combinable: one `auth_token`, a list of `district_tokens`, or the application's
`client_id` + `client_secret`, with which the tap asks Clever's `/oauth/tokens` for every
district token the application holds (a partner app with 500 districts configures two secrets,
not 500 tokens). A configured token does not say which district it belongs to, so the tap asks
`/v3.1/districts` once per token (in parallel): state is keyed on the district id, which never
changes, rather than on a token or its position in a list, which do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import msgspec

from tap_clever.client import CleverClient
from tap_clever.errors import (
    CleverAPIError,
    CleverError,
    CleverResponseError,
    InstantLoginTokenError,
)
from tap_clever.parallel import map_in_parallel

logger = logging.getLogger(__name__)

# Instant Login tokens start with "il"; district-app tokens are hexadecimal, so they never do.
_INSTANT_LOGIN_PREFIX = "il"
_DISCOVERY = "Token discovery with client_id/client_secret"


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


def token_list(value: Any) -> list[Any] | None:
    """`district_tokens` as a list: given as one, or as the text of a JSON list (how Meltano
    passes it, as its setting is text: Meltano prints an array setting it cannot parse, which
    here would be a token). None if it is neither."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, list) else None


def configured_tokens(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The tokens set in `auth_token` and `district_tokens`, each with the setting it came from."""
    tokens: list[tuple[str, str]] = []
    if config.get("auth_token"):
        tokens.append(("auth_token", config["auth_token"]))
    for index, token in enumerate(token_list(config.get("district_tokens")) or []):
        if token:
            tokens.append((f"district_tokens[{index}]", token))
    return tokens


def reject_instant_login_tokens(config: Mapping[str, Any]) -> None:
    """Fail before any request if a configured token is an Instant Login token."""
    for source, token in configured_tokens(config):
        if token.startswith(_INSTANT_LOGIN_PREFIX):
            raise InstantLoginTokenError(source)


def discover_district_tokens(
    client: CleverClient, oauth_url: str, client_id: str, client_secret: str
) -> list[DistrictAccess]:
    """Every district token the application holds, from `GET /oauth/tokens?owner_type=district`."""
    found: list[DistrictAccess] = []
    url: str | None = urljoin(oauth_url, "/oauth/tokens?owner_type=district")
    while url:
        try:
            response = client.get(
                url, label=_DISCOVERY, budget=f"oauth:{client_id}", auth=(client_id, client_secret)
            )
        except CleverAPIError as exc:
            if exc.status == 401:
                msg = (
                    f"{_DISCOVERY} (GET /oauth/tokens) failed with HTTP 401: Clever rejected "
                    "client_id/client_secret. Copy both from the application's settings in the "
                    "Clever dashboard (TAP_CLEVER_CLIENT_ID, TAP_CLEVER_CLIENT_SECRET), and "
                    "check oauth_url."
                )
                raise CleverError(msg) from None
            raise
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            where = f"{_DISCOVERY}: GET /oauth/tokens"
            raise CleverResponseError(where=where, problem="it has no `data` list")
        for item in body["data"]:
            if not isinstance(item, dict):
                continue
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
    client: CleverClient, tokens: Sequence[tuple[str, str]], *, workers: int
) -> tuple[list[DistrictAccess], list[UnresolvedToken]]:
    """Read the district of each configured token from `GET /v3.1/districts`, in parallel."""

    def lookup(source_and_token: tuple[str, str]) -> DistrictAccess:
        source, token = source_and_token
        label = f"Reading the district of the token in `{source}`"
        page = client.get_page(token, "/v3.1/districts", {}, label=label)
        records = page.records()
        if len(records) != 1:
            problem = f"it lists {len(records)} districts where a district token sees one"
            raise CleverResponseError(where=page.where, problem=problem)
        record = records[0]
        return DistrictAccess(
            district_id=record["id"], token=token, source=source, name=record.get("name")
        )

    resolved: list[DistrictAccess] = []
    unresolved: list[UnresolvedToken] = []
    for (source, _token), outcome in map_in_parallel(
        lookup, list(tokens), workers=workers, name="district-lookup"
    ):
        if isinstance(outcome, CleverError):
            unresolved.append(UnresolvedToken(source=source, error=outcome))
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            resolved.append(outcome)
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
