"""Fixtures shared by every test folder: the PostgreSQL server of the warehouse tests, one per
session (started only by the tests that use it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, find_bin_dir, running_postgres


def require_server_binaries() -> None:
    """Skip without PostgreSQL's server on a developer's machine; fail in CI, where
    scripts/test.sh installs it, so a broken install cannot pass as skipped tests."""
    if find_bin_dir() is None:
        message = "PostgreSQL's server is not installed: run scripts/install_postgres.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running server (tests.postgres_server.running_postgres), stopped and removed at the
    end of the session."""
    require_server_binaries()
    with running_postgres() as server:
        yield server
