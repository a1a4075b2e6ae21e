"""Search a pipeline's files, warehouse and output for credentials, in the forms they leak in.

A credential rarely leaks only verbatim: an HTTP Basic header carries `base64(id:secret)`, a
URL or a form carries it percent-encoded, a JSON document escapes it, and a log that "masks" a
token often keeps its first or last characters. `needles` spells out each of those forms;
`scan_*` look for them in bytes, in a folder's files and in every text column of a DuckDB
database (whose storage compresses strings, so its bytes alone prove nothing).

Used by tests/warehouse/test_secrets_never_stored.py, and by anything else (a CI workflow's
log) that must show it holds no credential.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb

#: Characters of a credential's start or end that still identify it in a "masked" form.
FRAGMENT_LENGTH = 16

Needles = dict[bytes, str]


def _base64_forms(value: bytes) -> list[bytes]:
    encoded = base64.b64encode(value)
    url_safe = base64.urlsafe_b64encode(value)
    return [encoded, encoded.rstrip(b"="), url_safe, url_safe.rstrip(b"=")]


def needles(secrets: Mapping[str, str], basic_auth: Iterable[tuple[str, str]] = ()) -> Needles:
    """Each byte string to look for, with what it is: every secret (named by the mapping's key)
    verbatim, percent-encoded, JSON-escaped, base64 (padded or not, standard or URL-safe) and
    its first and last `FRAGMENT_LENGTH` characters; and for each (user, password) of
    `basic_auth`, the base64 of `user:password` an Authorization: Basic header carries."""
    found: Needles = {}
    for name, secret in secrets.items():
        assert len(secret) > FRAGMENT_LENGTH, f"{name} is too short to search for"
        forms = {
            "verbatim": secret,
            "percent-encoded": quote(secret, safe=""),
            "form-encoded": quote_plus(secret),
            "JSON-escaped": json.dumps(secret)[1:-1],
            "JSON-escaped as ASCII": json.dumps(secret, ensure_ascii=True)[1:-1],
            f"first {FRAGMENT_LENGTH} characters": secret[:FRAGMENT_LENGTH],
            f"last {FRAGMENT_LENGTH} characters": secret[-FRAGMENT_LENGTH:],
        }
        for form, text in forms.items():
            found.setdefault(text.encode(), f"{name} ({form})")
        for encoded in _base64_forms(secret.encode()):
            found.setdefault(encoded, f"{name} (base64)")
    for user, password in basic_auth:
        for encoded in _base64_forms(f"{user}:{password}".encode()):
            found.setdefault(encoded, f"Basic credentials of {user} (base64 of user:password)")
    return found


def scan_bytes(data: bytes, where: str, needles: Needles) -> list[str]:
    """`where: what` for each needle in `data`."""
    return [f"{where}: {what}" for needle, what in needles.items() if needle in data]


def scan_text(text: str, where: str, needles: Needles) -> list[str]:
    return scan_bytes(text.encode("utf-8", "surrogatepass"), where, needles)


def files_under(root: Path) -> list[Path]:
    """Every file under `root`; symbolic links are not followed (they lead out of it)."""
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(folder) / d).is_symlink()]
        paths += [Path(folder) / name for name in files]
    return [path for path in paths if path.is_file() and not path.is_symlink()]


def scan_tree(root: Path, needles: Needles) -> list[str]:
    """Every file under `root` (see `files_under`), as bytes."""
    return [
        hit
        for path in files_under(root)
        for hit in scan_bytes(path.read_bytes(), str(path), needles)
    ]


def scan_duckdb(database: Path, needles: Needles) -> list[str]:
    """Every column of every table and view, each value cast to text (JSON, structs and lists
    included), compared as the database returns it, whatever its storage does to it."""
    hits = []
    with duckdb.connect(str(database), read_only=True) as connection:
        relations = connection.execute(
            "select table_schema, table_name from information_schema.tables"
            " order by table_schema, table_name"
        ).fetchall()
        for schema, table in relations:
            columns = [
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            if not columns:
                continue
            casts = ", ".join(f'cast("{column}" as varchar)' for column in columns)
            rows = connection.execute(f'select {casts} from "{schema}"."{table}"').fetchall()  # noqa: S608 - names from the catalog
            for index, column in enumerate(columns):
                text = "\n".join(row[index] for row in rows if row[index] is not None)
                hits += scan_text(text, f"{database.name}: {schema}.{table}.{column}", needles)
    return hits
