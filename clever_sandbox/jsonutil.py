"""JSON encoding for the sandbox, with orjson when present and the stdlib otherwise.

Responses must be byte-identical for the same seed, so every encoder call goes through
:func:`dumps`, which always sorts keys (Clever's own payloads list keys alphabetically) and
never escapes non-ASCII text. orjson is only an accelerator: nothing may depend on it.

A string holding a lone UTF-16 surrogate (an emoji a source system cut in half) cannot be
written as UTF-8. Such a value is sent the way Clever-like servers do, as a ``\\ud83d`` escape:
the whole document is then encoded by the stdlib with ``ensure_ascii``, whichever backend is
installed, so the bytes stay the same. :func:`loads` reads those escapes back into the str.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

_orjson: ModuleType | None
try:  # pragma: no cover - exercised implicitly by whichever backend is installed
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

HAVE_ORJSON = _orjson is not None


def dumps(obj: Any) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON with sorted keys."""
    if _orjson is not None:
        try:
            out: bytes = _orjson.dumps(obj, option=_orjson.OPT_SORT_KEYS)
            return out
        except TypeError:  # orjson's error for a lone surrogate
            return _ascii_dumps(obj, sort_keys=True)
    return _stdlib_dumps(obj, sort_keys=True)


def dumps_unsorted(obj: Any) -> bytes:
    """Serialize ``obj`` keeping insertion order (for envelopes whose order we control)."""
    if _orjson is not None:
        try:
            out: bytes = _orjson.dumps(obj)
            return out
        except TypeError:
            return _ascii_dumps(obj, sort_keys=False)
    return _stdlib_dumps(obj, sort_keys=False)


def _stdlib_dumps(obj: Any, sort_keys: bool) -> bytes:
    text = json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return _ascii_dumps(obj, sort_keys)


def _ascii_dumps(obj: Any, sort_keys: bool) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys, ensure_ascii=True).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON text produced by :func:`dumps` (or sent by a client)."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # orjson refuses lone-surrogate escapes; the stdlib reads them
    return json.loads(data)
