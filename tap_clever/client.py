"""The base stream: Clever's URLs, per-district auth, HATEOAS paging, retries and errors.

Every stream reads one Clever list endpoint for each district in turn. The stream's partitions
are the districts (`{"district": <id>}`), so the SDK keeps state per district and adds the
district id to records that lack it (events).
"""

from __future__ import annotations

import gc
import random
import typing as t
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from urllib.parse import ParseResult, parse_qsl, urlsplit

import msgspec
import requests
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseHATEOASPaginator
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import RESTStream
from singer_sdk.streams.rest import HTTPRequest, PageContext

from tap_clever.errors import (
    CleverAPIError,
    CleverConnectionError,
    CleverError,
    CleverResponseError,
)
from tap_clever.ratelimit import seconds_until_reset

if t.TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

    from tap_clever.tap import TapClever

Page = dict[str, t.Any]

_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
_page_decoder = msgspec.json.Decoder()


class CleverNextLinkPaginator(BaseHATEOASPaginator):
    """Follows `links[rel=next]` until a page has none (or has no records)."""

    def __init__(self, decode: Callable[[requests.Response], Page]) -> None:
        super().__init__()
        self._decode = decode

    def get_next_url(self, response: requests.Response) -> str | None:
        for link in self._decode(response).get("links") or []:
            if isinstance(link, dict) and link.get("rel") == "next" and link.get("uri"):
                return str(link["uri"])
        return None


class CleverStream(RESTStream[ParseResult | None]):
    """A Clever v3.1 list endpoint, read for every district."""

    primary_keys: t.ClassVar[list[str]] = ["id"]
    # Values pass through as Clever sent them: nothing to coerce, and skipping the SDK's
    # per-record schema walk is most of the tap's throughput.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: Attempts per request before giving up on 429s, 5xx and connection errors.
    max_attempts: int = 8
    #: First wait of the exponential backoff for 5xx and connection errors (doubles each time).
    retry_base_seconds: float = 1.0
    #: Longest wait between two attempts of the exponential backoff.
    retry_max_seconds: float = 60.0

    _tap: TapClever

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._district: str | None = None
        self._decoded: tuple[requests.Response, Page] | None = None

    # --- where to ask -------------------------------------------------------------------------

    @property
    def url_base(self) -> str:
        return f"{self._tap.api_base_url}/v3.1"

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.syncable_district_ids()]

    @cached_property
    def page_size(self) -> int:
        return int(self.config["page_size"])

    def filter_params(self) -> dict[str, t.Any]:
        """Query parameters that select what the stream reads (kept on every page)."""
        return {}

    def get_url_params(
        self, context: Context | None, next_page_token: ParseResult | None
    ) -> dict[str, t.Any]:
        return {"limit": self.page_size, **self.filter_params()}

    def get_http_request(self, *, page: PageContext[ParseResult | None]) -> HTTPRequest:
        request = super().get_http_request(page=page)
        district_id = (page.stream_context or {})["district"]
        request.headers["Authorization"] = f"Bearer {self._tap.run.token_for(district_id)}"
        next_link = page.next_page_token
        if next_link is not None:
            # Follow the link's path and query, but always against the configured host, so a
            # token is never sent elsewhere. Clever's documented links carry only
            # `starting_after`: keep our limit and filters, or paging falls back to 100 a page.
            request.url = f"{self._tap.api_base_url}{next_link.path}"
            link_params: dict[str, t.Any] = {}
            for key, value in parse_qsl(next_link.query, keep_blank_values=True):
                link_params.setdefault(key, []).append(value)
            request.params = {
                key: values[0] if len(values) == 1 else values
                for key, values in link_params.items()
            }
            for key, value in self.get_url_params(page.stream_context, None).items():
                request.params.setdefault(key, value)
        return request

    def fetch_page(self, district_id: str, params: dict[str, t.Any]) -> Page:
        """One page of this endpoint outside a sync (e.g. to probe the event feed), with the
        same auth, pacing, retries and checks as the sync itself."""
        self._district = district_id
        request = HTTPRequest(
            url=self.get_url({"district": district_id}),
            headers={
                **self.http_headers,
                "Authorization": f"Bearer {self._tap.run.token_for(district_id)}",
            },
            params=params,
        )
        prepared = self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
        )
        try:
            response = self.request_decorator(self._request)(prepared, {"district": district_id})
        except (RetriableAPIError, requests.RequestException) as exc:
            raise self._gave_up(exc) from None
        return self.decode_page(response)

    # --- what came back -----------------------------------------------------------------------

    def get_new_paginator(self) -> CleverNextLinkPaginator:
        return CleverNextLinkPaginator(self.decode_page)

    def decode_page(self, response: requests.Response) -> Page:
        """The page as JSON, checked for Clever's list shape (decoded once per response)."""
        if self._decoded is not None and self._decoded[0] is response:
            return self._decoded[1]
        where = self._where(response)
        try:
            with _gc_paused():
                page = _page_decoder.decode(response.content)
        except msgspec.DecodeError:
            raise CleverResponseError(where=where, problem="the body is not JSON") from None
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise CleverResponseError(where=where, problem="it has no `data` list")
        for item in page["data"]:
            record = item.get("data") if isinstance(item, dict) else None
            if not isinstance(record, dict) or not record.get("id"):
                raise CleverResponseError(
                    where=where, problem="an item of `data` has no `data` object with an `id`"
                )
        if not isinstance(page.get("links", []), list):
            raise CleverResponseError(where=where, problem="`links` is not a list")
        self._decoded = (response, page)
        return page

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        # The whole page is checked before its first record is yielded, so a malformed page
        # emits nothing and state never moves past the last complete page.
        for item in self.decode_page(response)["data"]:
            yield item["data"]

    def validate_response(self, response: requests.Response) -> None:
        self._tap.run.rate_limit_for(self._district).observe(response.headers)
        status = response.status_code
        if status < 400:
            return
        if status in _RETRIED_STATUSES:
            msg = f"{self._where(response)} answered HTTP {status}; retrying"
            raise RetriableAPIError(msg, response)
        raise CleverAPIError(where=self._where(response), status=status, detail=_message(response))

    # --- retrying -----------------------------------------------------------------------------

    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        def paced(*args: t.Any, **kwargs: t.Any) -> t.Any:
            waited = self._tap.run.rate_limit_for(self._district).pause_if_low()
            if waited:
                self.logger.info(
                    "%s: rate limit nearly used up; paused %.1f s for the reset.",
                    self._district_label(),
                    waited,
                )
            return func(*args, **kwargs)

        return super().request_decorator(paced)

    def backoff_wait_generator(self) -> Generator[float, t.Any, None]:
        def waits() -> Generator[float, t.Any, None]:
            attempt = 0
            exception = yield 0.0  # primed by backoff with send(None)
            while True:
                exception = yield self._retry_wait(exception, attempt)
                attempt += 1

        return waits()

    def _retry_wait(self, exception: BaseException, attempt: int) -> float:
        """Until the rate-limit reset for a 429; exponential for everything else."""
        response = getattr(exception, "response", None)
        if isinstance(response, requests.Response) and response.status_code == 429:
            reset_wait = seconds_until_reset(response.headers)
            if reset_wait is not None:
                return reset_wait
        return float(min(self.retry_base_seconds * 2**attempt, self.retry_max_seconds))

    def backoff_max_tries(self) -> int:
        return self.max_attempts

    def backoff_jitter(self, value: float) -> float:
        # A little jitter (at most 10%, at most a second) spreads the retries of runs that
        # share a token, without making a wait for the rate-limit reset fall short of it.
        return value + random.uniform(0.0, min(value * 0.1, 1.0))

    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        self.logger.warning(
            "%s: attempt %d failed (%s); retrying in %.1f s.",
            self._district_label(),
            details.get("tries", 0),
            exception if isinstance(exception, RetriableAPIError) else type(exception).__name__,
            details.get("wait") or 0.0,
        )

    # --- emitting ------------------------------------------------------------------------------

    @cached_property
    def _every_property_selected(self) -> bool:
        return all(self.mask.values())

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> Generator[RecordMessage, None, None]:
        # The SDK walks every record against the selection mask to drop deselected properties:
        # half the tap's CPU on nested user records. When nothing is deselected (the usual
        # catalog) the walk cannot change the record, so skip it; otherwise keep the SDK's path.
        if not self._every_property_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    # --- one district at a time ---------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        district_id = (context or {}).get("district")
        if district_id is None:
            return  # no district to read this run: the SDK syncs an empty context instead
        self._district = district_id
        try:
            yield from self.read_district(context)
        except CleverError as exc:
            self._fail_district(district_id, exc)
        except (RetriableAPIError, requests.RequestException) as exc:
            self._fail_district(district_id, self._gave_up(exc))

    def _gave_up(self, exc: Exception) -> CleverConnectionError:
        detail = str(exc) if isinstance(exc, RetriableAPIError) else type(exc).__name__
        return CleverConnectionError(
            f"District {self._district_label()}: {self.name} still failing after "
            f"{self.max_attempts} attempts ({detail}). Clever may be down "
            "(https://status.clever.com) or api_url unreachable; rerun later: state is "
            "kept up to the last complete page."
        )

    def _fail_district(self, district_id: str, error: CleverError) -> None:
        # Emit the state reached so far (the last complete page) before anything else: the
        # rerun then resumes there instead of re-reading what was already loaded.
        self._write_state_message()
        self._tap.run.district_failed(district_id, self.name, error)

    def read_district(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The records of one district; streams with several requests per district override."""
        yield from self.request_records(context)

    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        super().finalize_state_progress_markers(state)
        # The SDK calls this after each stream's sync: after the last one, failed districts
        # (the others were synced) turn into a failed run.
        self._tap.run.raise_if_finished_with_failures(self)

    # --- messages -----------------------------------------------------------------------------

    def _district_label(self) -> str:
        return self._tap.run.district_label(self._district) if self._district else "(no district)"

    def _where(self, response: requests.Response) -> str:
        parts = urlsplit(response.url)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        return f"District {self._district_label()}: GET {target}"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page is decoded.

    A page of 10000 users is millions of new dicts and strings; each batch of them triggers a
    collection that walks the whole heap, which made decoding 4-5 times slower. The records hold
    no reference cycles, so reference counting frees them; nothing is lost by pausing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:500]
    return ""
