"""Keys: required by default, appended without one when allowed, and never NULL."""

from __future__ import annotations

from .harness import STRING, batch, query, record, run_loaders, schema, write_jsonl

PROPERTIES = {"id": {"type": ["string", "null"]}, "name": STRING}


def test_key_rules(tmp_path):
    keyless = [
        schema("logs", PROPERTIES, key=()),
        record("logs", {"id": "a", "name": "one"}),
        record("logs", {"id": "a", "name": "one again"}),
    ]
    null_key_file = write_jsonl(tmp_path / "things.jsonl", [{"id": "a"}, {"name": "no id"}])
    cases = [
        (tmp_path / "appended.duckdb", keyless, {"primary_key_required": False}),
        (tmp_path / "refused.duckdb", keyless, {}),
        (
            tmp_path / "record-without-key.duckdb",
            [schema("things", PROPERTIES), record("things", {"name": "no id"})],
            {},
        ),
        (
            tmp_path / "record-with-null-key.duckdb",
            [schema("things", PROPERTIES), record("things", {"id": None, "name": "null id"})],
            {},
        ),
        (
            tmp_path / "file-without-key.duckdb",
            [schema("things", PROPERTIES), batch("things", [null_key_file])],
            {},
        ),
    ]
    appended, refused, record_without_key, null_key, file_without_key = run_loaders(
        tmp_path, cases, check=False
    )

    assert appended.returncode == 0, appended.stderr
    assert query(cases[0][0], "SELECT id, name FROM raw.logs ORDER BY name") == [
        ("a", "one"),
        ("a", "one again"),
    ]
    assert refused.error_lines == [
        "target-duckdb-clever: error: logs: the SCHEMA message has no key_properties, so "
        "records cannot be upserted (set primary_key_required to false to append them)"
    ]
    (line,) = record_without_key.error_lines
    assert "Record is missing one or more key_properties" in line
    assert null_key.error_lines == [
        "target-duckdb-clever: error: things: 1 record(s) without a valid value for the key "
        "(id) in 1 staged record(s), the first is record 1"
    ]
    assert file_without_key.error_lines == [
        "target-duckdb-clever: error: things: 1 record(s) without a valid value for the key "
        f"(id) in {null_key_file}, the first is record 2"
    ]
    for run in (refused, record_without_key, null_key, file_without_key):
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
