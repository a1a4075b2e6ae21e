"""A BATCH file larger than DuckDB's memory_limit loads, and the process stays near the limit.

The records are never decoded in Python (validate_records off): DuckDB streams the file and
spills what does not fit. The 1,000,000-user measurement is in the loader's README.
"""

from __future__ import annotations

import json
import os
import subprocess

from .harness import (
    USERS_PROPERTIES,
    batch,
    config_file,
    loader_command,
    loader_env,
    query,
    schema,
    state,
)

ROWS = 100_000


def write_users(path, rows):
    roles = json.dumps(
        {
            "student": {
                "school": "s1",
                "schools": ["s1", "s2"],
                "enrollments": [{"school": "s1", "start_date": "2024-08-25"}] * 3,
                "ext": {"notes": "n" * 600},
            }
        }
    )
    line = (
        '{{"id": "{number:024x}", "district": "d1", "email": "user{number}@example.org", '
        '"name": {{"first": "First{number}", "last": "Last"}}, "roles": ROLES, '
        '"created": "2024-07-02T00:54:29.000Z"}}\n'
    ).replace("ROLES", roles.replace("{", "{{").replace("}", "}}"))
    with path.open("w") as file:
        file.writelines(line.format(number=number) for number in range(rows))


def peak_rss_mb(command, stdin_text, env):
    """Run `command` to completion; its own peak RSS (not this test process's children's max)."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdin is not None
    process.stdin.write(stdin_text)
    process.stdin.close()
    stderr = process.stderr.read() if process.stderr else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, stderr[-3000:]
    return usage.ru_maxrss / 1024


def test_large_batch_file_loads_within_the_memory_limit(tmp_path):
    file = tmp_path / "users.jsonl"
    write_users(file, ROWS)
    size_mb = file.stat().st_size / 2**20
    assert size_mb > 96  # larger than the memory limit
    database = tmp_path / "w.duckdb"
    config = config_file(tmp_path, database, memory_limit="96MB", temp_dir=str(tmp_path / "tmp"))
    lines = [schema("users", USERS_PROPERTIES), batch("users", [file]), state(1)]
    rss = peak_rss_mb(
        [*loader_command(), "--config", str(config)],
        "".join(line + "\n" for line in lines),
        loader_env(),
    )
    assert query(database, "SELECT count(*), count(DISTINCT id) FROM raw.users") == [(ROWS, ROWS)]
    # Python, the SDK and DuckDB's own code take about 100 MB; DuckDB's data stays under 96MB.
    assert rss < 96 + 150, f"peak RSS {rss:.0f} MB for a {size_mb:.0f} MB file"
