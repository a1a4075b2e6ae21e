"""The ``/_sandbox/...`` control endpoints: test hooks over HTTP, no authentication.

They exist so that a process that cannot import the sandbox (Meltano runs the tap in a
subprocess; a shell script drives a benchmark) can steer it. Each maps one-to-one onto a
:class:`~clever_sandbox.sandbox.Sandbox` method; the request and response shapes are in
``README.md``.
"""

from __future__ import annotations

from typing import Any

from .changes import ChangeError
from .faults import FaultRule
from .jsonutil import loads
from .paging import Query
from .responses import ApiError, Response, json_response
from .sandbox import Sandbox

PREFIX = "/_sandbox"


class ControlApi:
    def __init__(self, sandbox: Sandbox, base_url: str | None = None) -> None:
        self.sandbox = sandbox
        self.base_url = base_url

    def handle(self, method: str, path: str, query: Query, body: bytes) -> Response:
        route = path[len(PREFIX) :].rstrip("/")
        try:
            payload: dict[str, Any] = loads(body) if body.strip() else {}
        except ValueError:
            raise ApiError(400, "request body must be JSON") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "request body must be a JSON object")
        try:
            return self._dispatch(method, route, query, payload)
        except ChangeError as exc:
            raise ApiError(400, str(exc)) from None
        except KeyError as exc:
            raise ApiError(404, str(exc.args[0]) if exc.args else "not found") from None
        except (TypeError, ValueError) as exc:
            raise ApiError(400, str(exc)) from None

    def _dispatch(self, method: str, route: str, query: Query, p: dict[str, Any]) -> Response:
        sb = self.sandbox
        if method == "GET" and route == "/info":
            return json_response(200, sb.info(self.base_url))
        if method == "POST" and route == "/changes":
            ops = p.get("ops") or []
            if not isinstance(ops, list):
                raise ApiError(400, "ops must be a list")
            events = sb.apply_changes(ops)
            if p.get("random"):
                events += sb.random_changes(int(p["random"]), p.get("seed"), p.get("district"))
            return json_response(200, {"events": events, "count": len(events)})
        if route == "/faults":
            if method == "POST":
                if p.get("clear"):
                    sb.clear_faults()
                for rule in p.get("add") or []:
                    sb.add_fault(**rule)
                sb.configure_faults(
                    p.get("fault_rate"),
                    p.get("fault_seed"),
                    p.get("fault_statuses"),
                    p.get("latency_ms"),
                )
            return json_response(200, sb.faults.state())
        if method == "POST" and route == "/clock":
            now = sb.advance_clock(float(p.get("seconds", 0)), float(p.get("days", 0)))
            return json_response(200, {"now": now})
        if method == "POST" and route == "/expire-events":
            dropped = sb.expire_events(
                p.get("older_than_days"), p.get("before_id"), p.get("district")
            )
            return json_response(200, {"expired": dropped})
        if method == "POST" and route == "/silent-remove":
            ids = p.get("ids") or ([p["id"]] if "id" in p else [])
            return json_response(200, {"removed": sb.silent_remove(list(ids))})
        if method == "POST" and route == "/rate-limit":
            return json_response(200, self._rate_limit(p))
        if method == "POST" and route == "/links":
            sb.bare_next_links = bool(p.get("bare_next_links", False))
            return json_response(200, {"bare_next_links": sb.bare_next_links})
        if method == "POST" and route == "/district-mode":
            sb.set_district_mode(str(p.get("district")), str(p.get("mode")))
            return json_response(200, {"district": p["district"], "mode": p["mode"]})
        if method == "POST" and route == "/events-paging":
            sb.set_events_ignore_ending_before(bool(p.get("ignore_ending_before", False)))
            return json_response(200, {"ignore_ending_before": sb.events_ignore_ending_before})
        if method == "GET" and route.startswith("/records/"):
            record_type = route[len("/records/") :]
            district = query.get("district", [None])[-1]
            return json_response(200, {"data": sb.records(record_type, district)})
        if method == "GET" and route == "/events":
            district = query.get("district", [None])[-1]
            return json_response(200, {"data": sb.events(district)})
        raise ApiError(404, f"no such sandbox endpoint: {method} {PREFIX}{route}")

    def _rate_limit(self, p: dict[str, Any]) -> dict[str, Any]:
        """New quota/window (which resets every counter), then requests already spent."""
        sb = self.sandbox
        if p.get("limit") is not None or p.get("window") is not None:
            sb.set_rate_limit(p.get("limit"), p.get("window"))
        out: dict[str, Any] = {"limit": sb.limiter.limit, "window": sb.limiter.window}
        spend = p.get("spend")
        if spend is not None:
            if not isinstance(spend, dict):
                raise ApiError(400, "spend must map district ids to request counts")
            out["remaining"] = {
                district: sb.spend_rate_limit(district, int(n)) for district, n in spend.items()
            }
        return out


__all__ = ["ControlApi", "FaultRule"]
