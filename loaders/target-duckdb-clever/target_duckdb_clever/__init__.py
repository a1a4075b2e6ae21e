"""A Singer target that loads RECORD and BATCH messages into DuckDB (the tap-clever loader)."""

from __future__ import annotations

from target_duckdb_clever.target import TargetDuckDBClever, main

__all__ = ["TargetDuckDBClever", "main"]
