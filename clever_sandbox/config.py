"""Configuration of a sandbox run and the per-district size plan derived from it.

Everything that shapes the synthetic data lives in :class:`SandboxConfig`; two sandboxes built
from equal configs serve byte-identical responses. Server behaviour (rate limit, faults,
latency, link style) is configured here too so that the CLI, the HTTP control API and the
in-process API share one vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

USER_KINDS: tuple[str, ...] = (
    "student",
    "teacher",
    "teacher+district_admin",
    "staff",
    "staff+teacher",
    "staff+district_admin",
    "district_admin",
    "contact",
    "contact_v2",
)
"""What each generated user is. ``contact_v2`` is a contact served in the older v2 shape."""

EVENTS_ON = "events_on"
EVENTS_OFF = "events_off"
NO_SECURE_SYNC = "no_secure_sync"
DISTRICT_MODES: tuple[str, ...] = (EVENTS_ON, EVENTS_OFF, NO_SECURE_SYNC)
"""What a district's token may read. ``events_on``: everything. ``events_off``: a Secure Sync
district of an application that has not turned events on: no event feed. ``no_secure_sync``: a
district without Secure Sync: ``/districts`` only."""


def check_district_mode(mode: str) -> str:
    """``mode`` itself if it is one of :data:`DISTRICT_MODES`; a ValueError otherwise."""
    if mode not in DISTRICT_MODES:
        raise ValueError(f"district mode must be one of {DISTRICT_MODES}, got {mode!r}")
    return mode


KIND_ROLES: dict[str, tuple[str, ...]] = {
    "student": ("student",),
    "teacher": ("teacher",),
    "teacher+district_admin": ("teacher", "district_admin"),
    "staff": ("staff",),
    "staff+teacher": ("staff", "teacher"),
    "staff+district_admin": ("staff", "district_admin"),
    "district_admin": ("district_admin",),
    "contact": ("contact",),
    "contact_v2": ("contact",),
}


@dataclass
class SandboxConfig:
    """Sizes, seed and server behaviour of one sandbox.

    Per-district sizes: ``users_per_district`` is split into roles by default shares (10 %
    contacts, 5 % teachers, 2 % staff, 0.5 % district admins, the rest students); any of
    ``students``, ``teachers``, ``staff``, ``contacts``, ``district_admins`` set explicitly
    replaces its share (and then ``users_per_district`` only feeds the shares left unset; the
    students default to whatever remains of it, at least 0). Some teachers are also district
    admins and some staff are also teachers or district admins.
    ``None`` for ``schools``, ``sections``, ``courses`` means "scale with the users".
    """

    districts: int = 2
    users_per_district: int = 1000
    students: int | None = None
    teachers: int | None = None
    staff: int | None = None
    contacts: int | None = None
    district_admins: int | None = None
    schools: int | None = None
    sections: int | None = None
    terms: int = 6
    courses: int | None = None
    resources: int = 8
    seed: int = 42
    initial_events: int = 0
    """Random changes applied to each district at start-up; their events form the initial feed."""
    start_time: str = "2024-07-01T00:00:00Z"
    """Creation time of the first generated record; the clock starts a day after the last one."""
    pregenerate: bool = False
    """Generate every record at start-up (about 15 s per million users) rather than lazily."""
    rate_limit: int = 1200
    rate_window: float = 60.0
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_statuses: tuple[int, ...] = (500, 502, 503)
    fault_rules: tuple[dict[str, Any], ...] = ()
    """Fault rules installed at start-up (``FaultRule`` fields, see ``faults.py``)."""
    bare_next_links: bool = False
    hostile_strings: bool = True
    """Let hostile strings (emoji, RTL, zero-width, 10,000 characters, a lone surrogate) into
    free text; off, the data is the same except those values stay plain."""
    district_modes: Mapping[int, str] = field(default_factory=dict)
    """Mode of the district at each index (``DISTRICT_MODES``); unlisted districts are
    ``events_on``."""
    events_ignore_ending_before: bool = False
    """Answer ``/events?ending_before=...`` as if ``ending_before`` were absent (oldest first),
    like a server that does not support the ``ending_before=last`` probe."""
    client_id: str | None = None
    client_secret: str | None = None
    default_limit: int = 100
    max_limit: int = 10000

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view, for ``/_sandbox/info``."""
        data = asdict(self)
        data["fault_statuses"] = list(self.fault_statuses)
        data["fault_rules"] = [dict(rule) for rule in self.fault_rules]
        data["district_modes"] = {str(no): mode for no, mode in self.district_modes.items()}
        return data

    def district_mode(self, no: int) -> str:
        """The configured mode of the district at index ``no``."""
        return check_district_mode(self.district_modes.get(no, EVENTS_ON))


@dataclass(frozen=True)
class DistrictPlan:
    """How many records of each kind one district gets."""

    kinds: dict[str, int]
    schools: int
    sections: int
    terms: int
    courses: int
    resources: int

    @property
    def users(self) -> int:
        return sum(self.kinds.values())


def _share(explicit: int | None, total: int, fraction: float, minimum: int) -> int:
    if explicit is not None:
        return max(0, explicit)
    return max(minimum, int(total * fraction)) if total >= 20 else min(minimum, total)


def plan_district(config: SandboxConfig) -> DistrictPlan:
    """Split the configured sizes of a district into user kinds and record counts."""
    total = max(0, config.users_per_district)
    contacts = _share(config.contacts, total, 0.10, 3)
    teachers = _share(config.teachers, total, 0.05, 3)
    staff = _share(config.staff, total, 0.02, 3)
    admins = _share(config.district_admins, total, 0.005, 1)
    if config.students is not None:
        students = max(0, config.students)
    else:
        students = max(0, total - contacts - teachers - staff - admins)

    teacher_admins = max(1, teachers // 20) if teachers >= 2 else 0
    staff_teachers = max(1, staff // 5) if staff >= 2 else 0
    staff_admins = max(1, staff // 10) if staff >= 3 else 0
    contacts_v2 = max(1, contacts // 10) if contacts >= 3 else 0
    kinds = {
        "student": students,
        "teacher": teachers - teacher_admins,
        "teacher+district_admin": teacher_admins,
        "staff": staff - staff_teachers - staff_admins,
        "staff+teacher": staff_teachers,
        "staff+district_admin": staff_admins,
        "district_admin": admins,
        "contact": contacts - contacts_v2,
        "contact_v2": contacts_v2,
    }
    schools = config.schools if config.schools is not None else max(2, min(500, total // 400))
    sections = config.sections if config.sections is not None else max(1, students * 4 // 25)
    courses = config.courses if config.courses is not None else max(3, min(60, schools * 5))
    return DistrictPlan(
        kinds=kinds,
        schools=max(1, schools),
        sections=max(0, sections),
        terms=max(1, config.terms),
        courses=max(1, courses),
        resources=max(0, config.resources),
    )
