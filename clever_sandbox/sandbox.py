"""The sandbox as one object: data, change engine, faults and rate limits, no HTTP.

:class:`Sandbox` is what both the HTTP control API (``/_sandbox/...``) and the in-process
:class:`~clever_sandbox.server.SandboxServer` call, so the two surfaces cannot diverge.
"""

from __future__ import annotations

from typing import Any

from .changes import ChangeEngine, ChangeError
from .config import SandboxConfig
from .dataset import Dataset, District
from .faults import FaultInjector, FaultRule
from .ratelimit import RateLimiter, district_bucket
from .schema import RECORD_TYPES


class Sandbox:
    """Synthetic Clever data plus the knobs tests turn."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.dataset = Dataset(self.config)
        self.engine = ChangeEngine(self.dataset)
        self.faults = FaultInjector(
            rate=self.config.fault_rate,
            seed=self.config.fault_seed,
            statuses=self.config.fault_statuses,
            latency_ms=self.config.latency_ms,
        )
        for rule in self.config.fault_rules:
            self.faults.add(FaultRule.from_dict(dict(rule)))
        self.limiter = RateLimiter(self.config.rate_limit, self.config.rate_window)
        self.bare_next_links = self.config.bare_next_links
        self.events_ignore_ending_before = self.config.events_ignore_ending_before
        if self.config.pregenerate:
            self.dataset.pregenerate()
        if self.config.initial_events > 0:
            for district in self.dataset.districts:
                self.engine.random_batch(
                    self.config.initial_events, seed=0, district_id=district.id
                )

    # -- identity ---------------------------------------------------------------------------
    @property
    def district_ids(self) -> list[str]:
        return [d.id for d in self.dataset.districts]

    @property
    def district_tokens(self) -> list[str]:
        return [d.token for d in self.dataset.districts]

    @property
    def client_id(self) -> str:
        return self.dataset.client_id

    @property
    def client_secret(self) -> str:
        return self.dataset.client_secret

    def info(self, base_url: str | None = None) -> dict[str, Any]:
        """Everything a client needs to connect, plus live counts."""
        ds = self.dataset
        with ds.lock:
            return {
                "base_url": base_url,
                "api_prefix": "/v3.1",
                "client_id": ds.client_id,
                "client_secret": ds.client_secret,
                "clock": ds.now_iso(),
                "districts": [
                    {
                        "id": d.id,
                        "name": d.name,
                        "token": d.token,
                        "mode": d.mode,
                        "counts": d.counts(),
                        "roles": {
                            r: len(ids)
                            for r, ids in sorted(d.collections["users"].role_ids.items())
                        },
                        "events": len(d.events),
                        "last_event_id": d.events.ids[-1] if d.events.ids else None,
                    }
                    for d in ds.districts
                ],
                "rate_limit": {"limit": self.limiter.limit, "window": self.limiter.window},
                "bare_next_links": self.bare_next_links,
                "events_ignore_ending_before": self.events_ignore_ending_before,
                "config": self.config.to_dict(),
            }

    # -- changes ----------------------------------------------------------------------------
    def apply_changes(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply scripted operations; returns the events appended (in feed order)."""
        return self.engine.apply(ops)

    def random_changes(
        self, n: int, seed: int | None = None, district_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Apply ``n`` seeded random operations; returns the events appended."""
        return self.engine.random_batch(n, seed=seed, district_id=district_id)

    def silent_remove(self, ids: list[str]) -> list[str]:
        """Remove records from the Data API without any event (unsharing); returns the ids."""
        self.engine.apply([{"op": "silent_remove", "id": oid} for oid in ids])
        return list(ids)

    def advance_clock(self, seconds: float = 0, days: float = 0) -> str:
        """Move the sandbox clock forward; returns the new time (ISO 8601)."""
        with self.dataset.lock:
            self.dataset.advance(int(seconds + days * 86400))
            return self.dataset.now_iso()

    def expire_events(
        self,
        older_than_days: float | None = None,
        before_id: str | None = None,
        district_id: str | None = None,
    ) -> int:
        """Drop events older than N days (by the sandbox clock) or below an id; returns count."""
        ds = self.dataset
        with ds.lock:
            districts = [ds.district_of(district_id)] if district_id else ds.districts
            dropped = 0
            for district in districts:
                if older_than_days is not None:
                    cutoff = ds.now - int(older_than_days * 86400)
                    dropped += district.events.expire_older_than(cutoff)
                if before_id is not None:
                    dropped += district.events.expire_before(before_id)
            return dropped

    # -- faults and limits ------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a :class:`~clever_sandbox.faults.FaultRule` from keyword fields; returns it."""
        return self.faults.add(FaultRule.from_dict(rule)).to_dict()

    def clear_faults(self) -> None:
        self.faults.clear()

    def configure_faults(
        self,
        fault_rate: float | None = None,
        fault_seed: int | None = None,
        fault_statuses: list[int] | None = None,
        latency_ms: float | None = None,
    ) -> dict[str, Any]:
        self.faults.configure(fault_rate, fault_seed, fault_statuses, latency_ms)
        return self.faults.state()

    def set_rate_limit(self, limit: int | None = None, window: float | None = None) -> None:
        """Change the per-token quota and/or window length; resets all counters."""
        self.limiter.configure(limit, window)

    def spend_rate_limit(self, district_id: str, requests: int) -> int:
        """Use up ``requests`` of the district token's current window (another application
        sharing the token); returns the requests left in the window."""
        district = self.dataset.district_of(district_id)
        return self.limiter.spend(district_bucket(district.id), requests).remaining

    # -- server behaviour -------------------------------------------------------------------
    def set_district_mode(self, district_id: str, mode: str) -> None:
        """Switch what a district's token may read (``events_on``, ``events_off``,
        ``no_secure_sync``). Changes made while events are off append no events."""
        with self.dataset.lock:
            self.dataset.district_of(district_id).set_mode(mode)

    def set_events_ignore_ending_before(self, ignore: bool) -> None:
        """Make ``/events`` ignore ``ending_before`` (and answer oldest first) or honour it."""
        self.events_ignore_ending_before = ignore

    # -- state for assertions ---------------------------------------------------------------
    def records(self, record_type: str, district_id: str | None = None) -> list[dict[str, Any]]:
        """Current full state of one record type, ascending by id within each district.

        ``district_id=None`` means every district, concatenated in district order.
        """
        if record_type not in RECORD_TYPES:
            raise ChangeError(f"unknown record type {record_type!r}")
        with self.dataset.lock:
            districts = self._districts(district_id)
            return [r for d in districts for r in d.collections[record_type].records()]

    def record(self, record_type: str, oid: str) -> dict[str, Any] | None:
        """One live record by id (any district), or None."""
        with self.dataset.lock:
            found = self.dataset.locate(oid)
            if found is None or found[1].record_type != record_type:
                return None
            return found[1].get(oid)

    def events(self, district_id: str | None = None) -> list[dict[str, Any]]:
        """A district's current event feed, oldest first (None: every district's, in order)."""
        with self.dataset.lock:
            return [e for d in self._districts(district_id) for e in d.events.all()]

    def _districts(self, district_id: str | None) -> list[District]:
        if district_id is None:
            return list(self.dataset.districts)
        return [self.dataset.district_of(district_id)]
