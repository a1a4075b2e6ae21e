"""A throwaway PostgreSQL server for tests: Debian's binaries, a cluster in a temporary folder,
on a free port of 127.0.0.1, with a generated password; stopped and removed afterwards.

`scripts/install_postgres.sh` installs the binaries (scripts/test.sh runs it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

BIN_ROOT = Path("/usr/lib/postgresql")
HOST = "127.0.0.1"
USER = "clever"
DATABASE = "clever"

# Durability is worthless for a cluster deleted after the tests, and fsync is most of the time
# of initdb and of every commit.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
}


def find_bin_dir() -> Path | None:
    """The newest installed major version's bin folder (/usr/lib/postgresql/N/bin), or None."""
    found = []
    for bin_dir in BIN_ROOT.glob("*/bin"):
        version = bin_dir.parent.name
        if version.isdigit() and (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            found.append((int(version), bin_dir))
    return max(found)[1] if found else None


def server_user() -> str | None:
    """The user the server runs as: None (the caller) unless that is root, which initdb and
    postgres refuse to be. Then `postgres`, which Debian's package creates, else `nobody`."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now (the start retries if one takes it
    before the server does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PostgresServer:
    """A running server: how to connect to it (password auth over TCP) and its folders."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    bin_dir: Path
    base_dir: Path  # the temporary folder: data/, the unix socket, the log

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def uri(self) -> str:
        """The libpq connection URI (TCP, with the password)."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(self.database, safe='')}"
        )

    def env(self) -> dict[str, str]:
        """libpq's environment variables for this server (for psql, dbt, a subprocess)."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.database,
        }

    def pipeline_env(self) -> dict[str, str]:
        """The pipeline's connection variables for this server (meltano.yml's target-postgres
        and transform/profiles.yml's postgres target read them)."""
        return {
            "CLEVER_POSTGRES_HOST": self.host,
            "CLEVER_POSTGRES_PORT": str(self.port),
            "CLEVER_POSTGRES_USER": self.user,
            "CLEVER_POSTGRES_PASSWORD": self.password,
            "CLEVER_POSTGRES_DATABASE": self.database,
        }

    def create_database(self, name: str) -> PostgresServer:
        """A new, empty database `name` on this server (dropped first if it exists): one per
        test module, so modules sharing the session's server start from nothing."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f"drop database if exists {name} with (force)")
        self.psql(f"create database {name}")
        return replace(self, database=name)

    def psql(self, sql: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `sql` with psql over TCP (so with the password): unaligned, tuples only, stop at
        the first error."""
        env = {
            key: value for key, value in os.environ.items() if not key.startswith("PG")
        } | self.env()
        # No ~/.psqlrc: a developer's settings would change the output.
        command = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        return subprocess.run(
            [*command, "-c", sql], env=env, capture_output=True, text=True, check=check, timeout=60
        )


def _run(
    command: list[str], user: str | None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a server program, as `user` if given, failing with its output."""
    uid: int | None = None
    gid: int | None = None
    extra_groups: list[int] | None = None
    if user is not None:
        account = pwd.getpwnam(user)
        uid, gid, extra_groups = account.pw_uid, account.pw_gid, []
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        # A folder the server user can read: the caller's may be root's own.
        cwd="/",
        user=uid,
        group=gid,
        extra_groups=extra_groups,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}\n{result.stdout}{result.stderr}"
        )
    return result


def _tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def running_postgres(bin_dir: Path | None = None, *, attempts: int = 3) -> Iterator[PostgresServer]:
    """Create a cluster in a new temporary folder, start it, yield it; then stop it and remove
    the folder, whatever happened in between."""
    bin_dir = bin_dir or find_bin_dir()
    if bin_dir is None:
        raise RuntimeError(
            f"no PostgreSQL server under {BIN_ROOT}/*/bin: run scripts/install_postgres.sh"
        )
    user = server_user()
    # Directly in the system's temporary folder, not under pytest's (root's, mode 0700): the
    # server user must reach it. Short too: a unix socket path has a 107-byte limit.
    base_dir = Path(tempfile.mkdtemp(prefix="clever-pg-"))
    try:
        if user is not None:
            account = pwd.getpwnam(user)
            os.chown(base_dir, account.pw_uid, account.pw_gid)
        # A fresh password each time: the tests exercise real password auth, never a real secret.
        password = secrets.token_urlsafe(18)
        password_file = base_dir / "password"
        password_file.write_text(password)
        if user is not None:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        _run(
            [
                str(bin_dir / "initdb"),
                f"--pgdata={base_dir / 'data'}",
                f"--username={USER}",
                f"--pwfile={password_file}",
                # Passwords over TCP; the socket (in the private folder) trusts, for admin use.
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                # C: the same sort order on every machine, whatever locales it has.
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            user,
        )
        password_file.unlink()
        server = None
        for attempt in range(attempts):
            server = PostgresServer(
                host=HOST,
                port=free_port(),
                user=USER,
                password=password,
                database=DATABASE,
                bin_dir=bin_dir,
                base_dir=base_dir,
            )
            settings = {
                **FAST_SETTINGS,
                "port": str(server.port),
                "listen_addresses": f"'{HOST}'",
                "unix_socket_directories": f"'{server.socket_dir}'",
            }
            options = " ".join(f"-c {key}={value}" for key, value in settings.items())
            try:
                _run(
                    [
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "--wait",
                        "--timeout=60",
                        f"--pgdata={server.data_dir}",
                        f"--log={server.log_file}",
                        f"--options={options}",
                    ],
                    user,
                    timeout=90,
                )
                break
            except RuntimeError as error:
                # Another process took the port between free_port() and the server's bind.
                log = _tail(server.log_file)
                if attempt + 1 < attempts and re.search(r"could not bind|already in use", log):
                    continue
                raise RuntimeError(f"{error}\n--- {server.log_file} ---\n{log}") from None
        assert server is not None
        _run(
            [
                str(bin_dir / "createdb"),
                f"--host={server.socket_dir}",
                f"--port={server.port}",
                f"--username={USER}",
                DATABASE,
            ],
            None,
        )
        yield server
    finally:
        # Also after a failed or timed-out start: a server may be up without having said so.
        if (base_dir / "data" / "postmaster.pid").exists():
            _stop(bin_dir, base_dir / "data", user)
        shutil.rmtree(base_dir, ignore_errors=True)


def _stop(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    """pg_ctl stop -m fast; immediate if that does not end it (a test left a session stuck)."""
    for mode in ("fast", "immediate"):
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "stop",
                    f"--pgdata={data_dir}",
                    f"--mode={mode}",
                    "--wait",
                    "--timeout=30",
                ],
                user,
                timeout=45,
            )
            return
    # Last resort: a server left running would hold the port and the folder's files.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
