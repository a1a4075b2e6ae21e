"""HTTP to Clever: URLs, auth, paging, rate limits, retries and errors.

Every request the tap makes goes through `CleverClient`: the start-up calls (token discovery,
each token's district, the event-feed probes) as much as the pages of every stream, so all of
them are paced by the token's rate limit, wait out a 429 until the window resets, retry
Clever's transient failures and fail with a message that names the district and the endpoint.

The client is shared by the threads that read districts in parallel: it keeps no per-request
state, and its connection pool and rate-limit trackers are thread-safe.
"""

from __future__ import annotations

import gc
import logging
import random
import typing as t
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from threading import Lock
from urllib.parse import parse_qsl, urlencode, urlsplit

import backoff
import msgspec
import requests
from requests.adapters import HTTPAdapter
from singer_sdk import metrics

from tap_clever import lenient_json
from tap_clever.errors import (
    CleverAPIError,
    CleverConnectionError,
    CleverResponseError,
)
from tap_clever.parallel import PrioritySlots, ReadGate
from tap_clever.ratelimit import RateLimitTracker, seconds_until_reset

if t.TYPE_CHECKING:
    from backoff.types import Details

Params = Mapping[str, t.Any]

_TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
#: Wait after a 429 that says nothing about its window (Clever's always do).
DEFAULT_RATE_LIMIT_WAIT_SECONDS = 5.0


class _Link(msgspec.Struct):
    rel: str | None = None
    uri: str | None = None


class _ListShape(msgspec.Struct):
    """What paging needs of a list response; records stay unparsed (`Raw`) until consumed."""

    data: list[msgspec.Raw] | None = None
    links: list[_Link] | None = None


_shape_decoder = msgspec.json.Decoder(_ListShape)
_page_decoder = msgspec.json.Decoder()


@dataclass(frozen=True)
class Page:
    """One response of a Clever list endpoint, kept as its JSON bytes until it is consumed.

    The bytes are a fifth of the decoded records' size, so pages read ahead for other districts
    cost little memory; `records()` decodes and checks the whole page before its first record
    is used, so a malformed page emits nothing.
    """

    body: bytes
    where: str
    size: int
    next_link: str | None
    #: Values whose lone surrogates or invalid UTF-8 were replaced by U+FFFD to decode the page.
    repaired_values: int = 0

    def records(self) -> list[dict[str, t.Any]]:
        """The records of the page (`data[].data`), each checked to be an object with an id."""
        records = []
        for item in _page_decoder.decode(self.body)["data"]:
            record = item.get("data") if isinstance(item, dict) else None
            if not isinstance(record, dict) or not record.get("id"):
                raise CleverResponseError(
                    where=self.where,
                    problem="an item of `data` has no `data` object with an `id`",
                )
            records.append(record)
        return records


class RateLimited(Exception):
    """A 429: wait `wait_seconds` for the window to reset, however often it comes."""

    def __init__(self, where: str, wait_seconds: float) -> None:
        super().__init__(f"{where} answered HTTP 429")
        self.wait_seconds = wait_seconds


class TransientFailure(Exception):
    """A 5xx or a connection failure: retried with exponential backoff, a bounded number of
    times."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where} {problem}")
        self.where = where
        self.problem = problem


class CleverClient:
    """Sends GET requests to Clever and reads list endpoints page by page."""

    #: Attempts per request before giving up on 5xx and connection errors (429s never count).
    max_attempts: int = 8
    #: First wait of the exponential backoff for 5xx and connection errors (doubles each time).
    retry_base_seconds: float = 1.0
    #: Longest wait between two attempts of the exponential backoff.
    retry_max_seconds: float = 60.0
    #: Seconds to connect, and to wait for the next bytes of a response.
    timeout_seconds: float = 120.0

    def __init__(
        self,
        api_url: str,
        *,
        user_agent: str,
        max_in_flight: int,
        logger: logging.Logger,
        timeout_seconds: float | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        if timeout_seconds is not None:
            self.timeout_seconds = timeout_seconds
        self.logger = logger
        self._user_agent = user_agent
        self._max_in_flight = max_in_flight
        # Requests on the wire at once, whatever the number of threads: a thread waiting for its
        # token's rate-limit window, or to retry, holds no slot.
        self._in_flight = PrioritySlots(max_in_flight)
        self._metrics_logger = metrics.get_metrics_logger()
        self._rate_limits: dict[str, tuple[RateLimitTracker, PrioritySlots]] = {}
        self._rate_limits_lock = Lock()
        # A 429 waits for the reset as often as it comes: a budget spent by another application
        # sharing the token is normal. Other failures are retried a bounded number of times.
        retry_transient = backoff.on_exception(
            backoff.expo,
            TransientFailure,
            max_tries=lambda: self.max_attempts,
            factor=self.retry_base_seconds,
            max_value=self.retry_max_seconds,
            jitter=_small_jitter,
            on_backoff=self._log_retry,
            logger=None,
        )
        wait_for_reset = backoff.on_exception(
            backoff.runtime,
            RateLimited,
            value=lambda exc: exc.wait_seconds,
            jitter=None,
            on_backoff=self._log_rate_limited,
            logger=None,
        )
        self._send = wait_for_reset(retry_transient(self._send_once))

    @cached_property
    def session(self) -> requests.Session:
        # A connection per request in flight, reused from request to request.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self._max_in_flight)
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = self._user_agent
        return session

    # --- list endpoints -------------------------------------------------------------------------

    def pages(
        self, token: str, path: str, params: Params, *, label: str, gate: ReadGate | None = None
    ) -> Iterator[Page]:
        """Every page of a list endpoint, following `links[rel=next]` to the end.

        Links are followed on the configured host only, so a token is never sent elsewhere.
        Clever's documented links carry only `starting_after`: `params` (the limit and the
        filters) are kept on every page, or paging would fall back to 100 records a page.
        `gate` is asked right before each request whether the reader has room for the page.
        """
        query = dict(params)
        while True:
            page = self.get_page(token, path, query, label=label, gate=gate)
            yield page
            if page.next_link is None or page.size == 0:
                return
            path, query = _follow(page.next_link, params)

    def get_page(
        self, token: str, path: str, params: Params, *, label: str, gate: ReadGate | None = None
    ) -> Page:
        """One page of a list endpoint, checked to be a Clever list."""
        response = self.get(
            self.api_url + path,
            params=params,
            label=label,
            budget=token,
            headers={"Authorization": f"Bearer {token}"},
            gate=gate,
        )
        return _page(response, where=_where(label, response))

    # --- any endpoint -----------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Params | None = None,
        label: str,
        budget: str,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        gate: ReadGate | None = None,
    ) -> requests.Response:
        """GET `url`, paced by and retried within the rate limit of `budget` (the credential).

        Raises `CleverAPIError` for a status retrying will not fix and `CleverConnectionError`
        once transient failures outlast every attempt. `label` names the district (or the
        start-up step) in messages; credentials never appear in them.
        """
        try:
            response: requests.Response = self._send(
                url, params or {}, dict(headers or {}), auth, label, budget, gate
            )
        except TransientFailure as exc:
            msg = (
                f"{exc.where} {exc.problem}, on all {self.max_attempts} attempts. Clever may be "
                "down (https://status.clever.com) or the URL setting wrong or unreachable; rerun "
                "later: state is kept up to the last complete page."
            )
            raise CleverConnectionError(msg) from None
        return response

    def _send_once(
        self,
        url: str,
        params: Params,
        headers: dict[str, str],
        auth: tuple[str, str] | None,
        label: str,
        budget: str,
        gate: ReadGate | None,
    ) -> requests.Response:
        target = _target(url, params)
        tracker, turn = self._budget(budget)
        priority = gate.priority if gate is not None else 0
        while True:
            # One request per token at a time: the window each response reports is then exact,
            # and the streams of a district read at once do not race each other into 429s.
            with turn.held(priority):
                waited = tracker.pause_if_low()
                if waited:
                    self.logger.info(
                        "%s: rate limit nearly used up; paused %.1f s for the reset.", label, waited
                    )
                with self._in_flight.held(priority):
                    # Waiting for the window or a connection took time: is there still room for
                    # the page? If not, wait for it holding neither (the reader's own district
                    # may need them to make room).
                    if gate is None or gate.has_room():
                        response = self._request(url, params, headers, auth, label, target)
                        tracker.observe(response.headers)
                        break
            gate.wait()
        status = response.status_code
        self._log_request_metric(urlsplit(url).path, response)
        if status == 429:
            wait = seconds_until_reset(response.headers) or DEFAULT_RATE_LIMIT_WAIT_SECONDS
            raise RateLimited(f"{label}: GET {target}", wait)
        if status in _TRANSIENT_STATUSES:
            raise TransientFailure(f"{label}: GET {target}", f"answered HTTP {status}")
        if status >= 400:
            raise CleverAPIError(
                where=_where(label, response), status=status, detail=_message(response)
            )
        return response

    def _request(
        self,
        url: str,
        params: Params,
        headers: dict[str, str],
        auth: tuple[str, str] | None,
        label: str,
        target: str,
    ) -> requests.Response:
        try:
            return self.session.get(
                url, params=params, headers=headers, auth=auth, timeout=self.timeout_seconds
            )
        except requests.RequestException as exc:
            # The exception's text may carry the URL, never headers: no credential leaks here.
            problem = f"could not reach Clever ({type(exc).__name__})"
            raise TransientFailure(f"{label}: GET {target}", problem) from None

    def _log_request_metric(self, endpoint: str, response: requests.Response) -> None:
        # The SDK's own request metric, as its REST streams log it, for the same dashboards.
        status = response.status_code
        metrics.log(
            self._metrics_logger,
            metrics.Point(
                "timer",
                metric=metrics.Metric.HTTP_REQUEST_DURATION,
                value=response.elapsed.total_seconds(),
                tags={
                    metrics.Tag.ENDPOINT: endpoint,
                    metrics.Tag.HTTP_STATUS_CODE: status,
                    metrics.Tag.STATUS: (
                        metrics.Status.SUCCEEDED if status < 400 else metrics.Status.FAILED
                    ),
                },
            ),
        )

    def _budget(self, budget: str) -> tuple[RateLimitTracker, PrioritySlots]:
        """The rate-limit window of a credential, and its turn: one request at a time."""
        with self._rate_limits_lock:
            return self._rate_limits.setdefault(budget, (RateLimitTracker(), PrioritySlots(1)))

    def _log_retry(self, details: Details) -> None:
        self.logger.warning(
            "%s; attempt %d failed, retrying in %.1f s.",
            details.get("exception"),
            details.get("tries", 0),
            details.get("wait") or 0.0,
        )

    def _log_rate_limited(self, details: Details) -> None:
        self.logger.info(
            "%s (rate limit reached); waiting %.1f s for the window to reset.",
            details.get("exception"),
            details.get("wait") or 0.0,
        )


def _page(response: requests.Response, *, where: str) -> Page:
    body = response.content
    repaired = 0
    try:
        try:
            shape = _shape_decoder.decode(body)
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:
            # Not JSON as it stands: maybe a value a source system damaged (see lenient_json).
            body, repaired = lenient_json.repair(body)
            if not repaired:
                raise
            shape = _shape_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise CleverResponseError(where=where, problem=f"it is not a list ({exc})") from None
    except msgspec.DecodeError:
        raise CleverResponseError(where=where, problem="the body is not JSON") from None
    if shape.data is None:
        raise CleverResponseError(where=where, problem="it has no `data` list")
    next_link = next(
        (link.uri for link in shape.links or [] if link.rel == "next" and link.uri), None
    )
    return Page(
        body=body, where=where, size=len(shape.data), next_link=next_link, repaired_values=repaired
    )


def _follow(link: str, params: Params) -> tuple[str, dict[str, t.Any]]:
    """The path and query of a `next` link, with the request's own limit and filters kept."""
    parts = urlsplit(link)
    query: dict[str, t.Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    merged = {key: values[0] if len(values) == 1 else values for key, values in query.items()}
    for key, value in params.items():
        merged.setdefault(key, value)
    return parts.path, merged


def _target(url: str, params: Params) -> str:
    path = urlsplit(url).path
    query = urlencode(params, doseq=True)
    return f"{path}?{query}" if query else path


def _where(label: str, response: requests.Response) -> str:
    parts = urlsplit(response.url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return f"{label}: GET {target}"


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])[:500]
    return ""


def _small_jitter(value: float) -> float:
    # At most 10% (and a second) more: spreads the retries of runs sharing a token.
    return value + random.uniform(0.0, min(value * 0.1, 1.0))


def page_records(pages: Iterable[Page]) -> Iterator[dict[str, t.Any]]:
    """The records of each page in turn, each page decoded and checked whole first."""
    for page in pages:
        with _gc_paused():
            records = page.records()
            yield from records
            del records  # freed before the collector is back, so it has nothing to walk


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page's records are alive.

    A page of 10000 users is millions of new dicts and strings; each batch of them triggers a
    collection that walks the whole heap, which made decoding 4-5 times slower, and when the
    collector came back on it walked them all once more. The records hold no reference
    cycles, so reference counting frees them; nothing is lost by pausing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
