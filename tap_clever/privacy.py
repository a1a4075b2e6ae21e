"""Student privacy: which fields of a Clever record are personal, and what `pii_mode` does to them.

Clever rosters are student records (FERPA, COPPA). With `pii_mode`:

- `keep` (the default): values pass through as Clever sent them.
- `hash`: every personal value, and every identifier used to match people across systems, is
  replaced by the HMAC-SHA256 of the value under the secret `pii_salt`, as 64 lowercase hex
  digits. The same value gets the same hash in every run, district and field, so joins and
  record matching keep working, while nobody without the salt can recompute a hash from a
  guessed name or date of birth.
- `drop`: every personal value becomes null. Matching identifiers are kept: without them a
  district could not match the warehouse's rows to its own systems.

`null` and `""` stay as they are in hash mode (they hold nothing personal, and a hash would make
"unset" look like a value). A path that names an object covers everything in it, fields Clever
adds later included: hash mode hashes each of its values, drop mode nulls them and keeps the
object (a user's `name` stays an object, as the schema says). Non-string values are hashed as
their JSON text, so a hash is always a string; every listed field is a string in Clever's spec,
so the stream schemas stay true in every mode (tests/tap/test_privacy.py checks it).

Applied in the streams' `post_process`, before a record is written as a RECORD message or into
a BATCH file, and to the records each event embeds (`data.object`, `data.previous_attributes`)
together with the catalog selection of that record type's stream (`apply_selection`). The list
and its reasons are documented in docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import typing as t
from collections.abc import Callable, Mapping

from tap_clever.errors import PiiConfigError

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import SelectionMask

KEEP = "keep"
HASH = "hash"
DROP = "drop"
PII_MODES = (KEEP, HASH, DROP)
# A short salt can be guessed, and with it every hash of a name or a date of birth reversed.
MIN_SALT_LENGTH = 16

FieldPath = tuple[str, ...]
Change = Callable[[t.Any], t.Any]
#: Keys of a record down to the fields to change, each ending in the change itself.
ChangeTree = dict[str, "ChangeTree | Change"]
#: Distinct values whose hash is remembered (about 200 bytes each), then forgotten at once.
HASH_CACHE_SIZE = 100_000


def _paths(*dotted: str) -> tuple[FieldPath, ...]:
    return tuple(tuple(path.split(".")) for path in dotted)


#: Personal fields, per record type (stream name): hashed in hash mode, null in drop mode.
PERSONAL_FIELDS: Mapping[str, tuple[FieldPath, ...]] = {
    "users": _paths(
        "name",  # first, middle, last (a contact's full name may be in `last` alone)
        "email",
        "roles.student.dob",
        "roles.student.preferred_name",
        "roles.student.location.address",
        "roles.student.location.lat",
        "roles.student.location.lon",
        "roles.student.credentials",  # district_username
        "roles.teacher.name",
        "roles.teacher.credentials",
        "roles.staff.credentials",
        "roles.contact.phone",
    ),
    "schools": _paths("principal.name", "principal.email"),
    "districts": _paths(
        "district_contact.name",
        "district_contact.email",
        # Not in Clever's v3.1 spec, but the contact object is open to fields Clever adds.
        "district_contact.phone",
    ),
}

#: Identifiers the district's systems use for a person, per record type: hashed in hash mode
#: (the same id still gives the same hash), kept in drop mode.
MATCHING_IDENTIFIERS: Mapping[str, tuple[FieldPath, ...]] = {
    "users": _paths(
        "roles.student.sis_id",
        "roles.student.state_id",
        "roles.student.student_number",
        "roles.teacher.sis_id",
        "roles.teacher.state_id",
        "roles.teacher.teacher_number",
        "roles.staff.staff_id",
        "roles.contact.sis_id",
    ),
}


def event_record_type(event: Mapping[str, t.Any]) -> str:
    """The record type an event is about: `users` for `users.updated`."""
    return str(event.get("type") or "").partition(".")[0]


def apply_selection(record: dict[str, t.Any], mask: SelectionMask) -> None:
    """Remove, in place, the properties a stream's catalog deselects from one of its records.

    The SDK's own rule (`pop_deselected_record_properties`), for the records events embed: the
    SDK applies it to a stream's records, never to an event's copy of one. A property the schema
    does not list follows its parent's selection.
    """
    _apply_selection(record, mask, ())


def _apply_selection(record: dict[str, t.Any], mask: SelectionMask, crumb: FieldPath) -> None:
    for name in list(record):
        child = (*crumb, "properties", name)
        if not mask[child]:
            del record[name]
        elif isinstance(record[name], dict):
            _apply_selection(record[name], mask, child)


class PrivacyPolicy:
    """What one run does to personal data: the configured mode and, in hash mode, its key."""

    def __init__(self, mode: str = KEEP, salt: str | None = None) -> None:
        _check(mode, salt)
        self.mode = mode
        # A keyed hash object, copied for each value (cheaper than keying one each time).
        self._hmac = (
            hmac.new(salt.encode("utf-8"), digestmod=hashlib.sha256) if salt is not None else None
        )
        # Hashes of values seen: names and dates of birth repeat across a district's users.
        self._hashes: dict[str, str] = {}
        # Per record type, the fields to change as a tree of keys ending in the change: one
        # walk of a record visits each part of it once, whichever fields it holds.
        self._changes: dict[str, ChangeTree] = {}
        if mode == KEEP:
            return
        personal = self._hash_tree if mode == HASH else _null_tree
        for record_type, paths in PERSONAL_FIELDS.items():
            for path in paths:
                _add_change(self._changes.setdefault(record_type, {}), path, personal)
        if mode == HASH:
            for record_type, paths in MATCHING_IDENTIFIERS.items():
                for path in paths:
                    _add_change(self._changes.setdefault(record_type, {}), path, self._hash_tree)

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> PrivacyPolicy:
        """The policy the tap's settings ask for; a PiiConfigError when they do not fit."""
        return cls(config.get("pii_mode") or KEEP, config.get("pii_salt") or None)

    def hash_value(self, value: t.Any) -> str:
        """HMAC-SHA256 of the value under the salt, as hex; a non-string as its JSON text."""
        if self._hmac is None:
            raise RuntimeError("hash_value needs pii_mode hash")
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        hashed = self._hashes.get(text)
        if hashed is None:
            digest = self._hmac.copy()
            # A lone surrogate (text a source system cut) must not stop the run.
            digest.update(text.encode("utf-8", "surrogatepass"))
            hashed = digest.hexdigest()
            if len(self._hashes) >= HASH_CACHE_SIZE:
                self._hashes.clear()
            self._hashes[text] = hashed
        return hashed

    def protect(self, record_type: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
        """The record with the mode applied to its personal fields (changed in place)."""
        changes = self._changes.get(record_type)
        if changes:
            _apply_changes(record, changes)
        return record

    def protect_event(
        self, event: dict[str, t.Any], mask: SelectionMask | None = None
    ) -> dict[str, t.Any]:
        """The event with its embedded records (`data.object`, `data.previous_attributes`)
        reduced to the properties `mask` selects, and the mode applied to them."""
        data = event.get("data")
        if not isinstance(data, dict):
            return event
        record_type = event_record_type(event)
        for key in ("object", "previous_attributes"):
            embedded = data.get(key)
            if isinstance(embedded, dict):
                if mask is not None:
                    apply_selection(embedded, mask)
                self.protect(record_type, embedded)
        return event

    def _hash_tree(self, value: t.Any) -> t.Any:
        if isinstance(value, dict):
            return {key: self._hash_tree(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._hash_tree(item) for item in value]
        if value is None or value == "":
            return value
        return self.hash_value(value)


def _null_tree(value: t.Any) -> t.Any:
    # An object keeps its keys (the schema may require the object itself); anything else goes.
    if isinstance(value, dict):
        return {key: _null_tree(item) for key, item in value.items()}
    return None


def _add_change(tree: ChangeTree, path: FieldPath, change: Change) -> None:
    for key in path[:-1]:
        subtree = tree.setdefault(key, {})
        if not isinstance(subtree, dict):
            return  # a parent is changed whole already
        tree = subtree
    tree[path[-1]] = change


def _apply_changes(node: dict[str, t.Any], tree: ChangeTree) -> None:
    for key, step in tree.items():
        if key not in node:
            continue  # the record does not hold this field (another role, an update's subset)
        if isinstance(step, dict):
            child = node[key]
            if isinstance(child, dict):
                _apply_changes(child, step)
        else:
            node[key] = step(node[key])


def _check(mode: t.Any, salt: t.Any) -> None:
    """One clear error for settings that do not fit together; never echoes the salt."""
    if mode not in PII_MODES:
        raise PiiConfigError(f"pii_mode is {mode!r}; it must be one of keep, hash or drop.")
    if mode == HASH and salt is None:
        raise PiiConfigError(
            "pii_mode is hash but pii_salt is not set: hashing needs a secret salt "
            f"(TAP_CLEVER_PII_SALT) of at least {MIN_SALT_LENGTH} characters, for example the "
            "output of `openssl rand -hex 32`."
        )
    if mode == HASH and (not isinstance(salt, str) or len(salt) < MIN_SALT_LENGTH):
        raise PiiConfigError(
            f"pii_salt is shorter than {MIN_SALT_LENGTH} characters: with a short salt, hashed "
            "names and dates of birth can be recovered by guessing. Use a long random secret, "
            "for example the output of `openssl rand -hex 32`."
        )
    if mode != HASH and salt is not None:
        raise PiiConfigError(
            f"pii_salt is set but pii_mode is {mode}: only pii_mode hash uses the salt. Set "
            "pii_mode to hash to hash personal fields, or unset pii_salt."
        )
