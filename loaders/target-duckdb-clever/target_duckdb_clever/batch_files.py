"""The files a Singer BATCH message names: where they are, how to read them line by line.

DuckDB reads the files itself when loading; Python only opens them to validate records
(`validate_records`) and removes them once their rows are committed.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import unquote, urlparse

import msgspec

from target_duckdb_clever.errors import BatchFileError

#: `encoding.compression` values and how DuckDB's read_json calls them.
COMPRESSIONS = {None: "none", "none": "none", "gzip": "gzip"}


@dataclass(frozen=True)
class BatchFiles:
    """The local files of one BATCH message, in manifest order."""

    paths: tuple[Path, ...]
    compression: str  # "none" or "gzip", as read_json spells it

    @classmethod
    def from_message(
        cls, stream: str, file_format: str, compression: str | None, manifest: Sequence[str]
    ) -> BatchFiles:
        if file_format != "jsonl":
            raise BatchFileError(
                f"{stream}: BATCH format {file_format!r} is not supported (only jsonl)"
            )
        if compression not in COMPRESSIONS:
            raise BatchFileError(
                f"{stream}: BATCH compression {compression!r} is not supported (none or gzip)"
            )
        paths = tuple(local_path(stream, url) for url in manifest)
        for path in paths:
            if not path.is_file():
                raise BatchFileError(f"{stream}: batch file {path} does not exist")
        return cls(paths, COMPRESSIONS[compression])

    def records(self) -> Iterator[tuple[Path, int, dict[str, Any]]]:
        """(file, line number, record) for every line: for validation only, one at a time."""
        for path in self.paths:
            number = 0
            try:
                with _open(path, self.compression) as file:
                    for number, line in enumerate(file, start=1):
                        if line.strip():
                            yield path, number, _decode(path, number, line)
            except (OSError, EOFError) as error:  # a truncated or mislabelled gzip file
                raise BatchFileError(
                    f"batch file {path} cannot be read after line {number}: {error}"
                ) from None

    def remove(self) -> None:
        for path in self.paths:
            path.unlink(missing_ok=True)


def local_path(stream: str, url: str) -> Path:
    """A manifest entry (`file:///abs/path` or a plain path) as a local path."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path) if parsed.scheme else url)
    raise BatchFileError(f"{stream}: batch file {url} is not a local file (only file:// URLs)")


def _open(path: Path, compression: str) -> IO[bytes]:
    if compression == "gzip":
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def _decode(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        record = msgspec.json.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError) as error:
        raise BatchFileError(f"batch file {path} line {number} is not JSON: {error}") from None
    if not isinstance(record, dict):
        raise BatchFileError(f"batch file {path} line {number} is not a JSON object")
    return record
