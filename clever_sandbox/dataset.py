"""The sandbox's state: districts, their record collections, and the clock.

Records are generated lazily, in chunks, from ``(seed, district, type, chunk)``, and kept as
ready-to-send JSON bytes of the list item (``{"data":{...},"uri":"/v3.1/users/ID"}``), so a
page is a ``b",".join`` of cached fragments. Changed and created records live in an overlay
that shadows the generated ones; deleted and silently removed records are tombstones in that
overlay. Each collection keeps the sorted list of its live ids, which is all that paging needs:
ObjectIDs sort by creation, so ``starting_after``/``ending_before`` are ``bisect`` calls.

Nothing here knows about HTTP; the server, the change engine and the control API all go
through :class:`Dataset` under its lock.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

from . import generate as gen
from .config import (
    EVENTS_ON,
    KIND_ROLES,
    USER_KINDS,
    DistrictPlan,
    SandboxConfig,
    check_district_mode,
    plan_district,
)
from .events import EventFeed
from .hostile_strings import HOSTILE_STRINGS
from .ids import id_counter, is_object_id, iso_ms, make_id, parse_iso
from .jsonutil import dumps, loads
from .names import DISTRICT_WORDS

CHUNK = 512
"""Records generated (and cached) together; one RNG seeding per chunk keeps generation cheap."""
RECORDS_PER_SECOND = 20
"""Generated records get creation times 1/20 s apart, so ids carry realistic timestamps."""
API_PREFIX = "/v3.1"

Generator = Callable[[gen.Rand, int, str], dict[str, Any]]
_MISSING = object()


def user_roles(record: dict[str, Any]) -> tuple[str, ...]:
    """Role names present on a user record."""
    roles = record.get("roles") or {}
    return tuple(sorted(roles))


class Collection:
    """Live records of one record type in one district, in ascending id order."""

    def __init__(
        self,
        record_type: str,
        base_ids: list[str],
        generator: Generator,
        seed_key: str,
    ) -> None:
        self.record_type = record_type
        self.base_ids = base_ids
        self.base_first = int(base_ids[0][8:], 16) if base_ids else 0
        self.ids: list[str] = list(base_ids)
        self.role_ids: dict[str, list[str]] = {}
        self._generator = generator
        self._seed_key = seed_key
        self._chunks: dict[int, list[bytes]] = {}
        self._overlay: dict[str, bytes | None] = {}
        self._prefix = b'{"data":'
        self._uri_head = f',"uri":"{API_PREFIX}/{record_type}/'.encode()
        self._suffix_len = len(self._uri_head) + 24 + 2

    # -- reading ----------------------------------------------------------------------------
    def _chunk(self, chunk_no: int) -> list[bytes]:
        items = self._chunks.get(chunk_no)
        if items is None:
            rng = random.Random(f"{self._seed_key}:{chunk_no}")
            r = rng.random
            start = chunk_no * CHUNK
            stop = min(start + CHUNK, len(self.base_ids))
            prefix, head, generator, base_ids = (
                self._prefix,
                self._uri_head,
                self._generator,
                self.base_ids,
            )
            items = []
            for pos in range(start, stop):
                oid = base_ids[pos]
                body = dumps(generator(r, pos, oid))
                items.append(prefix + body + head + oid.encode() + b'"}')
            self._chunks[chunk_no] = items
        return items

    def item(self, oid: str) -> bytes | None:
        """List-item bytes of a live record, or None if absent, deleted or removed."""
        value = self._overlay.get(oid, _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        try:
            pos = int(oid[8:], 16) - self.base_first
        except ValueError:
            return None
        if 0 <= pos < len(self.base_ids) and self.base_ids[pos] == oid:
            return self._chunk(pos // CHUNK)[pos % CHUNK]
        return None

    def items(self, oids: list[str]) -> list[bytes]:
        """Item bytes for live ids (as taken from :attr:`ids`), in the given order."""
        overlay = self._overlay
        base_ids = self.base_ids
        first = self.base_first
        count = len(base_ids)
        out: list[bytes] = []
        chunk_no = -1
        chunk: list[bytes] = []
        for oid in oids:
            value = overlay.get(oid, _MISSING)
            if value is not _MISSING:
                if value is not None:
                    out.append(value)  # type: ignore[arg-type]
                continue
            pos = int(oid[8:], 16) - first
            if 0 <= pos < count:
                if pos // CHUNK != chunk_no:
                    chunk_no = pos // CHUNK
                    chunk = self._chunk(chunk_no)
                out.append(chunk[pos % CHUNK])
        return out

    def base_position(self, oid: str) -> int | None:
        """Index of a generated record among the collection's base records (None if created)."""
        try:
            pos = int(oid[8:], 16) - self.base_first
        except ValueError:
            return None
        return pos if 0 <= pos < len(self.base_ids) and self.base_ids[pos] == oid else None

    def has_chunk(self, chunk_no: int) -> bool:
        return chunk_no in self._chunks

    def chunk_bytes(self, chunk_no: int) -> list[bytes]:
        """Item bytes of one chunk of generated records (generating it if needed)."""
        return self._chunk(chunk_no)

    def pregenerate(self) -> None:
        """Generate and cache every chunk now instead of on first request."""
        for chunk_no in range((len(self.base_ids) + CHUNK - 1) // CHUNK):
            self._chunk(chunk_no)

    def record_bytes(self, oid: str) -> bytes | None:
        """The record's own JSON bytes (the item without its envelope)."""
        item = self.item(oid)
        return None if item is None else item[len(self._prefix) : -self._suffix_len]

    def get(self, oid: str) -> dict[str, Any] | None:
        """A fresh dict copy of a live record."""
        raw = self.record_bytes(oid)
        return None if raw is None else loads(raw)

    def __contains__(self, oid: object) -> bool:
        return isinstance(oid, str) and self.item(oid) is not None

    def __len__(self) -> int:
        return len(self.ids)

    def records(self) -> Iterator[dict[str, Any]]:
        for oid in list(self.ids):
            record = self.get(oid)
            if record is not None:
                yield record

    # -- writing ----------------------------------------------------------------------------
    def put(self, record: dict[str, Any]) -> None:
        """Create or replace a record (its ``id`` decides which)."""
        oid = record["id"]
        old = self.get(oid) if self.record_type == "users" else None
        self._overlay[oid] = self._prefix + dumps(record) + self._uri_head + oid.encode() + b'"}'
        index = bisect.bisect_left(self.ids, oid)
        if index == len(self.ids) or self.ids[index] != oid:
            self.ids.insert(index, oid)
        if self.record_type == "users":
            for role in user_roles(old) if old else ():
                self._role_remove(role, oid)
            for role in user_roles(record):
                self._role_add(role, oid)

    def remove(self, oid: str) -> dict[str, Any] | None:
        """Delete a live record; returns it as it was (None if it was not live)."""
        old = self.get(oid)
        if old is None:
            return None
        self._overlay[oid] = None
        index = bisect.bisect_left(self.ids, oid)
        if index < len(self.ids) and self.ids[index] == oid:
            del self.ids[index]
        if self.record_type == "users":
            for role in user_roles(old):
                self._role_remove(role, oid)
        return old

    def _role_add(self, role: str, oid: str) -> None:
        ids = self.role_ids.setdefault(role, [])
        index = bisect.bisect_left(ids, oid)
        if index == len(ids) or ids[index] != oid:
            ids.insert(index, oid)

    def _role_remove(self, role: str, oid: str) -> None:
        ids = self.role_ids.get(role, [])
        index = bisect.bisect_left(ids, oid)
        if index < len(ids) and ids[index] == oid:
            del ids[index]


class District:
    """One district: its token, its collections, its event feed and what its token may read."""

    def __init__(
        self, no: int, district_id: str, name: str, token: str, mode: str, hostile: bool
    ) -> None:
        self.no = no
        self.id = district_id
        self.name = name
        self.token = token
        self.mode = mode
        """One of ``config.DISTRICT_MODES``."""
        self.collections: dict[str, Collection] = {}
        self.events = EventFeed()
        self.ctx = gen.GenContext(
            district_no=no,
            district_id=district_id,
            district_name=name,
            hostile=HOSTILE_STRINGS if hostile else (),
        )

    @property
    def events_enabled(self) -> bool:
        """Whether changes append events (the feed exists only while events are on)."""
        return self.mode == EVENTS_ON

    def set_mode(self, mode: str) -> None:
        self.mode = check_district_mode(mode)

    def counts(self) -> dict[str, int]:
        return {name: len(coll) for name, coll in self.collections.items()}


def _token_hex(seed: int, label: str, length: int) -> str:
    return hashlib.sha256(f"clever-sandbox:{seed}:{label}".encode()).hexdigest()[:length]


class Dataset:
    """All districts of a sandbox plus the id allocator and the sandbox clock."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.plan: DistrictPlan = plan_district(config)
        self.base_time = parse_iso(config.start_time)
        self.client_id = config.client_id or _token_hex(config.seed, "client-id", 20)
        self.client_secret = config.client_secret or _token_hex(config.seed, "client-secret", 40)
        self.districts: list[District] = []
        self.by_token: dict[str, District] = {}
        self.by_id: dict[str, District] = {}
        self._next_counter = 0
        unknown = sorted(no for no in config.district_modes if not 0 <= no < config.districts)
        if unknown:
            raise ValueError(f"district_modes names districts that do not exist: {unknown}")
        self._district_starts: list[int] = []
        """Counter of each district's first id: its generated records follow, up to the next."""
        for no in range(config.districts):
            self._district_starts.append(self._next_counter)
            self._build_district(no)
        self._generated_end = self._next_counter
        self.created_in: dict[str, District] = {}
        """District of every record created by a change operation (they get fresh ids)."""
        last_ts = self.base_time + self._next_counter // RECORDS_PER_SECOND
        self.now = last_ts + 86400
        """Sandbox clock (Unix seconds): event times and new ids use it, never the wall clock."""
        self.token_records = [
            {
                "id": self._base_id(),
                "created": iso_ms(self.now - 3600),
                "owner": {"type": "district", "id": d.id},
                "access_token": d.token,
                "scopes": [
                    "read:district_admins",
                    "read:school_admins",
                    "read:students",
                    "read:teachers",
                    "read:user_id",
                    "read:sections",
                    "read:contacts",
                ],
            }
            for d in self.districts
        ]

    # -- ids and time -----------------------------------------------------------------------
    def _base_id(self) -> str:
        counter = self._next_counter
        self._next_counter += 1
        return make_id(self.base_time + counter // RECORDS_PER_SECOND, counter)

    def new_id(self) -> str:
        """A fresh ObjectID at the sandbox clock, greater than every id handed out before."""
        counter = self._next_counter
        self._next_counter += 1
        return make_id(self.now, counter)

    def advance(self, seconds: int) -> None:
        self.now += max(0, int(seconds))

    # -- construction -----------------------------------------------------------------------
    def _build_district(self, no: int) -> None:
        config, plan = self.config, self.plan
        seed = config.seed
        district_id = self._base_id()
        name = f"{DISTRICT_WORDS[no % len(DISTRICT_WORDS)]} School District"
        if no >= len(DISTRICT_WORDS):
            name += f" {no // len(DISTRICT_WORDS) + 1}"
        district = District(
            no,
            district_id,
            name,
            _token_hex(seed, f"district-token-{no}", 40),
            config.district_mode(no),
            config.hostile_strings,
        )
        ctx = district.ctx
        school_ids = [self._base_id() for _ in range(plan.schools)]
        term_ids = [self._base_id() for _ in range(plan.terms)]
        course_ids = [self._base_id() for _ in range(plan.courses)]
        kinds = bytearray()
        for code, kind in enumerate(USER_KINDS):
            kinds.extend(bytes([code]) * plan.kinds[kind])
        random.Random(f"{seed}:kinds:{no}").shuffle(kinds)
        user_ids = [self._base_id() for _ in range(len(kinds))]
        section_ids = [self._base_id() for _ in range(plan.sections)]
        resource_ids = [self._base_id() for _ in range(plan.resources)]

        ctx.school_ids, ctx.term_ids, ctx.course_ids = school_ids, term_ids, course_ids
        school_count = len(school_ids)
        ctx.students_by_school = [[] for _ in range(school_count)]
        ctx.teachers_by_school = [[] for _ in range(school_count)]
        teacher_codes = {c for c, k in enumerate(USER_KINDS) if "teacher" in KIND_ROLES[k]}
        role_ids: dict[str, list[str]] = {
            role: [] for role in ("contact", "district_admin", "staff", "student", "teacher")
        }
        kind_roles = [KIND_ROLES[k] for k in USER_KINDS]
        for pos, code in enumerate(kinds):
            oid = user_ids[pos]
            for role in kind_roles[code]:
                role_ids[role].append(oid)
            if code == 0:
                ctx.students.append(oid)
                ctx.students_by_school[(pos * 2654435761) % school_count].append(oid)
            elif code in teacher_codes:
                ctx.teachers.append(oid)
                ctx.teachers_by_school[(pos * 2246822519) % school_count].append(oid)

        created = self.base_time + int(district_id[8:], 16) // RECORDS_PER_SECOND

        def key(record_type: str) -> str:
            return f"{seed}:{no}:{record_type}"

        def district_gen(r: gen.Rand, pos: int, oid: str) -> dict[str, Any]:
            return gen.finish(r, ctx, "districts", pos, gen.make_district(ctx, created))

        def bind(
            record_type: str, fn: Callable[[gen.Rand, gen.GenContext, int, str], dict[str, Any]]
        ) -> Generator:
            return lambda r, pos, oid: gen.finish(r, ctx, record_type, pos, fn(r, ctx, pos, oid))

        district.collections = {
            "districts": Collection("districts", [district_id], district_gen, key("districts")),
            "schools": Collection(
                "schools", school_ids, bind("schools", gen.make_school), key("schools")
            ),
            "users": Collection("users", user_ids, gen.user_generator(ctx, kinds), key("users")),
            "sections": Collection(
                "sections", section_ids, bind("sections", gen.make_section), key("sections")
            ),
            "terms": Collection("terms", term_ids, bind("terms", gen.make_term), key("terms")),
            "courses": Collection(
                "courses", course_ids, bind("courses", gen.make_course), key("courses")
            ),
            "resources": Collection(
                "resources", resource_ids, bind("resources", gen.make_resource), key("resources")
            ),
        }
        district.collections["users"].role_ids = role_ids
        self.districts.append(district)
        self.by_token[district.token] = district
        self.by_id[district.id] = district

    def pregenerate(self) -> None:
        """Fill every collection's byte cache (costs memory, makes the first pass fast)."""
        with self.lock:
            for district in self.districts:
                for coll in district.collections.values():
                    coll.pregenerate()

    # -- lookups ----------------------------------------------------------------------------
    def district_of(self, district_id: str | None) -> District:
        """The named district, or the first one when ``district_id`` is None."""
        if district_id is None:
            return self.districts[0]
        try:
            return self.by_id[district_id]
        except KeyError:
            raise KeyError(f"unknown district {district_id!r}") from None

    def locate(self, oid: str) -> tuple[District, Collection] | None:
        """Find the district and collection of a live record by id alone.

        The id's counter tells the district of a generated record (each district's ids are one
        block), so a sandbox of a thousand districts does not scan them all.
        """
        if not is_object_id(oid):
            return None
        counter = id_counter(oid)
        if counter < self._generated_end:
            no = bisect.bisect_right(self._district_starts, counter) - 1
            district: District | None = self.districts[no] if no >= 0 else None
        else:
            district = self.created_in.get(oid)
        if district is None:
            return None
        for coll in district.collections.values():
            if oid in coll:
                return district, coll
        return None

    def counts(self) -> dict[str, dict[str, int]]:
        return {d.id: d.counts() for d in self.districts}

    def now_iso(self) -> str:
        return iso_ms(self.now)
