"""Clever-style ObjectIDs and the timestamps derived from them.

An ObjectID here is 12 bytes written as 24 lowercase hex digits: a 4-byte big-endian Unix
timestamp followed by an 8-byte counter. The counter is global to a sandbox (every district,
every record type, every event), so ids are unique everywhere and sort in creation order, and
plain string comparison of two ids is the same as comparing their creation order. Paging relies
on that: ``starting_after``/``ending_before`` are range conditions on the id string.
"""

from __future__ import annotations

import calendar
import time
from functools import lru_cache

ID_LENGTH = 24
_HEX = frozenset("0123456789abcdef")
_MAX_ID_INT = (1 << 96) - 1


def make_id(timestamp: int, counter: int) -> str:
    """Build the ObjectID for ``counter`` created at Unix time ``timestamp``."""
    return f"{timestamp:08x}{counter:016x}"


def id_counter(oid: str) -> int:
    """Return the counter part of an id made by :func:`make_id`."""
    return int(oid[8:], 16)


def id_timestamp(oid: str) -> int:
    """Return the Unix timestamp embedded in an ObjectID."""
    return int(oid[:8], 16)


def is_object_id(value: str) -> bool:
    """True for a 24-character lowercase hex string."""
    return len(value) == ID_LENGTH and all(c in _HEX for c in value)


def id_before(oid: str) -> str | None:
    """The id immediately preceding ``oid`` (so ``starting_after`` it includes ``oid``)."""
    if not is_object_id(oid):
        return None
    value = int(oid, 16)
    return f"{value - 1:024x}" if value > 0 else None


def id_after(oid: str) -> str | None:
    """The id immediately following ``oid`` (so ``ending_before`` it includes ``oid``)."""
    if not is_object_id(oid):
        return None
    value = int(oid, 16)
    return f"{value + 1:024x}" if value < _MAX_ID_INT else None


@lru_cache(maxsize=65536)
def iso_ms(timestamp: int) -> str:
    """Format a Unix time like Clever's datetimes: ``2024-08-01T00:00:00.000Z``.

    Cached because thousands of generated records share the same second.
    """
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))


def parse_iso(value: str) -> int:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.fff]Z`` (or a bare date) into a Unix time."""
    text = value.strip().rstrip("Z")
    text = text.split(".")[0]
    fmt = "%Y-%m-%dT%H:%M:%S" if "T" in text else "%Y-%m-%d"
    return calendar.timegm(time.strptime(text, fmt))
