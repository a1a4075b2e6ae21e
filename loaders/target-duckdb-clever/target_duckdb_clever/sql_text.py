"""Names and values spelled as DuckDB SQL text (for the parts a statement cannot bind)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def identifier(name: str) -> str:
    """A DuckDB identifier for any stream or property name (quotes doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A DuckDB string literal (single quotes doubled inside)."""
    return "'" + value.replace("'", "''") + "'"


def identifiers(names: Iterable[str]) -> str:
    """`"a", "b"`: a column list."""
    return ", ".join(identifier(name) for name in names)


def struct_of_types(columns: Mapping[str, str]) -> str:
    """`{'a': 'VARCHAR', ...}`: read_json's `columns` argument (must be a constant)."""
    fields = (f"{literal(name)}: {literal(kind)}" for name, kind in columns.items())
    return "{" + ", ".join(fields) + "}"


def table_name(schema: str, table: str) -> str:
    return f"{identifier(schema)}.{identifier(table)}"
