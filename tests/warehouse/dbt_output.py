"""What a `dbt build` printed: its final tally and the tests that warned.

The warehouse's warning tests (Clever's dangling references, values outside Clever's enums,
SIS values that did not parse) never fail a build; the tests of this folder assert the exact
set expected on their data instead, so a new warning fails them.
"""

from __future__ import annotations

import re

# "Done. PASS=60 WARN=2 ERROR=0 SKIP=0 NO-OP=0 TOTAL=62"
_TALLY = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+) NO-OP=\d+ TOTAL=(\d+)")
# "20 of 62 WARN 1 term_dates_not_parsed ......... [WARN 1 in 0.04s]"
_WARNED = re.compile(r"\d+ of \d+ WARN (\d+) (\S+) \.")


def tally(output: str) -> dict[str, int]:
    """The counts of dbt's last "Done." line (pass, warn, error, skip, total)."""
    matches = _TALLY.findall(output)
    assert matches, f"no dbt tally in the output:\n{output[-3000:]}"
    passed, warned, errors, skipped, total = map(int, matches[-1])
    return {"pass": passed, "warn": warned, "error": errors, "skip": skipped, "total": total}


def warnings(output: str) -> dict[str, int]:
    """Test name -> failing rows, for every test that warned in the output's last dbt run."""
    last_run = output[output.rfind("Running with dbt=") :]
    return {name: int(count) for count, name in _WARNED.findall(last_run)}


def assert_build(output: str, expected_warnings: dict[str, int]) -> None:
    """The build ran without error, skipped nothing and warned exactly as expected."""
    counts = tally(output)
    assert counts["error"] == 0, f"dbt errors:\n{output[-5000:]}"
    assert counts["skip"] == 0, f"dbt skipped nodes:\n{output[-5000:]}"
    assert warnings(output) == expected_warnings
    assert counts["warn"] == len(expected_warnings)
