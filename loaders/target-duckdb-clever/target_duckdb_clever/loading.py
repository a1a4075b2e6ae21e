"""One load: JSON-lines files upserted into a raw table by DuckDB, in one transaction.

Per file, in manifest order (so a later file's record for a key wins over an earlier one's):
  1. the file's keys go to a temp table (read_json of the key columns only, which is cheap);
  2. the table's rows with those keys are deleted;
  3. the file's rows are inserted; only when a key repeats within the file, a window keeps the
     last record for it (file order, from read_json's ordinality).
Into an empty table (a first snapshot) steps 1-2 are skipped and a repeated key is looked for
in the table after the insert.
The tables have no PRIMARY KEY index: DuckDB's ART index made a reload of 230,000 users ~3x
slower, and INSERT OR REPLACE ran out of memory at a 512MB limit (see the README). The delete
and the key column's NOT NULL keep one row per key.

The first attempt reads every column typed as the table wants it, so a bad value anywhere fails
the statement. Then the load is rolled back and redone *carefully*: the file is staged with
typed columns read as text, each bad value is counted and stored as NULL (TRY_CAST), and the
caller logs how many, where. Bad values are rare (the tap declares types Clever guarantees),
so the common case reads each file twice (keys, then rows) and never stages it.
"""

# Every statement here is built from quoted identifiers (sql_text) and the plan's column types;
# values are bound as parameters. S608 cannot see that.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from target_duckdb_clever import sql_text
from target_duckdb_clever.column_types import JSON, TIMESTAMP, VARCHAR
from target_duckdb_clever.errors import LoaderError

#: The longest JSON line (record) a file may have (read_json's default; a longer one fails the
#: load, naming the file). DuckDB's reader takes buffers of twice this size per thread out of
#: `memory_limit`, which is why that cannot go below about 96MB.
MAXIMUM_RECORD_BYTES = 16 * 1024 * 1024

_KEYS = "_target_duckdb_clever_keys"
_STAGE = "_target_duckdb_clever_stage"
_LINE = "_target_duckdb_clever_line"


@dataclass(frozen=True)
class LoadPlan:
    """What to load into which table, and how to fill the metadata columns."""

    stream: str
    table: str  # schema-qualified SQL name
    #: Table column -> its type in the table, for every column the stream's records may carry.
    columns: Mapping[str, str]
    key: Sequence[str]
    #: Values for columns a record leaves empty (BATCH files carry no `_sdc_*` metadata).
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Values for columns set for every row of this load whatever the record says.
    overrides: Mapping[str, Any] = field(default_factory=dict)
    hard_delete: bool = False


@dataclass
class BadValues:
    """Values of one column that are not of its type, stored as NULL."""

    count: int
    first_value: str
    first_key: str  # the key of the first record with such a value
    first_where: str  # "record 12 of <file>"


@dataclass
class LoadResult:
    rows: int = 0
    bad_values: dict[str, BadValues] = field(default_factory=dict)


def load_files(
    connection: duckdb.DuckDBPyConnection,
    plan: LoadPlan,
    files: Sequence[Path],
    *,
    compression: str,
    describe: Callable[[Path], str] = str,
) -> LoadResult:
    """Upsert `files` into the plan's table in one transaction; `describe` names a file.

    Raises LoaderError (the table unchanged) if the files cannot be loaded at all.
    """
    sources = [_Source(plan, path, compression, describe(path)) for path in files]
    try:
        return _in_transaction(connection, plan, sources, careful=False)
    except (duckdb.Error, _RepeatedKey):
        pass  # a bad value, a repeated key or a malformed file: the careful load sorts it out
    try:
        return _in_transaction(connection, plan, sources, careful=True)
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        names = ", ".join(source.name for source in sources)
        raise LoaderError(f"{plan.stream}: cannot load {names}: {first_line}") from None


def _in_transaction(
    connection: duckdb.DuckDBPyConnection,
    plan: LoadPlan,
    sources: Sequence[_Source],
    *,
    careful: bool,
) -> LoadResult:
    result = LoadResult()
    connection.begin()
    try:
        for source in sources:
            if careful:
                _load_carefully(connection, plan, source, result)
            else:
                _load_fast(connection, plan, source, result)
        if plan.hard_delete and "_sdc_deleted_at" in plan.columns:
            connection.execute(f"DELETE FROM {plan.table} WHERE _sdc_deleted_at IS NOT NULL")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    return result


@dataclass(frozen=True)
class _Source:
    plan: LoadPlan
    path: Path
    compression: str
    name: str  # how messages call the file

    def read_json(self, columns: Mapping[str, str], *, ordinality: bool = False) -> str:
        call = (
            f"read_json({sql_text.literal(str(self.path))}, format='newline_delimited', "
            f"records=true, compression={sql_text.literal(self.compression)}, "
            f"maximum_object_size={MAXIMUM_RECORD_BYTES}, "
            f"columns={sql_text.struct_of_types(columns)})"
        )
        return f"{call} WITH ORDINALITY" if ordinality else call


def _strict_read_type(table_type: str) -> str:
    # TIMESTAMPTZ honours an offset in the text ("+05:00"); the session is UTC, so the cast to
    # TIMESTAMP below gives UTC wall time. A plain TIMESTAMP read would drop the offset.
    return "TIMESTAMPTZ" if table_type.upper() == TIMESTAMP else table_type


def _strict_value(name: str, table_type: str) -> str:
    column = sql_text.identifier(name)
    return f"{column}::TIMESTAMP" if table_type.upper() == TIMESTAMP else column


def _loose_read_type(table_type: str) -> str:
    return JSON if table_type.upper() == JSON else VARCHAR


def _lenient_value(name: str, table_type: str) -> str:
    column = sql_text.identifier(name)
    if table_type.upper() in (JSON, VARCHAR):
        return column
    if table_type.upper() == TIMESTAMP:
        return f"TRY_CAST({column} AS TIMESTAMPTZ)::TIMESTAMP"
    return f"TRY_CAST({column} AS {table_type})"


def _select_list(plan: LoadPlan, value: dict[str, str], parameters: list[Any]) -> tuple[str, str]:
    """(insert column list, select list) with the metadata defaults and overrides bound."""
    names = list(plan.columns)
    expressions = []
    for name in names:
        if name in plan.overrides:
            expressions.append("?")
            parameters.append(plan.overrides[name])
        elif name in plan.defaults:
            expressions.append(f"COALESCE({value[name]}, ?)")
            parameters.append(plan.defaults[name])
        else:
            expressions.append(value[name])
    return sql_text.identifiers(names), ", ".join(expressions)


def _last_wins(partition: str, order: str) -> str:
    """Keep only the last record of each key (a key repeated within one file)."""
    return f" QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order} DESC) = 1"


def _delete_existing(connection: duckdb.DuckDBPyConnection, plan: LoadPlan, keys: str) -> None:
    match = " AND ".join(
        f"{plan.table}.{sql_text.identifier(k)} = k.{sql_text.identifier(k)}" for k in plan.key
    )
    connection.execute(f"DELETE FROM {plan.table} USING {keys} AS k WHERE {match}")


class _RepeatedKey(Exception):
    """A key repeats within a file loaded into an empty table: the careful load dedups it."""


def _load_fast(
    connection: duckdb.DuckDBPyConnection, plan: LoadPlan, source: _Source, result: LoadResult
) -> None:
    read_types = {name: _strict_read_type(kind) for name, kind in plan.columns.items()}
    value = {name: _strict_value(name, kind) for name, kind in plan.columns.items()}
    last_wins = ""
    into_empty = _is_empty(connection, plan.table)
    if plan.key and not into_empty:
        key_columns = ", ".join(f"{value[k]} AS {sql_text.identifier(k)}" for k in plan.key)
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS SELECT {key_columns}, count(*) AS n "
            f"FROM {source.read_json({k: read_types[k] for k in plan.key})} GROUP BY ALL"
        )
        (repeats,) = _one(connection.execute(f"SELECT count(*) FROM {_KEYS} WHERE n > 1"))
        _delete_existing(connection, plan, _KEYS)
        connection.execute(f"DROP TABLE {_KEYS}")
        if repeats:
            last_wins = _last_wins(sql_text.identifiers(plan.key), "ordinality")
    parameters: list[Any] = []
    columns, select = _select_list(plan, value, parameters)
    (rows,) = _one(
        connection.execute(
            f"INSERT INTO {plan.table} ({columns}) SELECT {select} "
            f"FROM {source.read_json(read_types, ordinality=bool(last_wins))}{last_wins}",
            parameters,
        )
    )
    if plan.key and into_empty:
        # The first load of a table (a first snapshot) skips the key pass: the table holds only
        # this file's rows, so a repeated key shows in the table itself (a cheap column scan).
        (repeats,) = _one(
            connection.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {plan.table} "
                f"GROUP BY {sql_text.identifiers(plan.key)} HAVING count(*) > 1)"
            )
        )
        if repeats:
            raise _RepeatedKey
    result.rows += rows


def _is_empty(connection: duckdb.DuckDBPyConnection, table: str) -> bool:
    (exists,) = _one(connection.execute(f"SELECT EXISTS (FROM {table})"))
    return not exists


def _load_carefully(
    connection: duckdb.DuckDBPyConnection, plan: LoadPlan, source: _Source, result: LoadResult
) -> None:
    read_types = {name: _loose_read_type(kind) for name, kind in plan.columns.items()}
    value = {name: _lenient_value(name, kind) for name, kind in plan.columns.items()}
    line = sql_text.identifier(_LINE)
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT *, ordinality AS {line} "
        f"FROM {source.read_json(read_types, ordinality=True)}"
    )
    _check_keys(connection, plan, source, value)
    _count_bad_values(connection, plan, source, value, result)
    last_wins = ""
    if plan.key:
        key_columns = ", ".join(f"{value[k]} AS {sql_text.identifier(k)}" for k in plan.key)
        _delete_existing(connection, plan, f"(SELECT DISTINCT {key_columns} FROM {_STAGE})")
        last_wins = _last_wins(", ".join(value[k] for k in plan.key), line)
    parameters: list[Any] = []
    columns, select = _select_list(plan, value, parameters)
    (rows,) = _one(
        connection.execute(
            f"INSERT INTO {plan.table} ({columns}) SELECT {select} FROM {_STAGE}{last_wins}",
            parameters,
        )
    )
    connection.execute(f"DROP TABLE {_STAGE}")
    result.rows += rows


def _check_keys(
    connection: duckdb.DuckDBPyConnection, plan: LoadPlan, source: _Source, value: dict[str, str]
) -> None:
    if not plan.key:
        return
    missing = " OR ".join(f"{value[k]} IS NULL" for k in plan.key)
    line = sql_text.identifier(_LINE)
    count, first = _one(
        connection.execute(f"SELECT count(*), min({line}) FROM {_STAGE} WHERE {missing}")
    )
    if count:
        raise LoaderError(
            f"{plan.stream}: {count} record(s) without a valid value for the key "
            f"({', '.join(plan.key)}) in {source.name}, the first is record {first}"
        )


def _count_bad_values(
    connection: duckdb.DuckDBPyConnection,
    plan: LoadPlan,
    source: _Source,
    value: dict[str, str],
    result: LoadResult,
) -> None:
    typed = [name for name, kind in plan.columns.items() if kind.upper() not in (JSON, VARCHAR)]
    if not typed:
        return
    line = sql_text.identifier(_LINE)
    fields = ", ".join(f"{sql_text.identifier(k)} := {value[k]}" for k in plan.key)
    key = f"struct_pack({fields})::VARCHAR"
    aggregates = []
    for name in typed:
        bad = f"{sql_text.identifier(name)} IS NOT NULL AND {value[name]} IS NULL"
        aggregates.append(
            f"count(*) FILTER (WHERE {bad}), min({line}) FILTER (WHERE {bad}), "
            f"arg_min({sql_text.identifier(name)}, {line}) FILTER (WHERE {bad}), "
            + (f"arg_min({key}, {line}) FILTER (WHERE {bad})" if plan.key else "NULL")
        )
    counts = _one(connection.execute(f"SELECT {', '.join(aggregates)} FROM {_STAGE}"))
    for index, name in enumerate(typed):
        count, first_record, first_value, first_key = counts[4 * index : 4 * index + 4]
        if not count:
            continue
        previous = result.bad_values.get(name)
        if previous is None:
            result.bad_values[name] = BadValues(
                count=count,
                first_value=str(first_value),
                first_key=str(first_key or "no key"),
                first_where=f"record {first_record} of {source.name}",
            )
        else:
            previous.count += count


def _one(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = cursor.fetchone()
    if row is None:  # pragma: no cover - every statement here returns one row
        raise LoaderError("DuckDB returned no row")
    return row
