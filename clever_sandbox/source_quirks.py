"""The source-system pass: fields Clever does not guarantee arrive as the district's SIS has them.

Clever guarantees a handful of fields per record type (``schema.py``); everything else comes
"as it exists in the source system": a value, ``null``, ``""`` or nothing at all. Generators
fill every field in; one pass over the finished record, driven by the schema's field
descriptions, then makes it look like real district data. For every field that may be missing
(``Field.may_be_missing``), one draw of the record's seeded ``r()``:

* with probability :data:`MISSING_RATE` the value is replaced, each replacement equally likely:
  strings by ``null``, ``""`` or absence; arrays by ``null``, ``[]`` or absence; objects,
  booleans and numbers by ``null`` or absence;
* free-text strings (and the string values of free-form objects such as ``ext``) are then
  replaced by a hostile string with probability :data:`HOSTILE_RATE` (guaranteed ones too: a
  guaranteed name is present, not well-behaved);
* nested objects that stay, and the object items of arrays, get the same treatment for their
  own fields.

A plan compiled once per shape turns the description into a tuple of steps, so the pass costs
one draw per field that can change, and nothing for guaranteed leaves. That is still too much
for a benchmark server generating a million users, so :class:`Outcomes` runs the same pass in
advance over a probe record that carries every described field, keeps what it changed, and
replays one of those outcomes on a real record: fields the record lacks are skipped, so each
present field is still changed with the rates above.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .jsonutil import dumps, loads
from .schema import ARRAY, BOOLEAN, NUMBER, OBJECT, STRING, Shape

MISSING_RATE = 0.06
"""Share of present, non-guaranteed fields replaced by null, "" (strings), [] (arrays) or
absence: 2 % each for strings and arrays, 3 % each for objects, booleans and numbers."""
HOSTILE_RATE = 0.01
"""Share of free-text values replaced by a hostile string (when the pool is switched on)."""

_ABSENT = object()
_EMPTY_LIST = object()
_REPLACEMENTS: dict[str, tuple[Any, ...]] = {
    STRING: (None, "", _ABSENT),
    ARRAY: (None, _EMPTY_LIST, _ABSENT),
}
_OTHER_REPLACEMENTS: tuple[Any, ...] = (None, _ABSENT)


class _Step(NamedTuple):
    """One field's part of the pass (a tuple: the pass unpacks it in its hot loop)."""

    key: str
    missing_rate: float
    """:data:`MISSING_RATE`, or 0 for a field that is never missing."""
    threshold: float
    """Draws below it change the value: ``missing_rate``, plus :data:`HOSTILE_RATE` for text."""
    replacements: tuple[Any, ...]
    inner: Plan | None
    """Plan of an object's fields, or of each object item of an array."""
    free_form: bool
    """An object without described fields (``ext``): its string values are free text."""


Plan = tuple[_Step, ...]


def compile_plan(shape: Shape, skip: Iterable[str] = ()) -> Plan:
    """The steps of the pass for records of ``shape``.

    ``skip`` lists dotted paths (``roles.student.location``) whose values already went through
    the pass, such as the generator's pre-drawn pools; the pass leaves them alone.
    """
    return _compile(shape, frozenset(skip), "")


def _compile(shape: Shape, skip: frozenset[str], prefix: str) -> Plan:
    steps: list[_Step] = []
    for key, field in shape.items():
        path = prefix + key
        if path in skip:
            continue
        inner = _compile(field.fields, skip, path + ".") if field.fields is not None else None
        missing_rate = MISSING_RATE if field.may_be_missing else 0.0
        step = _Step(
            key=key,
            missing_rate=missing_rate,
            threshold=missing_rate + (HOSTILE_RATE if field.text else 0.0),
            replacements=_REPLACEMENTS.get(field.kind, _OTHER_REPLACEMENTS),
            inner=inner or None,
            free_form=field.kind == OBJECT and field.fields is None,
        )
        if step.threshold or step.inner or step.free_form:
            steps.append(step)
    return tuple(steps)


def apply_source_quirks(
    r: Callable[[], float], record: dict[str, Any], plan: Plan, hostile: tuple[str, ...]
) -> None:
    """Make ``record`` (changed in place) as messy as its source system; ``hostile`` is the
    pool of hostile strings, empty to keep free text well-behaved."""
    for key, missing_rate, threshold, replacements, inner, free_form in plan:
        if key not in record:
            continue
        if threshold:
            roll = r()
            if roll < threshold:
                _replace(record, key, roll, missing_rate, replacements, hostile)
                continue
        if inner is not None:
            value = record[key]
            if type(value) is dict:
                apply_source_quirks(r, value, inner, hostile)
            elif type(value) is list:
                for item in value:
                    if type(item) is dict:
                        apply_source_quirks(r, item, inner, hostile)
        elif free_form:
            value = record[key]
            if type(value) is dict:
                for inner_key, inner_value in value.items():
                    if type(inner_value) is str:
                        roll = r()
                        if roll < HOSTILE_RATE and hostile:
                            value[inner_key] = _pick(hostile, roll / HOSTILE_RATE)


def _replace(
    record: dict[str, Any],
    key: str,
    roll: float,
    missing_rate: float,
    replacements: tuple[Any, ...],
    hostile: tuple[str, ...],
) -> None:
    """Apply a draw that fell below a step's threshold."""
    if roll < missing_rate:
        replacement = replacements[int(roll / missing_rate * len(replacements))]
        if replacement is _ABSENT:
            del record[key]
        else:
            record[key] = [] if replacement is _EMPTY_LIST else replacement
    elif hostile and type(record[key]) is str:
        # The hostile band sits just above the missing one, so the same draw decides and
        # switching the pool off changes nothing else.
        record[key] = _pick(hostile, (roll - missing_rate) / HOSTILE_RATE)


def _pick(pool: tuple[str, ...], fraction: float) -> str:
    return pool[min(int(fraction * len(pool)), len(pool) - 1)]


_PROBE_TEXT = "probe"
_HOSTILE_HERE = "\x00hostile"
"""Put in a probe where the pass chose hostile text; replaying draws the string per record."""
_PROBE_ITEMS = 2
"""Object items of each array in a probe. A generated student has at most two enrollments; the
third relationship of a contact of three students keeps its values."""
Edit = tuple[tuple[str | int, ...], str, Any]
"""Where (keys and list positions down to the object), which key, and the replacement."""


class Outcomes:
    """Pre-drawn results of the pass over records of one shape, replayed on real records.

    Each outcome is what :func:`apply_source_quirks` changed in a probe record holding every
    field of the shape (two items per array of objects). Replaying skips edits whose field
    the record does not have, and puts hostile text only where the record holds a string, as
    the pass itself would; which hostile string is drawn per record.
    """

    def __init__(self, shape: Shape, skip: Iterable[str], count: int, seed: str) -> None:
        skip = frozenset(skip)
        plan = compile_plan(shape, skip)
        probe = _probe(shape, skip, "")
        r = random.Random(seed).random
        outcomes = []
        probe_json = dumps(probe)
        for _ in range(count):
            messed = loads(probe_json)  # a deep copy, several times faster than copy.deepcopy
            apply_source_quirks(r, messed, plan, (_HOSTILE_HERE,))
            outcomes.append(tuple(_diff(probe, messed, ())))
        self._outcomes: tuple[tuple[Edit, ...], ...] = tuple(outcomes)

    def apply(
        self, r: Callable[[], float], record: dict[str, Any], hostile: tuple[str, ...]
    ) -> None:
        """Replay one outcome, drawn with ``r``, on ``record`` (changed in place)."""
        outcomes = self._outcomes
        for path, key, replacement in outcomes[int(r() * len(outcomes))]:
            target: Any = record
            for step in path:  # no try/except: most misses are objects the record lacks
                if type(target) is dict:
                    target = target.get(step)
                elif type(target) is list and type(step) is int and step < len(target):
                    target = target[step]
                else:
                    target = None
                    break
            if type(target) is not dict or key not in target:
                continue
            if replacement is _ABSENT:
                del target[key]
            elif replacement is _HOSTILE_HERE:
                fraction = r()  # drawn with the pool off too, so nothing else changes
                if hostile and type(target[key]) is str:
                    target[key] = _pick(hostile, fraction)
            else:
                target[key] = [] if type(replacement) is list else replacement


def _probe(shape: Shape, skip: frozenset[str], prefix: str) -> dict[str, Any]:
    """A record of ``shape`` with every field present (skipped paths left out)."""
    probe: dict[str, Any] = {}
    for key, field in shape.items():
        path = prefix + key
        if path in skip:
            continue
        if field.fields is not None:
            inner = _probe(field.fields, skip, path + ".")
            if field.kind == ARRAY:
                probe[key] = [copy.deepcopy(inner) for _ in range(_PROBE_ITEMS)]
            else:
                probe[key] = inner
        else:
            probe[key] = {
                STRING: _PROBE_TEXT,
                ARRAY: [_PROBE_TEXT],
                OBJECT: {},
                BOOLEAN: True,
                NUMBER: 0,
            }[field.kind]
    return probe


def _diff(before: dict[str, Any], after: dict[str, Any], path: tuple[str | int, ...]) -> list[Edit]:
    """What the pass changed in a copy of ``before``."""
    edits: list[Edit] = []
    for key, old in before.items():
        if key not in after:
            edits.append((path, key, _ABSENT))
            continue
        new = after[key]
        if type(old) is dict and type(new) is dict:
            edits.extend(_diff(old, new, (*path, key)))
        elif type(old) is list and type(new) is list and len(new) == len(old):
            for position, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
                if type(old_item) is dict:
                    edits.extend(_diff(old_item, new_item, (*path, key, position)))
        elif new != old:
            edits.append((path, key, new))
    return edits
