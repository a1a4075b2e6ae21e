"""Changes to the data, each applied to the Data API state and announced in the event feed.

One :class:`ChangeEngine` applies scripted operations (plain JSON dicts, documented in
``README.md``) and random batches, which are just scripted operations drawn from a seeded RNG
and applied one by one. Every operation advances the sandbox clock by one second, so each
event gets its own ``created`` time and a fresh ObjectID above every existing id.

Consistency rules the engine keeps, so the Data API and the event feed always agree:

* a deleted (or silently removed) student leaves every section roster and every contact's
  relationships, with ``sections.updated`` / ``users.updated`` events (none when silent);
* a deleted teacher, or a user who loses the teacher role, leaves ``teachers`` of every section
  and the primary ``teacher`` falls to the next one; a section left without any teacher is
  deleted, since Clever guarantees every section a ``teacher``;
* a deleted term or course is unset (null) on the sections that pointed at it;
* deleting a school does not cascade (a district would move its users first);
* while a district's events are off (``events_off``, ``no_secure_sync``) its changes apply but
  append no events.

Generated fields Clever does not guarantee may be absent or null, so the engine reads them
with ``.get`` and treats a missing list as empty.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from . import generate as gen
from . import names
from .dataset import Collection, Dataset, District
from .events import build_event
from .ids import iso_ms

Op = dict[str, Any]
STAMP_FIELD = {
    "users": "last_modified",
    "sections": "last_modified",
    "schools": "last_modified",
    "resources": "updated",
}
CREATABLE = ("users", "sections", "schools", "terms", "courses", "resources")


class ChangeError(ValueError):
    """A scripted operation that cannot be applied (unknown id, illegal role mix, ...)."""


def contact_to_v2(role: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a v3 contact role in the older v2 shape (one relationship, a students list)."""
    if "students" in role:
        return role
    rels = role.get("student_relationships") or []
    out = {k: v for k, v in role.items() if k != "student_relationships"}
    out["relationship"] = rels[0].get("relationship", "") if rels else ""
    out["type"] = rels[0].get("type", "") if rels else ""
    out["students"] = [rel["student"] for rel in rels]
    out["student_relationships"] = []
    return out


def contact_to_v3(role: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a v2-shaped contact role in the v3 shape."""
    if "students" not in role:
        return role
    out = {k: v for k, v in role.items() if k not in ("relationship", "type", "students")}
    out["student_relationships"] = [
        {"relationship": role.get("relationship", ""), "student": s, "type": role.get("type", "")}
        for s in role.get("students") or []
    ]
    return out


def contact_students(role: dict[str, Any]) -> list[str]:
    if "students" in role:
        return list(role.get("students") or [])
    return [rel["student"] for rel in role.get("student_relationships") or []]


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (``roles.student.grade``), creating dicts on the way."""
    keys = path.split(".")
    target = record
    for key in keys[:-1]:
        nxt = target.get(key)
        if not isinstance(nxt, dict):
            nxt = {}
            target[key] = nxt
        target = nxt
    target[keys[-1]] = value


def unset_path(record: dict[str, Any], path: str) -> None:
    keys = path.split(".")
    target: Any = record
    for key in keys[:-1]:
        target = target.get(key) if isinstance(target, dict) else None
        if target is None:
            return
    if isinstance(target, dict):
        target.pop(keys[-1], None)


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value


class _Index:
    """Who references a user: sections by student/teacher, contacts by student.

    Built from the records on first need, then kept current by the engine, so cascades do not
    rescan a big district on every delete.
    """

    def __init__(self, district: District) -> None:
        self.section_students: dict[str, set[str]] = {}
        self.section_teachers: dict[str, set[str]] = {}
        self.contacts: dict[str, set[str]] = {}
        for section in district.collections["sections"].records():
            self.add_section(section)
        users = district.collections["users"]
        for oid in list(users.role_ids.get("contact", [])):
            user = users.get(oid)
            if user:
                self.add_contact(user)

    def add_section(self, section: dict[str, Any], remove: bool = False) -> None:
        for student in section.get("students") or []:
            self._edit(self.section_students, student, section["id"], remove)
        teachers = set(section.get("teachers") or [])
        if section.get("teacher"):
            teachers.add(section["teacher"])
        for teacher in teachers:
            self._edit(self.section_teachers, teacher, section["id"], remove)

    def add_contact(self, user: dict[str, Any], remove: bool = False) -> None:
        role = (user.get("roles") or {}).get("contact")
        if role:
            for student in contact_students(role):
                self._edit(self.contacts, student, user["id"], remove)

    @staticmethod
    def _edit(index: dict[str, set[str]], key: str, value: str, remove: bool) -> None:
        if remove:
            index.get(key, set()).discard(value)
        else:
            index.setdefault(key, set()).add(value)


class ChangeEngine:
    """Applies operations to a :class:`Dataset` and appends the matching events."""

    def __init__(self, dataset: Dataset) -> None:
        self.ds = dataset
        self._indexes: dict[str, _Index] = {}
        self._created = 0
        self._v2_events = False
        self._silent = False
        self._emitted: list[dict[str, Any]] = []

    # -- public -------------------------------------------------------------------------------
    def apply(self, ops: list[Op]) -> list[dict[str, Any]]:
        """Apply scripted operations in order; returns the events they appended."""
        with self.ds.lock:
            self._emitted = []
            for op in ops:
                self._apply_one(op)
            return self._emitted

    def random_batch(
        self, n: int, seed: int | None = None, district_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Apply ``n`` random operations drawn from ``seed``; returns the events appended."""
        with self.ds.lock:
            rng = random.Random(f"{self.ds.config.seed}:random-changes:{seed}:{self.ds.now}")
            events: list[dict[str, Any]] = []
            for _ in range(n):
                if district_id is not None:
                    district = self.ds.district_of(district_id)
                else:
                    district = self.ds.districts[int(rng.random() * len(self.ds.districts))]
                op = self._random_op(rng, district)
                if op is None:
                    continue
                try:
                    events.extend(self.apply([op]))
                except ChangeError:
                    continue
            return events

    # -- plumbing -------------------------------------------------------------------------------
    def _index(self, district: District) -> _Index:
        index = self._indexes.get(district.id)
        if index is None:
            index = _Index(district)
            self._indexes[district.id] = index
        return index

    def _find(self, oid: Any, record_type: str | None = None) -> tuple[District, Collection]:
        if not isinstance(oid, str):
            raise ChangeError(f"missing or invalid id: {oid!r}")
        found = self.ds.locate(oid)
        if found is None:
            raise ChangeError(f"no live record with id {oid}")
        if record_type is not None and found[1].record_type != record_type:
            raise ChangeError(f"{oid} is a {found[1].record_type} record, not {record_type}")
        return found

    def _emit(
        self,
        district: District,
        record_type: str,
        action: str,
        record: dict[str, Any],
        previous: dict[str, Any] | None = None,
    ) -> None:
        if self._silent or not district.events_enabled:
            return
        obj = record
        role = (record.get("roles") or {}).get("contact") if record_type == "users" else None
        if role is not None and self._v2_events:
            obj = copy.deepcopy(record)
            obj["roles"]["contact"] = contact_to_v2(role)
        event = build_event(self.ds.new_id(), record_type, action, obj, previous)
        district.events.append(event, record_type)
        self._emitted.append(event)

    def _track(
        self,
        district: District,
        coll: Collection,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
    ) -> None:
        if district.id not in self._indexes:
            return
        index = self._indexes[district.id]
        if coll.record_type == "sections":
            if old:
                index.add_section(old, remove=True)
            if new:
                index.add_section(new)
        elif coll.record_type == "users":
            if old:
                index.add_contact(old, remove=True)
            if new:
                index.add_contact(new)

    def _update(
        self,
        district: District,
        coll: Collection,
        oid: str,
        mutate: Callable[[dict[str, Any]], None],
    ) -> dict[str, Any]:
        old = coll.get(oid)
        if old is None:
            raise ChangeError(f"no live record with id {oid}")
        new = copy.deepcopy(old)
        mutate(new)
        new["id"] = oid
        stamp = STAMP_FIELD.get(coll.record_type)
        if stamp:
            new[stamp] = iso_ms(self.ds.now)
        previous = {k: old.get(k) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        coll.put(new)
        self._track(district, coll, old, new)
        self._emit(district, coll.record_type, "updated", new, previous)
        return new

    def _create(self, district: District, record_type: str, record: dict[str, Any]) -> None:
        coll = district.collections[record_type]
        coll.put(record)
        self.ds.created_in[record["id"]] = district
        self._track(district, coll, None, record)
        self._emit(district, record_type, "created", record)

    def _delete(self, district: District, coll: Collection, oid: str) -> dict[str, Any]:
        old = coll.remove(oid)
        if old is None:
            raise ChangeError(f"no live record with id {oid}")
        self._track(district, coll, old, None)
        self._emit(district, coll.record_type, "deleted", old)
        if coll.record_type == "users":
            roles = old.get("roles") or {}
            if "student" in roles:
                self._detach_student(district, oid)
            if "teacher" in roles:
                self._detach_teacher(district, oid)
        elif coll.record_type in ("terms", "courses"):
            field = "term_id" if coll.record_type == "terms" else "course"
            sections = district.collections["sections"]
            for section_id in list(sections.ids):
                section = sections.get(section_id)
                if section and section.get(field) == oid:
                    self._update(district, sections, section_id, lambda s: s.update({field: None}))
        return old

    def _detach_student(
        self, district: District, student: str, only_school: str | None = None
    ) -> None:
        index = self._index(district)
        sections = district.collections["sections"]
        for section_id in sorted(index.section_students.get(student, set())):
            section = sections.get(section_id)
            if section is None or (only_school and section.get("school") != only_school):
                continue

            def drop(s: dict[str, Any]) -> None:
                s["students"] = [x for x in s.get("students") or [] if x != student]

            self._update(district, sections, section_id, drop)
        if only_school:
            return
        users = district.collections["users"]
        for contact_id in sorted(index.contacts.get(student, set())):
            if contact_id not in users:
                continue

            def unlink(u: dict[str, Any]) -> None:
                role = u["roles"]["contact"]
                if "students" in role:
                    role["students"] = [x for x in role.get("students") or [] if x != student]
                role["student_relationships"] = [
                    rel
                    for rel in role.get("student_relationships") or []
                    if rel.get("student") != student
                ]

            self._update(district, users, contact_id, unlink)

    def _detach_teacher(self, district: District, teacher: str) -> None:
        index = self._index(district)
        sections = district.collections["sections"]
        for section_id in sorted(index.section_teachers.get(teacher, set())):
            section = sections.get(section_id)
            if section is None:
                continue
            others = [x for x in section.get("teachers") or [] if x != teacher]
            if not others:
                self._delete(district, sections, section_id)
                continue

            def drop(s: dict[str, Any], others: list[str] = others) -> None:
                s["teachers"] = others
                if s.get("teacher") == teacher:
                    s["teacher"] = others[0]

            self._update(district, sections, section_id, drop)

    # -- generation of new records ----------------------------------------------------------
    def _fresh_rng(self) -> gen.Rand:
        self._created += 1
        return random.Random(f"{self.ds.config.seed}:created:{self._created}").random

    def new_record(
        self, district: District, record_type: str, role: str = "student", school: str | None = None
    ) -> dict[str, Any]:
        """A synthetic record for a create operation, referencing only live records.

        It went through the source-system pass, like generated records, and shares nothing
        with the generator's pools (the caller may change it in place).
        """
        r = self._fresh_rng()
        pos = 10_000_000 + self._created
        record = self._draft(district, record_type, role, school, r, pos)
        gen.finish(r, district.ctx, record_type, pos, record)
        return copy.deepcopy(record)

    def _draft(
        self,
        district: District,
        record_type: str,
        role: str,
        school: str | None,
        r: gen.Rand,
        pos: int,
    ) -> dict[str, Any]:
        """The record as generated, pointed at live records of ``district``."""
        ctx = district.ctx
        oid = self.ds.new_id()
        users = district.collections["users"]
        live_students = users.role_ids.get("student", [])
        if record_type == "users":
            kind = {
                "contact_v2": "contact_v2",
                "contact": "contact",
                "student": "student",
                "teacher": "teacher",
                "staff": "staff",
                "district_admin": "district_admin",
            }.get(role)
            if kind is None:
                raise ChangeError(f"cannot create a user with role {role!r}")
            record = gen.make_user(r, ctx, pos, oid, kind)
            roles = record["roles"]
            if "student" in roles and isinstance(school, str):
                self._enroll(roles["student"], school, replace=True)
            if "contact" in roles:
                picks = [live_students[int(r() * len(live_students))]] if live_students else []
                roles["contact"] = _relink_contact(roles["contact"], picks, r)
            for key in ("teacher", "staff"):
                if key in roles and school:
                    roles[key]["schools"] = [school]
                    if key == "teacher":
                        roles[key]["school"] = school
            return record
        if record_type == "sections":
            record = gen.make_section(r, ctx, pos, oid)
            if school:
                record["school"] = school
            record["students"] = (
                sorted({live_students[int(r() * len(live_students))] for _ in range(5)})
                if live_students
                else []
            )
            teachers = users.role_ids.get("teacher", [])
            record["teachers"] = [teachers[int(r() * len(teachers))]] if teachers else []
            record["teacher"] = record["teachers"][0] if teachers else None
            terms, courses = district.collections["terms"].ids, district.collections["courses"].ids
            record["term_id"] = terms[-1] if terms else None
            record["course"] = courses[-1] if courses else None
            return record
        makers = {
            "schools": gen.make_school,
            "terms": gen.make_term,
            "courses": gen.make_course,
            "resources": gen.make_resource,
        }
        if record_type not in makers:
            raise ChangeError(f"cannot create records of type {record_type!r}")
        count = len(district.collections[record_type])
        record = makers[record_type](r, ctx, count + self._created, oid)
        if record_type == "resources":
            record["created"] = record["updated"] = iso_ms(self.ds.now)
        return record

    def _enroll(self, role: dict[str, Any], school: str, replace: bool) -> None:
        today = iso_ms(self.ds.now)[:10]
        if replace:
            role["enrollments"] = []
        old = role.get("school")
        for enrollment in role.get("enrollments") or []:
            if enrollment.get("school") == old and not enrollment.get("end_date"):
                enrollment["end_date"] = today
        role.setdefault("enrollments", []).append({"school": school, "start_date": today})
        role["school"] = school
        role["schools"] = [school] + [
            s for s in role.get("schools") or [] if s not in (old, school)
        ]

    # -- operations -------------------------------------------------------------------------
    def _apply_one(self, op: Op) -> None:
        name = op.get("op")
        handler = getattr(self, f"_op_{name}", None) if isinstance(name, str) else None
        if handler is None:
            raise ChangeError(f"unknown operation {name!r}")
        self.ds.advance(1)
        self._v2_events = op.get("event_shape") == "v2"
        try:
            handler(op)
        finally:
            self._v2_events = False
            self._silent = False

    def _op_update(self, op: Op) -> None:
        district, coll = self._find(op.get("id"))
        sets = op.get("set") or {}
        unsets = op.get("unset") or []

        def mutate(record: dict[str, Any]) -> None:
            for path, value in sets.items():
                set_path(record, path, value)
            for path in unsets:
                unset_path(record, path)

        self._update(district, coll, op["id"], mutate)

    def _op_create(self, op: Op) -> None:
        record_type = op.get("type", "users")
        if record_type not in CREATABLE:
            raise ChangeError(f"cannot create records of type {record_type!r}")
        district = self.ds.district_of(op.get("district"))
        record = self.new_record(district, record_type, op.get("role", "student"), op.get("school"))
        oid = record["id"]
        deep_merge(record, op.get("fields") or {})
        record["id"] = oid
        if record_type != "districts":
            record["district"] = district.id
        self._create(district, record_type, record)

    def _op_delete(self, op: Op) -> None:
        district, coll = self._find(op.get("id"), op.get("type"))
        if coll.record_type == "districts":
            raise ChangeError("the district record itself cannot be deleted")
        self._delete(district, coll, op["id"])

    def _op_silent_remove(self, op: Op) -> None:
        district, coll = self._find(op.get("id"), op.get("type"))
        self._silent = True
        self._delete(district, coll, op["id"])

    def _op_set_grade(self, op: Op) -> None:
        district, coll = self._find(op.get("user"), "users")
        grade = op.get("grade", "")

        def mutate(u: dict[str, Any]) -> None:
            if "student" not in u["roles"]:
                raise ChangeError(f"{u['id']} is not a student")
            u["roles"]["student"]["grade"] = grade

        self._update(district, coll, op["user"], mutate)

    def _op_move_school(self, op: Op) -> None:
        district, coll = self._find(op.get("user"), "users")
        school = op.get("school")
        if not isinstance(school, str) or school not in district.collections["schools"]:
            raise ChangeError(f"no live school {school} in the user's district")
        user = coll.get(op["user"]) or {}
        old_school = ((user.get("roles") or {}).get("student") or {}).get("school")
        if old_school == school:
            raise ChangeError(f"{op['user']} already attends {school}")

        def mutate(u: dict[str, Any]) -> None:
            if "student" not in u["roles"]:
                raise ChangeError(f"{u['id']} is not a student")
            self._enroll(u["roles"]["student"], school, replace=False)

        self._update(district, coll, op["user"], mutate)
        if old_school and old_school != school:
            self._detach_student(district, op["user"], only_school=old_school)

    def _section_students(self, op: Op, add: bool) -> None:
        district, coll = self._find(op.get("section"), "sections")
        students = list(op.get("students") or [])
        users = district.collections["users"]
        if add:
            for student in students:
                user = users.get(student)
                if user is None or "student" not in user["roles"]:
                    raise ChangeError(f"{student} is not a live student of the district")

        def mutate(s: dict[str, Any]) -> None:
            current = set(s.get("students") or [])
            current = current | set(students) if add else current - set(students)
            s["students"] = sorted(current)

        self._update(district, coll, op["section"], mutate)

    def _op_add_section_students(self, op: Op) -> None:
        self._section_students(op, add=True)

    def _op_remove_section_students(self, op: Op) -> None:
        self._section_students(op, add=False)

    def _op_set_section_teachers(self, op: Op) -> None:
        district, coll = self._find(op.get("section"), "sections")
        teachers = list(op.get("teachers") or [])
        if not teachers:
            raise ChangeError("a section always has a teacher; delete the section instead")

        def mutate(s: dict[str, Any]) -> None:
            s["teachers"] = teachers
            s["teacher"] = op.get("teacher", teachers[0] if teachers else None)

        self._update(district, coll, op["section"], mutate)

    def _op_set_contact_relationships(self, op: Op) -> None:
        district, coll = self._find(op.get("user"), "users")
        rels = [dict(rel) for rel in op.get("relationships") or []]
        users = district.collections["users"]
        for rel in rels:
            student = users.get(rel.get("student", ""))
            if student is None or "student" not in student["roles"]:
                raise ChangeError(f"{rel.get('student')} is not a live student of the district")
            rel.setdefault("relationship", "Parent")
            rel.setdefault("type", "Parent/Guardian")

        def mutate(u: dict[str, Any]) -> None:
            role = u["roles"].get("contact")
            if role is None:
                raise ChangeError(f"{u['id']} is not a contact")
            role = contact_to_v3(role)
            role["student_relationships"] = rels
            u["roles"]["contact"] = contact_to_v2(role) if op.get("shape") == "v2" else role

        self._update(district, coll, op["user"], mutate)

    def _op_set_term_dates(self, op: Op) -> None:
        district, coll = self._find(op.get("term"), "terms")

        def mutate(t: dict[str, Any]) -> None:
            for key in ("start_date", "end_date", "name"):
                if key in op:
                    t[key] = op[key]

        self._update(district, coll, op["term"], mutate)

    def _op_add_role(self, op: Op) -> None:
        district, coll = self._find(op.get("user"), "users")
        role_name = op.get("role")
        if role_name not in ("teacher", "staff", "district_admin"):
            raise ChangeError("add_role supports teacher, staff and district_admin")

        def mutate(u: dict[str, Any]) -> None:
            roles = u["roles"]
            if "student" in roles or "contact" in roles:
                raise ChangeError("student and contact roles are never combined with others")
            if role_name in roles:
                raise ChangeError(f"{u['id']} already has the {role_name} role")
            template = self.new_record(district, "users", role_name)["roles"][role_name]
            template["legacy_id"] = gen.legacy_id(u["id"], 5)
            deep_merge(template, op.get("fields") or {})
            roles[role_name] = template

        self._update(district, coll, op["user"], mutate)

    def _op_drop_role(self, op: Op) -> None:
        district, coll = self._find(op.get("user"), "users")
        role_name = op.get("role")

        def mutate(u: dict[str, Any]) -> None:
            roles = u["roles"]
            if role_name not in roles:
                raise ChangeError(f"{u['id']} has no {role_name} role")
            if len(roles) == 1:
                raise ChangeError("cannot drop a user's only role; delete the user instead")
            del roles[role_name]

        self._update(district, coll, op["user"], mutate)
        if role_name == "teacher":
            self._detach_teacher(district, op["user"])

    # -- random batches ---------------------------------------------------------------------
    def _random_op(self, rng: random.Random, district: District) -> Op | None:
        """Draw one operation that is valid against the current state of ``district``."""
        users = district.collections["users"]
        cols = district.collections
        students = users.role_ids.get("student", [])
        contacts = users.role_ids.get("contact", [])
        teachers = users.role_ids.get("teacher", [])

        def one(ids: list[str]) -> str | None:
            return ids[int(rng.random() * len(ids))] if ids else None

        choices: list[tuple[int, str]] = [
            (14, "grade"),
            (8, "rename"),
            (8, "move"),
            (10, "create_student"),
            (3, "create_contact"),
            (2, "create_teacher"),
            (6, "delete_student"),
            (3, "delete_contact"),
            (2, "delete_teacher"),
            (6, "contact_rel"),
            (7, "section_add"),
            (7, "section_remove"),
            (2, "section_create"),
            (2, "section_delete"),
            (2, "section_teachers"),
            (3, "term_dates"),
            (2, "add_role"),
            (2, "drop_role"),
            (2, "school_create"),
            (2, "school_update"),
            (1, "school_delete"),
            (2, "course_create"),
            (1, "course_update"),
            (1, "course_delete"),
            (1, "term_create"),
            (1, "term_delete"),
            (2, "resource_create"),
            (1, "resource_update"),
            (1, "resource_delete"),
            (1, "district_update"),
        ]
        total = sum(w for w, _ in choices)
        roll = rng.random() * total
        kind = choices[-1][1]
        for weight, name in choices:
            roll -= weight
            if roll < 0:
                kind = name
                break
        did = district.id
        student, contact, teacher = one(students), one(contacts), one(teachers)
        section, school = one(cols["sections"].ids), one(cols["schools"].ids)
        if kind == "grade" and student:
            return {
                "op": "set_grade",
                "user": student,
                "grade": gen.pick(rng.random, gen.GRADE_TABLE),
            }
        if kind == "rename":
            target = one(users.ids)
            if target:
                first, _ = gen.pick(rng.random, names.FIRST_NAMES)
                return {"op": "update", "id": target, "set": {"name.first": first}}
        if kind == "move" and student and school and len(cols["schools"]) > 1:
            current = (users.get(student) or {}).get("roles", {}).get("student") or {}
            if current.get("school") == school:
                school = next(s for s in cols["schools"].ids if s != school)
            return {"op": "move_school", "user": student, "school": school}
        if kind == "create_student":
            return {
                "op": "create",
                "type": "users",
                "district": did,
                "role": "student",
                "school": school,
            }
        if kind == "create_contact":
            return {
                "op": "create",
                "type": "users",
                "district": did,
                "role": "contact_v2" if rng.random() < 0.2 else "contact",
            }
        if kind == "create_teacher":
            return {
                "op": "create",
                "type": "users",
                "district": did,
                "role": "teacher",
                "school": school,
            }
        if kind == "delete_student" and student:
            return {"op": "delete", "id": student}
        if kind == "delete_contact" and contact:
            return {
                "op": "delete",
                "id": contact,
                "event_shape": "v2" if rng.random() < 0.3 else "v3",
            }
        if kind == "delete_teacher" and teacher:
            return {"op": "delete", "id": teacher}
        if kind == "contact_rel" and contact and student:
            rels = [
                {
                    "student": student,
                    "relationship": gen.pick(rng.random, gen.REL_TABLE),
                    "type": gen.pick(rng.random, gen.REL_TYPE_TABLE),
                }
            ]
            return {
                "op": "set_contact_relationships",
                "user": contact,
                "relationships": rels,
                "event_shape": "v2" if rng.random() < 0.3 else "v3",
            }
        if kind == "section_add" and section and student:
            return {"op": "add_section_students", "section": section, "students": [student]}
        if kind == "section_remove" and section:
            current = (cols["sections"].get(section) or {}).get("students") or []
            if current:
                return {
                    "op": "remove_section_students",
                    "section": section,
                    "students": [one(current)],
                }
        if kind == "section_create":
            return {"op": "create", "type": "sections", "district": did, "school": school}
        if kind == "section_delete" and section:
            return {"op": "delete", "id": section}
        if kind == "section_teachers" and section and teacher:
            return {"op": "set_section_teachers", "section": section, "teachers": [teacher]}
        if kind == "term_dates":
            term = one(cols["terms"].ids)
            if term:
                form = int(rng.random() * 3)
                return {
                    "op": "set_term_dates",
                    "term": term,
                    "start_date": gen.date_string(2025, 1, 6 + int(rng.random() * 5), form),
                    "end_date": gen.date_string(2025, 6, 12, (form + 1) % 3),
                }
        if kind in ("add_role", "drop_role"):
            return self._random_role_op(rng, district, kind == "add_role")
        if kind.endswith("_create") and kind.split("_")[0] in (
            "school",
            "course",
            "term",
            "resource",
        ):
            return {"op": "create", "type": kind.split("_")[0] + "s", "district": did}
        if kind == "school_update" and school:
            return {
                "op": "update",
                "id": school,
                "set": {"phone": f"(555) 010-{int(rng.random() * 9000) + 1000}"},
            }
        if kind == "course_update":
            course = one(cols["courses"].ids)
            if course:
                return {"op": "update", "id": course, "set": {"number": f"C{rng.random():.4f}"}}
        if kind == "resource_update":
            resource = one(cols["resources"].ids)
            if resource:
                return {"op": "update", "id": resource, "set": {"title": "Updated Resource ✓"}}
        if kind in ("school_delete", "course_delete", "term_delete", "resource_delete"):
            return self._random_unreferenced_delete(district, kind.split("_")[0] + "s")
        if kind == "district_update":
            return {"op": "update", "id": did, "set": {"last_sync": iso_ms(self.ds.now)}}
        return None

    def _random_role_op(self, rng: random.Random, district: District, add: bool) -> Op | None:
        users = district.collections["users"]
        if add:
            admins = set(users.role_ids.get("district_admin", []))
            pool = [u for u in users.role_ids.get("teacher", [])[:200] if u not in admins]
            if pool:
                return {
                    "op": "add_role",
                    "user": pool[int(rng.random() * len(pool))],
                    "role": "district_admin",
                }
            return None
        staff = set(users.role_ids.get("staff", []))
        pool = [u for u in users.role_ids.get("teacher", []) if u in staff]
        if pool:
            return {
                "op": "drop_role",
                "user": pool[int(rng.random() * len(pool))],
                "role": "teacher",
            }
        return None

    def _random_unreferenced_delete(self, district: District, record_type: str) -> Op | None:
        """Delete only records created by earlier changes (nothing generated refers to them)."""
        coll = district.collections[record_type]
        created = [
            oid
            for oid in coll.ids[-5:]
            if oid not in coll.base_ids[-1:] and (not coll.base_ids or oid > coll.base_ids[-1])
        ]
        if record_type == "resources" and not created and coll.ids:
            created = [coll.ids[-1]]
        return {"op": "delete", "id": created[-1]} if created else None


def _relink_contact(role: dict[str, Any], students: list[str], r: gen.Rand) -> dict[str, Any]:
    """Point a freshly generated contact role at live students."""
    if "students" in role:
        role["students"] = students
        return role
    role["student_relationships"] = [
        {
            "relationship": gen.pick(r, gen.REL_TABLE),
            "student": s,
            "type": gen.pick(r, gen.REL_TYPE_TABLE),
        }
        for s in students
    ]
    return role
