"""Clever's range-based paging: query parameters, page selection and the links.

Semantics (see ``README.md`` of the sandbox for the quirks):

* ``limit`` defaults to 100; a non-integer or a value below 1 is a 400, above 10000 a 413.
* ``starting_after=X`` returns the first ``limit`` ids greater than X; ``ending_before=X`` the
  ``limit`` ids just below X, still in ascending order. X need not exist: they are range
  conditions on the id string, which is why ``ending_before=last`` reads the newest events.
* ``next`` is present when a page is full, so an exactly full last page is followed by an
  empty page without ``next``; an ``ending_before`` page always has ``next`` and a
  ``starting_after`` page always has ``prev``, even when nothing is there to follow.
* Links are host-relative, carry the version and, unless ``bare`` is set, repeat ``limit`` and
  the filters of the request; bare links hold only the cursor, as Clever's documented examples.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .ids import id_after, id_before
from .jsonutil import dumps_unsorted
from .responses import ApiError

Query = dict[str, list[str]]


@dataclass(frozen=True)
class PageParams:
    limit: int
    limit_given: bool
    starting_after: str | None
    ending_before: str | None


def parse_page_params(query: Query, default_limit: int, max_limit: int) -> PageParams:
    """Validate ``limit`` and read the cursors; raises :class:`ApiError` on bad input."""
    raw = query.get("limit", [None])[-1]
    if raw is None:
        limit, given = default_limit, False
    else:
        try:
            limit = int(raw)
        except ValueError:
            raise ApiError(400, f"limit must be an integer, got {raw!r}") from None
        if limit < 1:
            raise ApiError(400, f"limit must be at least 1, got {limit}")
        if limit > max_limit:
            raise ApiError(413, f"limit must not exceed {max_limit}")
        given = True
    after = query.get("starting_after", [None])[-1] or None
    before = query.get("ending_before", [None])[-1] or None
    return PageParams(limit, given, after, before)


def select_page(ids: list[str], params: PageParams) -> list[str]:
    """The ids of one page from a sorted list of live ids."""
    lo = bisect.bisect_right(ids, params.starting_after) if params.starting_after else 0
    hi = bisect.bisect_left(ids, params.ending_before) if params.ending_before else len(ids)
    if params.ending_before and not params.starting_after:
        lo = max(lo, hi - params.limit)
    return ids[lo : min(hi, lo + params.limit)]


def page_links(
    path: str,
    raw_query: str,
    params: PageParams,
    page: list[str],
    filters: list[tuple[str, str]],
    bare: bool,
) -> list[dict[str, Any]]:
    """``self``, ``next`` and ``prev`` links for a page, Clever's way."""

    def uri(cursor_name: str, cursor: str) -> str:
        pairs: list[tuple[str, str]] = []
        if not bare:
            if params.limit_given:
                pairs.append(("limit", str(params.limit)))
            pairs.extend(filters)
        pairs.append((cursor_name, cursor))
        return f"{path}?{urlencode(pairs)}"

    links: list[dict[str, Any]] = [
        {"rel": "self", "uri": f"{path}?{raw_query}" if raw_query else path}
    ]
    after, before = params.starting_after, params.ending_before
    full = len(page) == params.limit
    if before and not after:
        nxt = page[-1] if page else (id_before(before) or before)
        links.append({"rel": "next", "uri": uri("starting_after", nxt)})
        if full:
            links.append({"rel": "prev", "uri": uri("ending_before", page[0])})
        return links
    if full:
        links.append({"rel": "next", "uri": uri("starting_after", page[-1])})
    if after:
        prev = page[0] if page else (id_after(after) or after)
        links.append({"rel": "prev", "uri": uri("ending_before", prev)})
    return links


def render_page(items: list[bytes], links: list[dict[str, Any]]) -> bytes:
    """Join cached item bytes into a list response body without re-encoding them."""
    return b'{"data":[' + b",".join(items) + b'],"links":' + dumps_unsorted(links) + b"}"
