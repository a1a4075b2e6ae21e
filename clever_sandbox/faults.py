"""Fault injection: the failures a robust Clever client must survive.

Rules are matched against the request path (with its query string) by regular expression.
A rule lets ``after`` matching requests through, then fires ``times`` times (``None`` =
forever). Besides rules there is a probabilistic fault rate with its own seeded RNG (so a run
is reproducible for a given request order) and a fixed latency added to every API request.

Kinds:

* ``status``: answer ``status`` (429, 500, 502, 503, ...) with a JSON message; a 429 has an
  empty body and ``X-RateLimit-Reset`` ``reset_seconds`` ahead, like Clever's own 429.
* ``drop``: close the connection without any response.
* ``html``: 200 with an HTML body (a proxy error page).
* ``no_data``: 200 with JSON that lacks ``data``.
* ``truncated``: 200 whose JSON body is cut in half (Content-Length matches the cut body).
* ``short_body``: Content-Length of the full body, half of it sent, then the socket closes.
* ``latency``: delay this request by ``latency_ms`` and then serve it normally.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "drop", "html", "no_data", "truncated", "short_body", "latency")


@dataclass
class FaultRule:
    """One injected failure pattern; see the module docstring for the kinds."""

    kind: str = "status"
    status: int = 500
    path: str = ""
    times: int | None = 1
    after: int = 0
    reset_seconds: int = 1
    latency_ms: float = 0.0
    id: int = 0
    seen: int = 0
    fired: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        self._regex = re.compile(self.path) if self.path else None

    def matches(self, path: str) -> bool:
        return self._regex is None or self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_regex", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        allowed = {"kind", "status", "path", "times", "after", "reset_seconds", "latency_ms"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


class FaultInjector:
    """Decides, per API request, whether and how to misbehave. Thread-safe."""

    def __init__(
        self,
        rate: float = 0.0,
        seed: int = 0,
        statuses: tuple[int, ...] = (500, 502, 503),
        latency_ms: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.rate = rate
        self.statuses = tuple(statuses) or (500,)
        self.latency_ms = latency_ms
        self._rng = random.Random(seed)
        self._seed = seed
        self._next_id = 1
        self.injected = 0

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def configure(
        self,
        rate: float | None = None,
        seed: int | None = None,
        statuses: list[int] | None = None,
        latency_ms: float | None = None,
    ) -> None:
        with self._lock:
            if rate is not None:
                self.rate = max(0.0, min(1.0, float(rate)))
            if seed is not None:
                self._seed = int(seed)
                self._rng = random.Random(self._seed)
            if statuses:
                self.statuses = tuple(int(s) for s in statuses)
            if latency_ms is not None:
                self.latency_ms = max(0.0, float(latency_ms))

    def decide(self, path: str) -> FaultRule | None:
        """The fault to apply to this request, if any (rules first, then the random rate)."""
        with self._lock:
            for rule in self.rules:
                if rule.exhausted or not rule.matches(path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                rule.fired += 1
                self.injected += 1
                return rule
            if self.rate > 0 and self._rng.random() < self.rate:
                self.injected += 1
                status = self.statuses[int(self._rng.random() * len(self.statuses))]
                return FaultRule(kind="drop" if status == 0 else "status", status=status)
        return None

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [rule.to_dict() for rule in self.rules],
                "fault_rate": self.rate,
                "fault_seed": self._seed,
                "fault_statuses": list(self.statuses),
                "latency_ms": self.latency_ms,
                "injected": self.injected,
            }
