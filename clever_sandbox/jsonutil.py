"""JSON encoding for the sandbox, with orjson when present and the stdlib otherwise.

Responses must be byte-identical for the same seed, so every encoder call goes through
:func:`dumps`, which always sorts keys (Clever's own payloads list keys alphabetically) and
never escapes non-ASCII text. orjson is only an accelerator: nothing may depend on it.
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
        out: bytes = _orjson.dumps(obj, option=_orjson.OPT_SORT_KEYS)
        return out
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def dumps_unsorted(obj: Any) -> bytes:
    """Serialize ``obj`` keeping insertion order (for envelopes whose order we control)."""
    if _orjson is not None:
        out: bytes = _orjson.dumps(obj)
        return out
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON text produced by :func:`dumps` (or sent by a client)."""
    if _orjson is not None:
        return _orjson.loads(data)
    return json.loads(data)
