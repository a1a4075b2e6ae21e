"""The Clever-facing endpoints: Data API v3.1, Events API and ``/oauth/tokens``.

Pure request -> :class:`Response` logic; authentication, rate limiting and fault injection
are sequenced by the HTTP layer, which calls :meth:`CleverApi.authenticate` first.

What a district's token may read depends on the district's mode (``config.DISTRICT_MODES``):
Clever serves events only to Secure Sync districts of applications that turned events on, and
a district without Secure Sync lets a district-app token read ``/districts`` alone. Clever
documents that restriction but not the status; the sandbox answers 403 with a message (and
404 for the events of a district whose events are off, as the Events API spec lists).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
from typing import Any

from .config import EVENTS_OFF, NO_SECURE_SYNC
from .dataset import District
from .jsonutil import dumps, dumps_unsorted
from .paging import Query, page_links, parse_page_params, render_page, select_page
from .prefetch import Prefetcher
from .ratelimit import district_bucket
from .responses import ApiError, Response
from .sandbox import Sandbox
from .schema import RECORD_TYPES, USER_ROLES

PREFIX = "/v3.1"


class CleverApi:
    """Routes Clever API requests against a :class:`Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.prefetcher = Prefetcher(sandbox.dataset.lock)

    # -- auth -------------------------------------------------------------------------------
    def authenticate(self, path: str, authorization: str | None) -> tuple[str, District | None]:
        """Return ``(rate-limit bucket, district)``; district is None for ``/oauth/tokens``."""
        ds = self.sandbox.dataset
        if path == "/oauth/tokens":
            scheme, _, value = (authorization or "").partition(" ")
            if scheme.lower() != "basic":
                raise ApiError(401, "Basic authentication with client_id:client_secret required")
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(401, "malformed Basic credentials") from None
            client_id, _, secret = decoded.partition(":")
            if client_id != ds.client_id or secret != ds.client_secret:
                raise ApiError(401, "invalid client credentials")
            return f"oauth:{client_id}", None
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "missing bearer token")
        if token.startswith("il"):
            raise ApiError(401, "Instant Login tokens cannot access district data")
        district = ds.by_token.get(token)
        if district is None:
            raise ApiError(401, "invalid bearer token")
        return district_bucket(district.id), district

    # -- routing ----------------------------------------------------------------------------
    def handle(
        self, path: str, raw_query: str, query: Query, district: District | None
    ) -> Response:
        if path == "/oauth/tokens":
            return self._tokens(query)
        assert district is not None
        if not path.startswith(PREFIX + "/"):
            raise ApiError(404, f"no such endpoint: {path}")
        parts = path[len(PREFIX) + 1 :].split("/")
        if parts and parts[-1] == "":
            parts.pop()
        if len(parts) not in (1, 2) or parts[0] not in (*RECORD_TYPES, "events"):
            raise ApiError(404, f"no such endpoint: {path}")
        self._check_access(district, parts[0])
        if parts == ["events"]:
            return self._event_list(path, raw_query, query, district)
        if parts[0] == "events":
            return self._event(district, parts[1])
        if len(parts) == 1:
            return self._list(parts[0], path, raw_query, query, district)
        return self._one(parts[0], parts[1], district)

    @staticmethod
    def _check_access(district: District, endpoint: str) -> None:
        """Refuse what the district's mode does not let its token read."""
        if district.mode == NO_SECURE_SYNC and endpoint != "districts":
            raise ApiError(
                403,
                f"district {district.id} does not use Secure Sync: a district-app token can "
                "only access /districts",
            )
        if district.mode == EVENTS_OFF and endpoint == "events":
            raise ApiError(
                404, f"events are not enabled for this application in district {district.id}"
            )

    def _tokens(self, query: Query) -> Response:
        owner_type = query.get("owner_type", ["district"])[-1]
        if owner_type != "district":
            raise ApiError(400, "owner_type must be 'district'")
        ds = self.sandbox.dataset
        payload = {
            "data": ds.token_records,
            "links": [{"rel": "self", "uri": "/oauth/tokens?owner_type=district"}],
        }
        return Response(200, dumps(payload))

    def _list(
        self, record_type: str, path: str, raw_query: str, query: Query, district: District
    ) -> Response:
        config = self.sandbox.config
        params = parse_page_params(query, config.default_limit, config.max_limit)
        coll = district.collections[record_type]
        ids = coll.ids
        filters: list[tuple[str, str]] = []
        if record_type == "users" and "role" in query:
            role = query["role"][-1]
            if role not in USER_ROLES:
                raise ApiError(400, f"role must be one of {', '.join(USER_ROLES)}")
            ids = coll.role_ids.get(role, [])
            filters.append(("role", role))
        with self.sandbox.dataset.lock:
            page = select_page(ids, params)
            items = coll.items(page)
            upcoming: list[str] = []
            if len(page) == params.limit and not params.ending_before:
                at = bisect.bisect_right(ids, page[-1])
                upcoming = ids[at : at + params.limit]
        self.prefetcher.request(coll, upcoming)
        links = page_links(path, raw_query, params, page, filters, self.sandbox.bare_next_links)
        return Response(200, render_page(items, links))

    def _one(self, record_type: str, oid: str, district: District) -> Response:
        with self.sandbox.dataset.lock:
            raw = district.collections[record_type].record_bytes(oid)
        if raw is None:
            raise ApiError(404, f"{record_type} {oid} not found")
        links = [{"rel": "self", "uri": f"{PREFIX}/{record_type}/{oid}"}]
        return Response(200, b'{"data":' + raw + b',"links":' + dumps_unsorted(links) + b"}")

    def _event_list(self, path: str, raw_query: str, query: Query, district: District) -> Response:
        config = self.sandbox.config
        params = parse_page_params(query, config.default_limit, config.max_limit)
        if self.sandbox.events_ignore_ending_before:
            params = dataclasses.replace(params, ending_before=None)
        record_types = query.get("record_type", [])
        for record_type in record_types:
            if record_type not in RECORD_TYPES:
                raise ApiError(400, f"unknown record_type {record_type!r}")
        school = query.get("school", [None])[-1]
        filters: list[tuple[str, str]] = [("record_type", t) for t in record_types]
        if school:
            filters.append(("school", school))
        with self.sandbox.dataset.lock:
            ids = district.events.select(record_types, school)
            page = select_page(ids, params)
            items = district.events.items(page)
        links = page_links(path, raw_query, params, page, filters, self.sandbox.bare_next_links)
        return Response(200, render_page(items, links))

    def _event(self, district: District, event_id: str) -> Response:
        with self.sandbox.dataset.lock:
            stored = district.events.get(event_id)
        if stored is None:
            raise ApiError(404, f"event {event_id} not found")
        body: dict[str, Any] = {
            "data": stored.event(),
            "links": [{"rel": "self", "uri": f"{PREFIX}/events/{event_id}"}],
        }
        return Response(200, dumps_unsorted(body))
