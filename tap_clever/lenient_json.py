"""Decoding Clever's JSON when a source system left text that UTF-8 cannot hold.

Clever passes strings through from each district's SIS. A system that truncates text by UTF-16
code units can cut an emoji in half, leaving a lone surrogate (`"Zoë \\ud83d"`): legal JSON
text, but no Unicode string, so strict decoders (msgspec, orjson) refuse the whole page. Such a
value is not worth failing a district over. `repair` rewrites what UTF-8 cannot carry as U+FFFD
(the Unicode replacement character) and counts the replacements, so the page decodes and the
run can say how many values were damaged at the source.

Only a page that failed to decode is repaired, so clean pages pay nothing.
"""

from __future__ import annotations

import re

REPLACEMENT_ESCAPE = rb"\ufffd"

# Every backslash escape in a JSON text, left to right. A surrogate pair is kept; a high or low
# surrogate on its own is the damage; any other escape (`\\`, `\"`, `\n`, `\u00e9`) is consumed
# whole, so the `ud83d` in the text `\\ud83d` (an escaped backslash) is never mistaken for one.
_ESCAPE = re.compile(
    rb"\\(?:"
    rb"(?P<pair>u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?P<lone>u[dD][89a-fA-F][0-9a-fA-F]{2})"
    rb"|.)",
    re.DOTALL,
)


def repair(body: bytes) -> tuple[bytes, int]:
    """The body with lone surrogate escapes and invalid UTF-8 replaced by U+FFFD, and how many
    replacements that took."""
    replaced = 0

    def replace_lone(match: re.Match[bytes]) -> bytes:
        nonlocal replaced
        if match.group("lone") is None:
            return match.group(0)
        replaced += 1
        return REPLACEMENT_ESCAPE

    repaired = _ESCAPE.sub(replace_lone, body)
    try:
        repaired.decode("utf-8")
    except UnicodeDecodeError:
        # Raw bytes that are not UTF-8 at all (a source system writing Latin-1, say).
        text = repaired.decode("utf-8", errors="replace")
        replaced += text.count("\ufffd") - repaired.count("\ufffd".encode())
        repaired = text.encode("utf-8")
    return repaired, replaced
