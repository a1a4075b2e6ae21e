"""The Clever-facing endpoints: Data API v3.1, Events API and ``/oauth/tokens``.

Pure request -> :class:`Response` logic; authentication, rate limiting and fault injection
are sequenced by the HTTP layer, which calls :meth:`CleverApi.authenticate` first.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from typing import Any

from .dataset import District
from .jsonutil import dumps, dumps_unsorted
from .paging import Query, page_links, parse_page_params, render_page, select_page
from .prefetch import Prefetcher
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
        return f"district-app:{district.id}", district

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
        if len(parts) == 1 and parts[0] == "events":
            return self._event_list(path, raw_query, query, district)
        if len(parts) == 2 and parts[0] == "events":
            return self._event(district, parts[1])
        if len(parts) == 1 and parts[0] in RECORD_TYPES:
            return self._list(parts[0], path, raw_query, query, district)
        if len(parts) == 2 and parts[0] in RECORD_TYPES:
            return self._one(parts[0], parts[1], district)
        raise ApiError(404, f"no such endpoint: {path}")

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
