"""target-duckdb 0.8.0, with its batch COPY told that the CSV file has no header row.

target-duckdb writes each batch to a header-less CSV file and loads it with
``COPY <tmp> FROM '<file>' WITH (new_line '\\r\\n')``. Without ``header false`` DuckDB's CSV
sniffer guesses whether the first line is a header, and for many column-type mixes (all
VARCHAR, or VARCHAR next to JSON and TIMESTAMP) it guesses yes: the first record of every
batch is silently dropped. Upstream fixed it by adding ``header false`` to that COPY
(jwills/target-duckdb, merged after 0.8.0, unreleased at the time of writing).

This wrapper applies exactly that change: it hands target-duckdb a connection whose
``execute`` adds ``header false`` to the one COPY statement, and refuses to run if the
statement no longer looks like 0.8.0's (so an upgrade cannot silently skip it). It also
creates the database file's folder, so the pipeline's default path works on a fresh clone.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import target_duckdb

PATCHED_TARGET_DUCKDB_VERSION = "0.8.0"
UPSTREAM_COPY_OPTIONS = "WITH (new_line '\\r\\n')"
FIXED_COPY_OPTIONS = "WITH (new_line '\\r\\n', header false)"


class HeaderlessCopyConnection:
    """Delegates to a DuckDB connection; rewrites target-duckdb's batch COPY on the way."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def execute(self, query: str, *args: Any) -> HeaderlessCopyConnection:
        if query.lstrip().upper().startswith("COPY "):
            if UPSTREAM_COPY_OPTIONS not in query:
                raise RuntimeError(
                    "target-duckdb's COPY statement changed; the header fix in "
                    f"target_duckdb_clever no longer applies: {query}"
                )
            query = query.replace(UPSTREAM_COPY_OPTIONS, FIXED_COPY_OPTIONS)
        self._connection.execute(query, *args)
        return self


def _connect_with_header_fix(config: dict[str, Any]) -> HeaderlessCopyConnection:
    path = str(config.get("path") or config.get("filepath") or "")
    if path and ":" not in path:  # a local file, not :memory: or md:/motherduck:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return HeaderlessCopyConnection(_upstream_duckdb_connect(config))


_upstream_duckdb_connect = target_duckdb.duckdb_connect


def main() -> None:
    """Run target-duckdb's own CLI with the fixed connection."""
    installed = version("target-duckdb")
    if installed != PATCHED_TARGET_DUCKDB_VERSION:
        raise RuntimeError(
            f"target_duckdb_clever patches target-duckdb {PATCHED_TARGET_DUCKDB_VERSION}, "
            f"found {installed}: check whether the header fix is still needed"
        )
    target_duckdb.duckdb_connect = _connect_with_header_fix
    target_duckdb.main()
