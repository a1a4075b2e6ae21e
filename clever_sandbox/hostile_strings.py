"""Strings a source system really sends, which break careless pipelines.

Clever passes free text through as the district's SIS holds it, and "strings are UTF-8 of any
length". The source-system pass (``source_quirks.py``) swaps a free-text value for one of
:data:`HOSTILE_STRINGS` now and then; :data:`LONE_SURROGATE` is planted deterministically
instead (see ``generate.plant_lone_surrogate``), because a JSON consumer that meets it on every
page would be measuring the fallback decoder, not the data.
"""

from __future__ import annotations

_LONG_TEXT = ("Lorem ipsum dolor sit amet, Ñandú señor ✓ " * 250)[:10_000]

HOSTILE_STRINGS: tuple[str, ...] = (
    "Zoë 👩‍👩‍👧‍👦",  # family emoji: four people joined by ZWJs
    "Kai 👍🏽",  # emoji with a skin-tone modifier
    "🦄 Unicorn Club",
    "Zoe\u0301",  # "Zoé" decomposed (NFD): e + combining acute accent
    "Jose\u0301 Mun\u0303oz",  # NFD accent and tilde
    "مريم الحسن",  # Arabic, right to left
    "שרה כהן",  # Hebrew, right to left
    "Room 12 غرفة",  # left-to-right and right-to-left mixed
    "Anne\u200bMarie",  # zero-width space
    "Jo\u200dhn",  # zero-width joiner inside a word
    "\ufeffMaple",  # zero-width no-break space (a BOM) in front
    "Line one\nLine two",
    "Tab\tSeparated",
    "Carriage\r\nReturn",
    "  Padded on both sides  ",
    " Leading space",
    "Trailing space ",
    _LONG_TEXT,  # 10,000 characters
    "名" * 10_000,  # 10,000 characters, 30,000 UTF-8 bytes
)
"""Drawn at random for free-text values: emoji (ZWJ sequences, skin tones), decomposed
accents, right-to-left text, zero-width characters, tabs and newlines, leading and trailing
spaces, 10,000-character values."""

LONE_SURROGATE = "Zoë \ud83d"
"""An emoji a source system cut in half: the high surrogate of U+1F600..U+1F64F with no low
one. It cannot be encoded as UTF-8, so the JSON text carries it as the escape ``\\ud83d``."""
