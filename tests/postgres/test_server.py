"""The test PostgreSQL server itself: reachable with its password, and gone after its fixture."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.conftest import require_server_binaries
from tests.postgres_server import PostgresServer, running_postgres


def test_server_answers_sql_with_its_password(postgres_server: PostgresServer) -> None:
    version = postgres_server.psql("select version()").stdout
    assert version.startswith("PostgreSQL ")
    postgres_server.psql(
        "create table smoke (id integer primary key, name text);"
        "insert into smoke values (1, 'één'), (2, 'two');"
    )
    rows = postgres_server.psql("select id, name from smoke order by id").stdout.splitlines()
    assert rows == ["1|één", "2|two"]
    postgres_server.psql("drop table smoke")


def test_tcp_requires_the_password(postgres_server: PostgresServer) -> None:
    wrong = PostgresServer(**{**postgres_server.__dict__, "password": "not-the-password"})
    result = wrong.psql("select 1", check=False)
    assert result.returncode != 0
    assert "password authentication failed" in result.stderr


def test_server_is_stopped_and_removed_afterwards() -> None:
    require_server_binaries()
    with running_postgres() as server:
        assert server.psql("select 1").stdout.strip() == "1"
        assert server.data_dir.is_dir()
    assert not server.base_dir.exists()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((server.host, server.port), timeout=2),
    ):
        pass


def test_server_is_stopped_and_removed_when_the_test_fails() -> None:
    require_server_binaries()
    with pytest.raises(subprocess.CalledProcessError), running_postgres() as server:
        server.psql("select * from no_such_table")
    assert not server.base_dir.exists()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((server.host, server.port), timeout=2),
    ):
        pass
