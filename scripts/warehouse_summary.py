"""Print a short summary of the Clever warehouse: where the DuckDB file is, row counts per table.

    python scripts/warehouse_summary.py [DATABASE]

DATABASE defaults to $CLEVER_DUCKDB_PATH, else output/clever.duckdb under the project (the
pipeline's own default). The file is opened read-only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = PROJECT_ROOT / "output" / "clever.duckdb"
RAW_SCHEMA = "raw_clever"
MARTS_SCHEMA = "analytics"


def database_path(argument: str | None = None) -> Path:
    """The database the pipeline writes: the argument, $CLEVER_DUCKDB_PATH, or the default."""
    return Path(argument or os.environ.get("CLEVER_DUCKDB_PATH") or DEFAULT_DATABASE)


def tables_in(connection: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """The tables (not views) of `schema`, by name."""
    return [
        name
        for (name,) in connection.execute(
            "select table_name from information_schema.tables"
            " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
            [schema],
        ).fetchall()
    ]


def table_row_counts(database: Path, schema: str) -> dict[str, int]:
    """Exact row count of every table in `schema`, by table name."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = tables_in(connection, schema)
        counts: dict[str, int] = {}
        for table in tables:
            # Names from the catalog, quoted: not user input.
            row = connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()  # noqa: S608
            counts[table] = row[0] if row else 0
    return counts


def summary(database: Path) -> str:
    marts = table_row_counts(database, MARTS_SCHEMA)
    raw = table_row_counts(database, RAW_SCHEMA)
    width = max((len(name) for name in [*marts, *raw]), default=10)
    lines = [f"Clever warehouse: {database} ({database.stat().st_size / 1e6:.1f} MB)"]
    lines.append(f"  marts (schema {MARTS_SCHEMA}):")
    lines += [f"    {name:<{width}} {count:>10,}" for name, count in marts.items()]
    lines.append(f"  raw tables (schema {RAW_SCHEMA}):")
    lines += [f"    {name:<{width}} {count:>10,}" for name, count in raw.items()]
    if not marts:
        lines.append("  no marts yet: run `meltano run tap-clever target-duckdb dbt-duckdb:build`")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", help="DuckDB file (default: see above)")
    args = parser.parse_args(argv)
    database = database_path(args.database)
    if not database.exists():
        print(f"No warehouse at {database}: run the pipeline first.", file=sys.stderr)
        return 1
    print(summary(database))
    return 0


if __name__ == "__main__":
    sys.exit(main())
