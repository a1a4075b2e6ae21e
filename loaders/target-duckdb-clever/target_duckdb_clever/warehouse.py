"""The DuckDB database: its connection settings, and each raw table's shape (create, evolve)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from target_duckdb_clever import database_file, sql_text
from target_duckdb_clever.column_types import widened
from target_duckdb_clever.errors import LoaderError

logger = logging.getLogger(__name__)


def connect(
    path: str, *, memory_limit: str, temp_directory: Path | None, threads: int | None
) -> duckdb.DuckDBPyConnection:
    """Open (or create) the database file, its folder included, with memory bounded.

    Under `memory_limit` DuckDB spills to `temp_directory` (default: next to the database file)
    instead of growing; the session time zone is UTC so that timestamps with an offset are
    stored as UTC wall time whatever the machine's zone.
    """
    if path != ":memory:" and not path.startswith(("md:", "motherduck:")):
        path = str(Path(path).expanduser())
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": memory_limit,
        # Rows may land in any order (nothing reads a raw table by position); keeping the
        # order would make large inserts hold more in memory.
        "preserve_insertion_order": False,
    }
    if temp_directory is not None:
        temp_directory.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_directory)
    if threads:
        config["threads"] = threads
    try:
        connection = duckdb.connect(path, config=config)
    except duckdb.Error as error:
        detail = " ".join(str(error).split())
        if "lock" in detail.lower():
            fix = "another program has it open (a load, dbt, a DuckDB shell): close it, then rerun"
        else:
            fix = "set it to a database file in a folder this user can write"
        raise LoaderError(
            f"{database_file.SETTING} is {path}, which DuckDB cannot open ({detail}): {fix}."
        ) from None
    connection.execute("SET TimeZone = 'UTC'")
    # DuckDB may draw a progress bar on the terminal; stdout here carries Singer STATE.
    connection.execute("SET enable_progress_bar = false")
    return connection


def prepare_table(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: Mapping[str, str],
    key: Sequence[str],
) -> dict[str, str]:
    """Create the table, or add and widen its columns for `columns`; return its column types.

    A new property becomes a new column (NULL in existing rows). A property whose type changed
    keeps its column if the column's type holds the new values, otherwise the column is widened
    (see `column_types.widened`): no value is dropped. A column the schema no longer has stays.
    """
    # One transaction (one WAL sync) for all of a table's DDL.
    connection.begin()
    try:
        types = _prepare(connection, schema, table, columns, key)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return types


def _prepare(
    connection: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: Mapping[str, str],
    key: Sequence[str],
) -> dict[str, str]:
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {sql_text.identifier(schema)}")
    name = sql_text.table_name(schema, table)
    existing = _column_types(connection, schema, table)
    if not existing:
        definitions = [
            f"{sql_text.identifier(column)} {kind}" + (" NOT NULL" if column in key else "")
            for column, kind in columns.items()
        ]
        missing_key = [k for k in key if k not in columns]
        if missing_key:
            raise LoaderError(f"{table}: key properties {missing_key} are not in the schema")
        connection.execute(f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(definitions)})")
        return dict(columns)
    for column, wanted in columns.items():
        current = _lookup(existing, column)
        if current is None:
            logger.info("%s: adding column %s %s", table, column, wanted)
            connection.execute(
                f"ALTER TABLE {name} ADD COLUMN {sql_text.identifier(column)} {wanted}"
            )
            existing[column] = wanted
            continue
        target = widened(current, wanted)
        if target != current:
            logger.warning(
                "%s: column %s is %s, the schema now says %s: changing it to %s",
                table,
                column,
                current,
                wanted,
                target,
            )
            try:
                connection.execute(
                    f"ALTER TABLE {name} ALTER COLUMN {sql_text.identifier(column)} "
                    f"SET DATA TYPE {target}"
                )
            except duckdb.Error as error:
                raise LoaderError(
                    f"{table}: cannot change column {column} from {current} to {target}: {error}"
                ) from None
            existing[_actual_name(existing, column)] = target
    return {column: _lookup(existing, column) or columns[column] for column in columns}


def _column_types(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND lower(schema_name) = lower(?) "
        "AND lower(table_name) = lower(?) "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return {str(column): str(kind) for column, kind in rows}


def _actual_name(existing: Mapping[str, str], column: str) -> str:
    # DuckDB matches identifiers case-insensitively: "Name" finds a column made as "name".
    for name in existing:
        if name.lower() == column.lower():
            return name
    return column


def _lookup(existing: Mapping[str, str], column: str) -> str | None:
    return existing.get(_actual_name(existing, column))
