"""The loader tests run `target-duckdb-clever` from this checkout (see harness.py).

A few tests also import the package, to pin the SDK behaviour it relies on: its source folder
goes on sys.path.
"""

from __future__ import annotations

import sys
from pathlib import Path

LOADER_SOURCE = Path(__file__).resolve().parents[2] / "loaders" / "target-duckdb-clever"

if str(LOADER_SOURCE) not in sys.path:
    sys.path.insert(0, str(LOADER_SOURCE))
