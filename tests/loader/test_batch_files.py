"""BATCH messages: JSON-lines files (plain or gzip) loaded by DuckDB, removed once committed."""

from __future__ import annotations

import datetime
import gzip
import json

from .harness import (
    USERS_PROPERTIES,
    batch,
    query,
    record,
    run_loaders,
    schema,
    state,
    write_jsonl,
)

HOSTILE = [
    "NUL \x00 inside",
    "new\nline, carriage\rreturn, tab\t",
    "quotes \" ' and \\ backslashes \\n (not a newline)",
    "emoji 😀👩‍👩‍👧 and astral \U0001d11e",
    "RTL \u202emark\u202c and Arabic مرحبا",
    "line separator \u2028 paragraph \u2029",
    "",
    "x" * 1_000_000,  # a very long text
]


def hostile_users():
    users = []
    for index, text in enumerate(HOSTILE):
        users.append(
            {
                "id": f"u{index}",
                "district": "d1",
                "email": text,
                "name": {"first": text, "nested": {"list": [text, None, 1.5]}},
                "roles": {"student": {"schools": ["s1", "s2"]}},
                "created": "2024-07-02T00:54:29.000Z",
                "extra_key_not_in_schema": text,
            }
        )
    users.append({"id": "sparse"})  # every other key absent
    return users


def test_hostile_strings_load_intact(tmp_path):
    # The same records as a plain BATCH file, a gzip one, and RECORD messages.
    plain = write_jsonl(tmp_path / "users.jsonl", hostile_users())
    gzipped = write_jsonl(tmp_path / "users.jsonl.gz", hostile_users())
    cases = [
        (tmp_path / "plain.duckdb", [batch("users", [plain])], {}),
        (tmp_path / "gzip.duckdb", [batch("users", [gzipped], "gzip")], {"keep_batch_files": True}),
        (tmp_path / "records.duckdb", [record("users", user) for user in hostile_users()], {}),
    ]
    runs = run_loaders(
        tmp_path,
        [(db, [schema("users", USERS_PROPERTIES), *lines, state(1)], s) for db, lines, s in cases],
    )
    for (database, _, _), run in zip(cases, runs, strict=True):
        assert run.states[-1] == 1
        rows = query(
            database,
            "SELECT id, email, name->>'$.first', name->>'$.nested.list[0]', created "
            "FROM raw.users WHERE id <> 'sparse' ORDER BY CAST(substr(id, 2) AS INTEGER)",
        )
        assert [row[1] for row in rows] == HOSTILE
        assert [row[2] for row in rows] == HOSTILE
        assert [row[3] for row in rows] == HOSTILE
        assert {row[4] for row in rows} == {datetime.datetime(2024, 7, 2, 0, 54, 29)}
        assert query(
            database,
            "SELECT * EXCLUDE (id, _sdc_extracted_at, _sdc_received_at, _sdc_batched_at, "
            "_sdc_sequence, _sdc_sync_started_at) FROM raw.users WHERE id = 'sparse'",
        ) == [(None,) * 7]
    # A BATCH file's rows are stamped with the time its BATCH message arrived.
    assert query(
        tmp_path / "plain.duckdb", "SELECT count(DISTINCT _sdc_extracted_at) FROM raw.users"
    ) == [(1,)]
    assert not plain.exists()  # deleted once committed
    assert gzipped.exists()  # keep_batch_files


def test_batch_message_errors_are_one_clear_line(tmp_path):
    present = write_jsonl(tmp_path / "present.jsonl", [{"id": "u1"}])
    missing = tmp_path / "missing.jsonl"
    zstd = json.loads(batch("users", [present]))
    zstd["encoding"]["compression"] = "zstd"
    parquet = json.loads(batch("users", [present]))
    parquet["encoding"]["format"] = "parquet"
    cases = [
        (tmp_path / f"w{index}.duckdb", [schema("users", USERS_PROPERTIES), message], {})
        for index, message in enumerate(
            [batch("users", [present, missing]), json.dumps(zstd), json.dumps(parquet)]
        )
    ]
    runs = run_loaders(tmp_path, cases, check=False)
    assert [run.error_lines for run in runs] == [
        [f"target-duckdb-clever: error: users: batch file {missing} does not exist"],
        [
            "target-duckdb-clever: error: users: BATCH compression 'zstd' is not supported "
            "(none or gzip)"
        ],
        [
            "target-duckdb-clever: error: users: BATCH format 'parquet' is not supported "
            "(only jsonl)"
        ],
    ]
    for (database, _, _), run in zip(cases, runs, strict=True):
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        assert query(database, "SELECT count(*) FROM raw.users") == [(0,)]
    assert present.exists()  # nothing was loaded, nothing removed


NOT_JSONL = [
    (b'{"id": "u1"}\nthis is not json\n', "Malformed JSON"),
    (b'{"id": "u1"}\n[1, 2]\n', "Expected OBJECT"),
    (gzip.compress(b'{"id": "u1"}\n'), "Malformed JSON"),  # gzip declared as none
]


def test_not_jsonl_is_a_clear_error(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": "u0"}])
    cases = []
    for index, (content, _) in enumerate(NOT_JSONL):
        bad = tmp_path / f"bad{index}.jsonl"
        bad.write_bytes(content)
        lines = [schema("users", USERS_PROPERTIES), batch("users", [good, bad])]
        cases.append((tmp_path / f"w{index}.duckdb", lines, {"keep_batch_files": True}))
    runs = run_loaders(tmp_path, cases, check=False)
    for index, ((database, _, _), run) in enumerate(zip(cases, runs, strict=True)):
        assert run.returncode == 1
        (line,) = run.error_lines
        bad = tmp_path / f"bad{index}.jsonl"
        assert line.startswith(f"target-duckdb-clever: error: users: cannot load {good}, {bad}: ")
        assert NOT_JSONL[index][1] in line
        assert "Traceback" not in run.stderr
        # One transaction: the good file's rows are not half-loaded.
        assert query(database, "SELECT count(*) FROM raw.users") == [(0,)]
