"""Looking for the sandbox's personal data where it must not be (tests of `pii_mode`).

The values looked for are every non-empty text at a field tap_clever/privacy.py lists, in every
record the sandbox serves and every record its events embed. A value that also appears in a
field the tap keeps (a first name that is also a city) is left out: no scan could tell a leak
from the kept field. Short values (a last name "Li") would match inside unrelated text, so a
value is looked for as a whole text (a record's value, a table's cell, a JSON string in it),
and only a distinctive value (an email, a phone, a date) also inside any text, logs included.
"""

from __future__ import annotations

import copy
import json
import re
import typing as t
from collections.abc import Iterable, Iterator

from tap_clever import privacy

# Any salt: the hashes only have to differ from every value looked for.
_ANY_SALT = "privacy-scan-salt-0123456789"


def strings_in(value: t.Any) -> Iterator[str]:
    """Every text in a JSON value (numbers as their JSON text); a text holding a JSON object
    or list is looked into as well (a loader may store nested objects as text)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value
        if value[:1] in ("{", "["):
            try:
                nested = json.loads(value)
            except ValueError:
                return
            yield from strings_in(nested)
    elif value is not None:
        yield json.dumps(value)


def sandbox_records(server: t.Any) -> list[tuple[str, dict[str, t.Any]]]:
    """(record type, record) for every record a `clever_sandbox.SandboxServer` serves now, and
    every record its events embed (`data.object`, `data.previous_attributes`)."""
    record_types = ("districts", "schools", "users", "sections", "terms", "courses", "resources")
    records = [(kind, record) for kind in record_types for record in server.records(kind)]
    for event in server.events():
        for part in ("object", "previous_attributes"):
            embedded = (event.get("data") or {}).get(part)
            if isinstance(embedded, dict):
                records.append((privacy.event_record_type(event), embedded))
    return records


def personal_values(
    records: Iterable[tuple[str, dict[str, t.Any]]], *, identifiers: bool
) -> set[str]:
    """The texts to look for: at the personal fields of the records, and at the matching
    identifiers too if asked (hash mode hashes them; drop mode keeps them)."""
    records = list(records)
    listings = [privacy.PERSONAL_FIELDS, *([privacy.MATCHING_IDENTIFIERS] if identifiers else [])]
    found: set[str] = set()
    for record_type, record in records:
        for listing in listings:
            for path in listing.get(record_type, ()):
                node: t.Any = record
                for key in path:
                    node = node.get(key) if isinstance(node, dict) else None
                found.update(strings_in(node))
    # What the tap keeps: every text of each record once every listed field is hashed.
    policy = privacy.PrivacyPolicy(privacy.HASH, _ANY_SALT)
    kept = {
        text
        for record_type, record in records
        for text in strings_in(policy.protect(record_type, copy.deepcopy(record)))
    }
    return found - kept - {""}


def distinctive(value: str) -> bool:
    """Whether a value cannot turn up inside other text by chance: six characters or more, a
    digit or an @ among them (an email, a phone, a date, a username), and not bare hex digits
    (a student number "00000054" is part of many a Clever id; any hex, of a hash)."""
    return (
        len(value) >= 6
        and any(c.isdigit() or c == "@" for c in value)
        and re.fullmatch("[0-9a-f]+", value) is None
    )


def leaks(texts: set[str], output: str, values: set[str]) -> list[str]:
    """The values found: as a whole text among `texts` (every value of the output), or, if
    distinctive, anywhere inside `output`."""
    return sorted(
        value for value in values if value in texts or (distinctive(value) and value in output)
    )
