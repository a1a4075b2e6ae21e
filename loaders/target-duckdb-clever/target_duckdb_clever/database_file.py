"""The database file named by `path`: checked before any input is read, readable by its owner.

A `path` the loader cannot write (a folder, a folder that cannot be created or written) fails
at start-up in one line naming the setting, its environment variables and the fix, before the
tap's first message is read: no message is lost to it, and no STATE goes out.

The warehouse holds student records: the database file, its write-ahead log and DuckDB's spill
files are created readable by their owner only (`OWNER_ONLY_UMASK`, set by the command), and a
database file or log that others can read is tightened when the loader opens it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from target_duckdb_clever.errors import LoaderError

logger = logging.getLogger(__name__)

SETTING = "The `path` setting (CLEVER_DUCKDB_PATH, or TARGET_DUCKDB_PATH under Meltano)"
#: The loader process creates every file and folder without group or other permissions.
OWNER_ONLY_UMASK = 0o077
#: Files DuckDB keeps beside the database: the write-ahead log.
COMPANION_SUFFIXES = (".wal",)


def is_local(path: str) -> bool:
    """A file on this machine (not DuckDB's in-memory database or a MotherDuck URL)."""
    return path != ":memory:" and not path.startswith(("md:", "motherduck:"))


def check(path: str) -> str:
    """The database file to open, its folder created; a `LoaderError` that says what to set
    if DuckDB could not create or write it there."""
    if not is_local(path):
        return path
    file = Path(path).expanduser()
    fix = "set it to a database file in a folder this user can write, e.g. output/clever.duckdb"
    if file.is_dir():
        raise LoaderError(
            f"{SETTING} is {file}, a folder, not a database file: set it to a file, "
            f"e.g. {file / 'clever.duckdb'}."
        )
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LoaderError(
            f"{SETTING} is {file}, in a folder that cannot be created "
            f"({error.strerror or error}): {fix}."
        ) from None
    # DuckDB writes its log, and spills, beside the file: the folder must be writable too.
    if not os.access(file.parent, os.W_OK | os.X_OK):
        raise LoaderError(f"{SETTING} is {file}, in a folder this user cannot write: {fix}.")
    if file.exists() and not os.access(file, os.R_OK | os.W_OK):
        raise LoaderError(
            f"{SETTING} is {file}, a file this user cannot read and write: give the user "
            f"access to it, or {fix}."
        )
    return str(file)


def keep_to_owner(path: str) -> None:
    """Take group and other permissions off the database file and its log, if they have any
    (a file an older loader, or dbt, created under a looser umask)."""
    if not is_local(path):
        return
    for suffix in ("", *COMPANION_SUFFIXES):
        file = Path(path + suffix)
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & 0o077:
            continue
        try:
            file.chmod(mode & 0o700)
        except OSError as error:
            # Not the file's owner: the load can still go on; say who else can read it.
            logger.warning(
                "%s is readable by others (mode %o) and its permissions cannot be changed: %s",
                file,
                mode,
                error,
            )
