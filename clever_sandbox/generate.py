"""Synthetic Clever records, one function per record type.

Every function takes a ``random()`` callable (seeded per chunk of records by the dataset, so a
record's content depends only on the seed, its district, its type and its index) plus the
:class:`GenContext` of its district, and returns a plain dict shaped as the v3.1 schema says.
The data deliberately carries Clever's documented quirks: three spellings of dates, ``M/D/YYYY``
birth dates, ``Y``/``N``/``""`` flags, ``""`` enum values, multi-role users (some extra roles
holding only a ``legacy_id``), v2-shaped contacts, contacts named in ``name.last`` alone, several
teachers per section and free-form ``ext``. :func:`finish` then runs the source-system pass
(``source_quirks.py``), which leaves out, nulls or empties what Clever does not guarantee.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from . import names, schema
from .config import KIND_ROLES, USER_KINDS
from .hostile_strings import HOSTILE_STRINGS, LONE_SURROGATE
from .ids import iso_ms, make_id
from .source_quirks import Outcomes, Plan, apply_source_quirks, compile_plan

T = TypeVar("T")
Rand = Callable[[], float]

SCHOOL_YEAR = 2024
"""Fall of the school year the synthetic data describes (2024-2025)."""


@dataclass
class GenContext:
    """What a district's generators need to know about the rest of the district."""

    district_no: int
    district_id: str
    district_name: str
    hostile: tuple[str, ...] = ()
    """Pool of hostile strings for free text; empty when the sandbox keeps text well-behaved."""
    school_ids: list[str] = field(default_factory=list)
    term_ids: list[str] = field(default_factory=list)
    course_ids: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    students_by_school: list[list[str]] = field(default_factory=list)
    teachers: list[str] = field(default_factory=list)
    teachers_by_school: list[list[str]] = field(default_factory=list)
    pools: UserPools = field(init=False)

    def __post_init__(self) -> None:
        self.pools = user_pools(bool(self.hostile))


def pick(r: Rand, seq: Sequence[T]) -> T:
    """Uniform choice driven by ``r`` (cheaper than ``Random.choice`` in a hot loop)."""
    return seq[int(r() * len(seq))]


def weighted(*pairs: tuple[T, int]) -> tuple[T, ...]:
    """Expand ``(value, weight)`` pairs into a table for :func:`pick`."""
    out: list[T] = []
    for value, weight in pairs:
        out.extend([value] * weight)
    return tuple(out)


YN_MOSTLY_N = weighted(("N", 14), ("Y", 3), ("", 3))
YN_BALANCED = weighted(("Y", 4), ("N", 4), ("", 2))
GENDER_TABLE = weighted(("M", 9), ("F", 9), ("X", 1), ("", 1))
RACE_TABLE = weighted(*((race, 3) for race in schema.RACES[:-1]), ("", 2))
FRL_TABLE = weighted(("Free", 5), ("Reduced", 2), ("Paid", 8), ("Other", 1), ("", 2))
PHONE_TYPE_TABLE = weighted(("Cell", 6), ("Home", 3), ("Work", 2), ("Other", 2), ("", 1))
REL_TABLE = weighted(
    ("Parent", 12),
    ("Grandparent", 2),
    ("Self", 1),
    ("Aunt/Uncle", 2),
    ("Sibling", 1),
    ("Other", 1),
    ("", 1),
)
REL_TYPE_TABLE = weighted(
    ("Parent/Guardian", 10),
    ("Emergency", 3),
    ("Primary", 2),
    ("Secondary", 1),
    ("Family", 3),
    ("Other", 1),
    ("", 1),
)
# The grades a K-12 student usually has: PreKindergarten through 12 in the spec's grade enum.
STUDENT_GRADES: tuple[str, ...] = schema.GRADES[
    schema.GRADES.index("PreKindergarten") : schema.GRADES.index("12") + 1
]
GRADE_TABLE = weighted(
    *((g, 6) for g in STUDENT_GRADES), ("13", 1), ("Ungraded", 1), ("Other", 1), ("", 2)
)
_GRADE_OFFSET = {g: i - 2 for i, g in enumerate(STUDENT_GRADES)}  # Kindergarten -> 0


@lru_cache(maxsize=4096)
def date_string(year: int, month: int, day: int, form: int) -> str:
    """One date in one of the three spellings Clever passes through unchanged.

    Cached: generation uses a handful of dates, and formatting them is a hot spot.
    """
    if form == 0:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if form == 1:
        return f"{year:04d}-{month:02d}-{day:02d}T00:00:00.000Z"
    return f"{year:04d}-{month:02d}-{day:02d} 00:00:00.000000"


def legacy_id(oid: str, role_no: int) -> str:
    """A v2-era id for one role of a user: an older timestamp and a marked counter.

    Generated counters stay far below 2**60, so the first counter digit is free to carry the
    role number and legacy ids never collide with each other or with v3 ids.
    """
    return f"{int(oid[:8], 16) - 200_000_000:08x}{role_no + 1:x}{oid[9:]}"


def make_ext(r: Rand, n: int) -> dict[str, Any]:
    """District-specific extension fields, in the many shapes districts send."""
    shape = int(r() * 7)
    if shape == 0:
        return {}
    if shape == 1:
        return {"sis_custom_id": f"X{n:07d}"}
    if shape == 2:
        return {"tags": pick(r, (["honors"], ["band", "robotics"], [])), "score": int(r() * 100)}
    if shape == 3:
        return {"nested": {"level": int(r() * 5), "flags": {"a": r() < 0.5, "b": None}}}
    if shape == 4:
        return {"list_of_objects": [{"k": "v"}, {"k": int(r() * 9)}], "ratio": 0.25}
    if shape == 5:
        return {"null_field": None, "empty": "", "unicode": "Ñandú ✓"}
    return {"house": pick(r, ("Red", "Blue", "Green")), "locker": str(int(r() * 900) + 100)}


def make_name(r: Rand, want_middle: bool = True) -> tuple[dict[str, Any], str, str]:
    """Name object (``middle`` sometimes missing, empty or null) plus ASCII slugs."""
    first, first_slug = pick(r, names.FIRST_NAMES)
    last, last_slug = pick(r, names.LAST_NAMES)
    name: dict[str, Any] = {"first": first, "last": last}
    if want_middle:
        roll = r()
        if roll < 0.55:
            name["middle"] = pick(r, names.MIDDLE_NAMES)
        elif roll < 0.62:
            name["middle"] = ""
        elif roll < 0.67:
            name["middle"] = None
    return name, first_slug, last_slug


def make_location(r: Rand, n: int) -> dict[str, Any]:
    city, state, zipcode = pick(r, names.CITIES)
    if r() < 0.1:
        return {
            "address": None,
            "city": city,
            "state": state,
            "zip": None,
            "lat": None,
            "lon": None,
        }
    return {
        "address": f"{n % 9000 + 100} {pick(r, names.STREETS)}",
        "city": city,
        "state": state,
        "zip": zipcode,
        "lat": f"{40 + r():.6f}",
        "lon": f"{-100 - r():.6f}",
    }


def make_district(ctx: GenContext, created_ts: int) -> dict[str, Any]:
    """The district record itself (it has its own ``id`` and no ``district`` field)."""
    n = ctx.district_no
    contact_id = make_id(created_ts, (1 << 61) | n)
    return {
        "id": ctx.district_id,
        "name": ctx.district_name,
        "mdr_number": f"{9900000 + n}",
        "nces_id": None if n % 3 == 2 else f"99{n:05d}",
        "sis_type": ("oneroster", "powerschool", "sftp")[n % 3],
        "state": "success",
        "error": "",
        "last_sync": iso_ms(created_ts + 3600),
        "last_attendance_sync": None,
        "launch_date": "2024-08-01",
        "lms_state": ("", "success", "disconnected")[n % 3],
        "lms_type": ("", "canvas", "google_classroom")[n % 3],
        "login_methods": ["clever", "google"] if n % 2 == 0 else ["clever"],
        "pause_start": None,
        "pause_end": None,
        "portal_url": f"https://portal.example.org/district-{n}",
        "district_contact": {
            "id": contact_id,
            "district": ctx.district_id,
            "email": f"sandbox.admin{n}@example.org",
            "name": {"first": "Dana", "last": "Placeholder-Åberg"},
            "title": "Data Coordinator",
        },
    }


def make_school(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    kind, low, high = names.SCHOOL_KINDS[pos % len(names.SCHOOL_KINDS)]
    word = names.SCHOOL_WORDS[(pos * 7 + ctx.district_no) % len(names.SCHOOL_WORDS)]
    created = iso_ms(int(oid[:8], 16))
    suffix = f" {pos // len(names.SCHOOL_WORDS) + 1}" if pos >= len(names.SCHOOL_WORDS) else ""
    principal_name, first_slug, last_slug = make_name(r, want_middle=False)
    return {
        "id": oid,
        "district": ctx.district_id,
        "name": f"{word} {kind}{suffix}",
        "created": created,
        "last_modified": created,
        "sis_id": f"SCH{pos + 1:04d}",
        "school_number": f"{100 + pos}",
        "state_id": None if pos % 4 == 3 else f"ST-SCH-{ctx.district_no}-{pos}",
        "nces_id": None if pos % 5 == 4 else f"99{ctx.district_no:03d}{pos:05d}",
        "mdr_number": None if pos % 2 else f"{8800000 + pos}",
        "low_grade": "" if pos % 11 == 10 else low,
        "high_grade": "" if pos % 11 == 10 else high,
        "phone": None if pos % 6 == 5 else f"(555) {100 + pos % 900:03d}-{1000 + pos % 9000:04d}",
        "principal": {
            "name": f"{principal_name['first']} {principal_name['last']}",
            "email": None if pos % 7 == 6 else f"{first_slug}.{last_slug}.p{pos}@example.org",
        },
        "location": make_location(r, pos),
        "ext": make_ext(r, pos),
    }


def make_term(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    """Terms cycle through the three date spellings; the fifth and later may lack dates."""
    semester = pos % 2
    year = SCHOOL_YEAR + pos // 2
    start = (year, 8, 25) if semester == 0 else (year + 1, 1, 6)
    end = (year, 12, 20) if semester == 0 else (year + 1, 6, 12)
    form = pos % 3
    term: dict[str, Any] = {
        "id": oid,
        "district": ctx.district_id,
        "name": f"{year}-{year + 1} Semester {semester + 1}",
        "start_date": date_string(*start, form),
        "end_date": date_string(*end, (form + 1) % 3),
    }
    if pos >= 4 and pos % 4 == 0:
        term["end_date"] = None
    if pos >= 4 and pos % 5 == 0:
        term["name"] = None
    return term


def make_course(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    title, _subject = names.COURSE_NAMES[pos % len(names.COURSE_NAMES)]
    level = pos // len(names.COURSE_NAMES)
    return {
        "id": oid,
        "district": ctx.district_id,
        "name": f"{title}{f' {level + 1}' if level else ''}" if pos % 13 != 12 else None,
        "number": None if pos % 9 == 8 else f"C{pos + 1:04d}",
    }


def make_resource(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    created = iso_ms(int(oid[:8], 16))
    return {
        "id": oid,
        "district": ctx.district_id,
        "resource_id": f"res-{ctx.district_no}-{pos:05d}",
        "title": names.RESOURCE_TITLES[pos % len(names.RESOURCE_TITLES)],
        "roles": (["teacher", "student"], ["teacher"], ["student"])[pos % 3],
        "created": created,
        "updated": created,
    }


def _enrollment_date(r: Rand, year: int, month: int, day: int) -> str:
    return date_string(year, month, day, int(r() * 3))


def _student_traits(r: Rand) -> dict[str, Any]:
    """The categorical part of a student: flags, demographics, language, disability."""
    dis_status = pick(r, YN_MOSTLY_N)
    disability: dict[str, Any]
    if dis_status == "Y":
        k = int(r() * len(schema.DISABILITY_CODES))
        disability = {
            "disability_code": schema.DISABILITY_CODES[k],
            "disability_status": "Y",
            "disability_type": schema.DISABILITY_TYPES[min(k, len(schema.DISABILITY_TYPES) - 1)],
        }
    else:
        disability = {
            "disability_code": None,
            "disability_status": dis_status,
            "disability_type": None,
        }
    language, code = pick(r, schema.HOME_LANGUAGES) if r() < 0.9 else (None, None)
    return {
        "disability": disability,
        "ell_status": pick(r, YN_MOSTLY_N),
        "frl_status": pick(r, FRL_TABLE),
        "gender": pick(r, GENDER_TABLE),
        "gifted_status": pick(r, YN_MOSTLY_N),
        "hispanic_ethnicity": pick(r, YN_BALANCED),
        "home_language": language,
        "home_language_code": code,
        "iep_status": pick(r, ("Y", "N", "N", "N", "", None)),
        "race": pick(r, RACE_TABLE),
        "section_504_status": pick(r, YN_MOSTLY_N),
    }


TRAIT_FIELDS: tuple[str, ...] = (
    "disability",
    "ell_status",
    "frl_status",
    "gender",
    "gifted_status",
    "hispanic_ethnicity",
    "home_language",
    "home_language_code",
    "iep_status",
    "race",
    "section_504_status",
)
"""Student fields drawn as one bundle by :func:`_student_traits`."""
POOLED_ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "student": (*TRAIT_FIELDS, "location", "ext"),
    "teacher": ("ext",),
    "staff": ("ext",),
}
"""Role fields taken from :class:`UserPools` fragments rather than generated per user."""
_STUDENT_PLAN = compile_plan(schema.STUDENT)
TRAITS_POOL, PLACES_POOL, EXTS_POOL = 1024, 512, 64


@dataclass(frozen=True)
class UserPools:
    """Parts users are assembled from, drawn once from a fixed seed.

    Generating and messing up a million users field by field is too slow for a benchmark
    server. So a student takes one bundle of categorical traits, one location fragment and one
    ext fragment (teachers and staff an ext fragment too); 1024 bundles still give every
    combination a warehouse must handle. Fragments went through the source-system pass when
    drawn (a place may be ``{}``: no location at all); they are shared, so nothing may change
    them in place. The rest of a user gets one pre-drawn outcome of the pass for users with its
    roles (:func:`user_outcomes`).
    """

    traits: tuple[dict[str, Any], ...]
    places: tuple[dict[str, Any], ...]
    exts: tuple[dict[str, Any], ...]


@lru_cache(maxsize=2)
def user_pools(hostile: bool) -> UserPools:
    """The pools; ``hostile`` lets hostile strings into free text."""
    r = random.Random(20240701).random
    pool = HOSTILE_STRINGS if hostile else ()

    def messy(fragment: dict[str, Any]) -> dict[str, Any]:
        apply_source_quirks(r, fragment, _STUDENT_PLAN, pool)
        return fragment

    return UserPools(
        traits=tuple(messy(_student_traits(r)) for _ in range(TRAITS_POOL)),
        places=tuple(messy({"location": make_location(r, n * 37)}) for n in range(PLACES_POOL)),
        exts=tuple(messy({"ext": make_ext(r, n)}) for n in range(EXTS_POOL)),
    )


@lru_cache(maxsize=1)
def user_outcomes() -> dict[frozenset[str], Outcomes]:
    """Pre-drawn outcomes of the source-system pass, by the set of roles a user holds."""
    return {
        frozenset(roles): _outcomes_for(roles)
        for roles in sorted({*KIND_ROLES.values(), *((role,) for role in schema.ROLES)})
    }


def _outcomes_for(roles: tuple[str, ...]) -> Outcomes:
    """Outcomes of the pass over users holding ``roles`` (pooled fields left out)."""
    shape = {
        **schema.USER,
        "roles": schema.Field(
            schema.OBJECT, schema.STRUCTURAL, fields={role: schema.ROLES[role] for role in roles}
        ),
    }
    skip = [f"roles.{role}.{key}" for role in roles for key in POOLED_ROLE_FIELDS.get(role, ())]
    count = 1024 if roles in (("student",), ("contact",)) else 256  # the many, and the few
    return Outcomes(shape, skip, count, seed=f"outcomes:{'+'.join(roles)}")


def make_student_role(
    r: Rand, ctx: GenContext, pos: int, oid: str, slugs: tuple[str, str], created: str
) -> dict[str, Any]:
    """The ``roles.student`` object: enrollments in one or more schools, some ended."""
    school_count = len(ctx.school_ids)
    home = ctx.school_ids[(pos * 2654435761) % school_count] if school_count else ""
    schools = [home] if home else []
    enrollments: list[dict[str, Any]] = []
    if home:
        enrollments.append({"school": home, "start_date": _enrollment_date(r, SCHOOL_YEAR, 8, 25)})
    roll = r()
    if school_count > 1 and roll < 0.08:
        other = ctx.school_ids[(pos * 40503 + 1) % school_count]
        if other != home:
            schools.append(other)
            enrollments.append(
                {"school": other, "start_date": _enrollment_date(r, SCHOOL_YEAR, 9, 2)}
            )
    elif school_count > 1 and roll < 0.15:
        old = ctx.school_ids[(pos * 40503 + 7) % school_count]
        if old != home:
            enrollments.insert(
                0,
                {
                    "school": old,
                    "start_date": _enrollment_date(r, SCHOOL_YEAR - 1, 8, 26),
                    "end_date": _enrollment_date(r, SCHOOL_YEAR, 6, 13),
                },
            )
    elif roll < 0.25 and enrollments:
        enrollments[0]["end_date"] = None  # still open, spelled null instead of left out
    elif roll < 0.26:
        enrollments = []  # in no active section right now: Clever lists no enrollment
    grade = GRADE_TABLE[int(r() * len(GRADE_TABLE))]
    offset = _GRADE_OFFSET.get(grade, pos % 13)
    birth_year = SCHOOL_YEAR - 5 - offset - (1 if r() < 0.3 else 0)
    roll = r()
    dob = None if roll < 0.02 else f"{int(roll * 1200) % 12 + 1}/{pos % 28 + 1}/{birth_year}"
    district_no = ctx.district_no
    pools = ctx.pools
    role: dict[str, Any] = {
        **pools.traits[int(r() * TRAITS_POOL)],
        **pools.places[int(r() * PLACES_POOL)],
        **pools.exts[int(r() * EXTS_POOL)],
        "created": created,
        "credentials": {"district_username": f"{slugs[0]}{slugs[1]}{pos}"},
        "dob": dob,
        "enrollments": enrollments,
        "grade": grade,
        "graduation_year": None if roll > 0.95 else str(SCHOOL_YEAR + 13 - max(offset, 0)),
        "last_modified": created,
        "legacy_id": legacy_id(oid, 0),
        "school": home,
        "schools": schools,
        "sis_id": f"S{district_no}{pos:07d}",
        "state_id": None if roll > 0.9 else f"ST{district_no}{pos:08d}",
        "student_number": None if 0.5 < roll < 0.55 else f"{district_no}{pos:07d}",
    }
    if r() < 0.25:
        preferred, _, _ = make_name(r)
        role["preferred_name"] = preferred
    return role


def staff_school(ctx: GenContext, pos: int) -> str:
    """Home school of a teacher or staff member, a pure function of its position."""
    if not ctx.school_ids:
        return ""
    return ctx.school_ids[(pos * 2246822519) % len(ctx.school_ids)]


def make_teacher_role(
    r: Rand, ctx: GenContext, pos: int, oid: str, slugs: tuple[str, str]
) -> dict[str, Any]:
    home = staff_school(ctx, pos)
    schools = [home] if home else []
    if len(ctx.school_ids) > 1 and r() < 0.15:
        other = ctx.school_ids[(pos * 7 + 3) % len(ctx.school_ids)]
        if other != home:
            schools.append(other)
    return {
        **ctx.pools.exts[int(r() * EXTS_POOL)],
        "credentials": {"district_username": f"{slugs[0]}.{slugs[1]}{pos}"},
        "legacy_id": legacy_id(oid, 1),
        "school": home,
        "schools": schools,
        "sis_id": f"T{ctx.district_no}{pos:06d}",
        "state_id": None if r() < 0.2 else f"STT{ctx.district_no}{pos:06d}",
        "teacher_number": None if r() < 0.1 else f"{pos:06d}",
        "title": pick(r, names.TEACHER_TITLES) if r() < 0.9 else None,
    }


def make_staff_role(
    r: Rand, ctx: GenContext, pos: int, oid: str, slugs: tuple[str, str]
) -> dict[str, Any]:
    home = staff_school(ctx, pos)
    title = pick(r, names.STAFF_TITLES)
    return {
        **ctx.pools.exts[int(r() * EXTS_POOL)],
        "credentials": {"district_username": f"{slugs[0]}_{slugs[1]}{pos}"},
        "department": pick(r, names.STAFF_DEPARTMENTS) if r() < 0.85 else None,
        "legacy_id": legacy_id(oid, 2),
        "roles": [title] if r() < 0.8 else [title, "Coach"],
        "schools": [home] if home else [],
        "staff_id": f"E{ctx.district_no}{pos:06d}",
        "title": title if r() < 0.9 else None,
    }


def make_admin_role(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    role: dict[str, Any] = {"legacy_id": legacy_id(oid, 3)}
    if r() < 0.8:
        role["title"] = pick(r, names.ADMIN_TITLES)
    return role


def contact_students(r: Rand, ctx: GenContext) -> list[str]:
    """One to three students of the district (siblings share a contact)."""
    if not ctx.students:
        return []
    first = int(r() * len(ctx.students))
    count = 1 if r() < 0.7 else (2 if r() < 0.8 else 3)
    return list(dict.fromkeys(ctx.students[(first + k) % len(ctx.students)] for k in range(count)))


def make_contact_role(r: Rand, ctx: GenContext, pos: int, oid: str, v2: bool) -> dict[str, Any]:
    """A contact in the v3 shape or, with ``v2``, the older one-relationship shape."""
    students = contact_students(r, ctx)
    role: dict[str, Any] = {
        "legacy_id": legacy_id(oid, 4),
        "phone": None
        if r() < 0.05
        else ("" if r() < 0.1 else f"(555) 0{pos % 100:02d}-{pos % 10000:04d}"),
        "phone_type": pick(r, PHONE_TYPE_TABLE) if r() < 0.95 else None,
        "sis_id": "" if r() < 0.1 else f"P{ctx.district_no}{pos:06d}",
    }
    if v2:
        role["relationship"] = pick(r, REL_TABLE)
        role["type"] = pick(r, REL_TYPE_TABLE)
        role["students"] = students
        role["student_relationships"] = []
    else:
        role["student_relationships"] = [
            {"relationship": pick(r, REL_TABLE), "student": s, "type": pick(r, REL_TYPE_TABLE)}
            for s in students
        ]
    return role


def make_user(r: Rand, ctx: GenContext, pos: int, oid: str, kind: str) -> dict[str, Any]:
    """A user of the given kind (see ``config.USER_KINDS``)."""
    ts = int(oid[:8], 16)
    created = iso_ms(ts)
    name, first_slug, last_slug = make_name(r)
    slugs = (first_slug, last_slug)
    domain = "example.org" if kind in ("student", "contact", "contact_v2") else "example.com"
    roles: dict[str, Any] = {}
    if kind == "student":
        roles["student"] = make_student_role(r, ctx, pos, oid, slugs, created)
    elif kind in ("contact", "contact_v2"):
        roles["contact"] = make_contact_role(r, ctx, pos, oid, kind == "contact_v2")
        roll = r()
        if roll < 0.16:  # the contact's full name stored in name.last alone
            full = {"last": f"{name['first']} {name['last']}"}
            name = full if roll < 0.12 else {"first": "", **full}
    else:
        if "teacher" in kind:
            roles["teacher"] = make_teacher_role(r, ctx, pos, oid, slugs)
        if "staff" in kind:
            roles["staff"] = make_staff_role(r, ctx, pos, oid, slugs)
        if "district_admin" in kind:
            roles["district_admin"] = make_admin_role(r, ctx, pos, oid)
        extra = KIND_ROLES[kind][1:]
        if extra and r() < 0.3:  # a merged identity whose second role holds nothing else
            roles[extra[0]] = {"legacy_id": roles[extra[0]]["legacy_id"]}
    roll = r()
    if roll < 0.05:
        email = None
    elif roll < 0.06:  # Clever does not validate emails: some lack the @
        email = f"{first_slug}.{last_slug}{pos}"
    else:
        email = f"{first_slug}.{last_slug}.{ctx.district_no}x{pos}@{domain}"
    user: dict[str, Any] = {
        "created": created,
        "district": ctx.district_id,
        "email": email,
        "id": oid,
        "last_modified": created if r() < 0.7 else iso_ms(ts + 3600 * (1 + int(r() * 3))),
        "name": name,
        "roles": roles,
    }
    if kind in ("student", "teacher") and r() < 0.3:
        user["lms_status"] = {"synced_in_lms": r() < 0.5}
    return user


def make_section(r: Rand, ctx: GenContext, pos: int, oid: str) -> dict[str, Any]:
    """A section of one school: a roster from that school, one or more teachers."""
    created = iso_ms(int(oid[:8], 16))
    school_no = pos % len(ctx.school_ids) if ctx.school_ids else 0
    school = ctx.school_ids[school_no] if ctx.school_ids else ""
    pool = ctx.students_by_school[school_no] if ctx.students_by_school else []
    if not pool:
        pool = ctx.students
    size = min(len(pool), 12 + int(r() * 22))
    start = int(r() * len(pool)) if pool else 0
    step = 1 + int(r() * 3)
    students = sorted({pool[(start + k * step) % len(pool)] for k in range(size)})
    teacher_pool = ctx.teachers_by_school[school_no] if ctx.teachers_by_school else []
    if not teacher_pool:
        teacher_pool = ctx.teachers
    teachers: list[str] = []
    if teacher_pool:
        teachers.append(pick(r, teacher_pool))
        if r() < 0.2:
            extra = pick(r, teacher_pool)
            if extra not in teachers:
                teachers.append(extra)
    title, subject = names.COURSE_NAMES[pos % len(names.COURSE_NAMES)]
    section: dict[str, Any] = {
        "course": pick(r, ctx.course_ids) if ctx.course_ids and r() < 0.9 else None,
        "created": created,
        "district": ctx.district_id,
        "ext": make_ext(r, pos),
        "grade": pick(r, GRADE_TABLE),
        "id": oid,
        "last_modified": created,
        "name": f"{title} - Period {pos % 8 + 1} ({pos})",
        "period": None if r() < 0.1 else str(pos % 8 + 1),
        "school": school,
        "section_number": None if r() < 0.1 else f"{pos:05d}",
        "sis_id": f"SEC{ctx.district_no}{pos:06d}",
        "students": students,
        "subject": subject,
        "teacher": teachers[0] if teachers else None,
        "teachers": teachers,
        "term_id": pick(r, ctx.term_ids) if ctx.term_ids and r() < 0.95 else None,
    }
    if r() < 0.3:
        section["lms_status"] = {"synced_in_lms": r() < 0.5}
    return section


LONE_SURROGATE_POSITION = 500
"""The user at this position of every district (when hostile strings are on) has
:data:`~clever_sandbox.hostile_strings.LONE_SURROGATE` as ``name.middle``."""
RECORD_PLANS: dict[str, Plan] = {
    record_type: compile_plan(shape)
    for record_type, shape in schema.RECORD_SHAPES.items()
    if record_type != "users"
}
"""The source-system pass of each record type but users (see :class:`UserPools`)."""


def finish(
    r: Rand, ctx: GenContext, record_type: str, pos: int, record: dict[str, Any]
) -> dict[str, Any]:
    """Run the source-system pass over a generated record (and plant the lone surrogate)."""
    if record_type == "users":
        user_outcomes()[frozenset(record["roles"])].apply(r, record, ctx.hostile)
        if pos == LONE_SURROGATE_POSITION:
            _plant_lone_surrogate(ctx, record)
    else:
        apply_source_quirks(r, record, RECORD_PLANS[record_type], ctx.hostile)
    return record


def user_generator(
    ctx: GenContext, kinds: Sequence[int]
) -> Callable[[Rand, int, str], dict[str, Any]]:
    """Generate and :func:`finish` the user at each position; ``kinds[pos]`` indexes
    ``config.USER_KINDS``. The hot path of a big district, so the outcome lookup is done once."""
    outcomes = [user_outcomes()[frozenset(KIND_ROLES[kind])] for kind in USER_KINDS]
    hostile = ctx.hostile

    def generate(r: Rand, pos: int, oid: str) -> dict[str, Any]:
        code = kinds[pos]
        user = make_user(r, ctx, pos, oid, USER_KINDS[code])
        outcomes[code].apply(r, user, hostile)
        if pos == LONE_SURROGATE_POSITION:
            _plant_lone_surrogate(ctx, user)
        return user

    return generate


def _plant_lone_surrogate(ctx: GenContext, user: dict[str, Any]) -> None:
    if ctx.hostile:
        user["name"]["middle"] = LONE_SURROGATE
