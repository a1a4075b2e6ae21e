"""scripts/sync.py's reading of a run: which district failed, in which step, and why."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_sync_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_script", REPO_ROOT / "scripts/sync.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["sync_script"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sync = load_sync_script()

FIRST, SECOND = "6681f1800000000000000000", "6681f186000000000000008b"
CAUSE = "GET /v3.1/sections?limit=10000 failed with HTTP 401. Clever rejected the bearer token."
TAP_FAILURE = [
    "Beginning sync of 'snapshots' in full_table mode",
    "1 district(s) failed; the others were synced:",
    f"- 'Example Valley School District' ({SECOND}): sections: District 'Example Valley "
    f"School District' ({SECOND}): {CAUSE}",
    "Traceback (most recent call last):",
    '  File "tap_clever/run.py", line 330, in _raise_if_finished_with_failures',
    "tap_clever.errors.CleverDistrictsFailedError: 1 district(s) failed; the others were synced:",
    f"- 'Example Valley School District' ({SECOND}): sections: District 'Example Valley "
    f"School District' ({SECOND}): {CAUSE}",
]


def meltano_json(plugin: str, text: str) -> str:
    return json.dumps({"stdio": "stderr", "string_id": plugin, "event": text, "level": "info"})


def test_a_failed_district_is_named_with_its_stream_and_cause() -> None:
    failures = sync.failures_of("extract-load", {"tap-clever": TAP_FAILURE})

    assert failures == [
        {
            "plugin": "tap-clever",
            "district": SECOND,
            "district_name": "Example Valley School District",
            "stream": "sections",
            "cause": CAUSE,
        }
    ]


def test_a_single_district_run_stops_at_its_error_and_is_still_named() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        f"tap_clever.errors.CleverAPIError: District 'Sandbox USD' ({FIRST}): {CAUSE}",
    ]

    (failure,) = sync.failures_of("extract-load", {"tap-clever": lines})

    assert failure["district"] == FIRST
    assert failure["district_name"] == "Sandbox USD"
    assert failure["cause"] == CAUSE


def test_a_configuration_error_is_reported_as_the_plugins_last_line() -> None:
    lines = ["tap-clever v0.1.0", "page_size must be 1 to 10000: set TAP_CLEVER_PAGE_SIZE."]

    (failure,) = sync.failures_of("extract-load", {"tap-clever": lines, "target-duckdb": []})

    assert failure == {"plugin": "tap-clever", "cause": lines[-1]}


def test_dbt_errors_are_read_from_dbts_summary() -> None:
    lines = [
        "\x1b[0m05:17:02  Finished running 25 incremental models in 4.2s.",
        "\x1b[0m05:17:02  \x1b[31mCompleted with 1 error, 0 partial successes, and 0 warnings:"
        "\x1b[0m",
        "\x1b[0m05:17:02",
        "\x1b[0m05:17:02  \x1b[33mRuntime Error in model dim_students "
        "(models/marts/dim_students.sql)\x1b[0m",
        "\x1b[0m05:17:02    Out of Memory Error: could not allocate block of size 256.0 KiB",
        "\x1b[0m05:17:02",
        "\x1b[0m05:17:02  Done. PASS=40 WARN=0 ERROR=1 SKIP=25 NO-OP=0 TOTAL=66",
    ]

    (failure,) = sync.failures_of("dbt build", {"dbt-duckdb": lines})

    assert failure["plugin"] == "dbt-duckdb"
    assert failure["cause"] == (
        "Runtime Error in model dim_students (models/marts/dim_students.sql) "
        "Out of Memory Error: could not allocate block of size 256.0 KiB"
    )


def test_meltanos_json_log_lines_are_read_per_plugin() -> None:
    assert sync.readable(meltano_json("tap-clever", "hello\n")) == ("tap-clever", "hello", "info")
    assert sync.readable('{"event": "Run completed", "level": "info"}') == (
        "",
        "Run completed",
        "info",
    )
    assert sync.readable('{"event": "noise", "level": "debug"}') == ("", "", "debug")
    assert sync.readable("not json\n") == ("", "not json", "")


def test_meltanos_own_refusal_is_the_cause_when_no_plugin_failed() -> None:
    refusal = "Another 'prod:tap-clever-to-target-duckdb' pipeline is already running"

    (failure,) = sync.failures_of("extract-load", {}, [refusal, "Block run completed"])

    assert failure == {"plugin": "meltano", "cause": refusal}


def test_report_names_district_step_and_cause_and_fails() -> None:
    outcome = sync.SyncOutcome(
        steps=[
            sync.StepOutcome(
                "extract-load",
                1,
                12.0,
                sync.failures_of("extract-load", {"tap-clever": TAP_FAILURE}),
            ),
            sync.StepOutcome("dbt build", 0, 20.0),
        ],
        exports=["dim_students"],
    )

    markdown = sync.report_markdown(outcome)

    assert markdown.startswith("## Clever sync: 1 district(s) failed")
    assert (
        f"| district 'Example Valley School District' ({SECOND}) | extract-load, stream sections "
        f"| {CAUSE} |" in markdown
    )
    assert "Published 1 marts" in markdown


def test_report_of_a_run_that_never_finished() -> None:
    assert "did not finish" in sync.report_markdown(None)


@pytest.mark.parametrize(("outcome", "code"), [(None, 1), ("failed", 1), ("ok", 0)])
def test_report_exit_code_and_job_summary(
    outcome: str | None, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_DIR", str(tmp_path))
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    if outcome is not None:
        exit_code = 1 if outcome == "failed" else 0
        sync.write_outcome(sync.SyncOutcome(steps=[sync.StepOutcome("dbt build", exit_code, 1.0)]))

    assert sync.command_report(None) == code
    assert summary.read_text().startswith("## Clever sync")


def test_unset_secrets_given_as_empty_strings_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_CLEVER_DISTRICT_TOKENS", "")
    monkeypatch.setenv("TAP_CLEVER_CLIENT_ID", "abc")
    monkeypatch.setenv("SYNC_DIR", "/tmp/sync-dir")

    env = sync.meltano_env()

    assert "TAP_CLEVER_DISTRICT_TOKENS" not in env
    assert env["TAP_CLEVER_CLIENT_ID"] == "abc"
    assert env["CLEVER_DUCKDB_PATH"] == "/tmp/sync-dir/warehouse/clever.duckdb"
    assert env["MELTANO_STATE_BACKEND_URI"] == "file:///tmp/sync-dir/state"
