"""The tap's benchmark scenarios, each against a floor measured in the same run.

    .venv/bin/python benchmarks/scenarios.py --scenario many-districts
    .venv/bin/python benchmarks/scenarios.py --scenario thousand-districts
    .venv/bin/python benchmarks/scenarios.py --scenario rate-limit-storm
    .venv/bin/python benchmarks/scenarios.py --scenario one-district [--users 50000 190000]

Each starts `clever-sandbox serve` in its own process (pregenerated, so every reader is served
from cache), runs the floor and the tap one after the other against it (`--repeat N` times,
alternating), checks every record count against the sandbox's own counts, prints a table of wall
times and ratios, and saves everything to `benchmarks/results/<scenario>.json`. See
`benchmarks/README.md` for what each scenario measures and its goal.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import pstats
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchlib import (
    BENCHMARKS,
    BIN,
    RESULTS_DIR,
    SandboxProcess,
    best_and_median,
    catalog_selecting,
    code_under_test,
    count_mismatches,
    floor_read,
    mib,
    parse_setting,
    print_table,
    run_measured,
    run_record,
    running_sandbox,
    sandbox_argv,
    save_results,
    scan_tap_log,
    sleep_until_window_start,
    stream_schema,
    tap_config,
)


@dataclass(frozen=True)
class Scenario:
    """A scenario's defaults (every one can be overridden on the command line)."""

    name: str
    summary: str
    districts: int
    users: tuple[int, ...]
    schools: int | None = 3
    sections: int | None = 25
    courses: int | None = 8
    terms: int | None = 6
    resources: int | None = 8
    initial_events: int = 5
    latency_ms: float = 100.0
    rate_limit: int | None = None
    rate_window: float | None = None
    #: Goal on tap wall / floor wall (districts scenarios) or tap / floor records/s (D).
    goal: str = ""
    max_wall_ratio: float | None = None
    min_speed_ratio: float | None = None
    tap_settings: dict[str, Any] = field(default_factory=dict)


# About 250 records per district: 1 district, 3 schools, 6 terms, 8 courses, 25 sections,
# ~190 users, 8 resources, and the events of 5 random changes (one change can be several events).
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="many-districts",
            summary="100 small districts, 100 ms latency, first run, every stream",
            districts=100,
            users=(190,),
            goal="tap wall within 2x of the 16-thread floor",
            max_wall_ratio=2.0,
        ),
        Scenario(
            name="thousand-districts",
            summary="1000 small districts, 100 ms latency, first run, every stream",
            districts=1000,
            users=(190,),
            goal="report (scenario A's goal, tap within 2x of the floor, for reference)",
            max_wall_ratio=2.0,
        ),
        Scenario(
            name="rate-limit-storm",
            summary="100 small districts, 4 requests per 5 s window per token, no latency",
            districts=100,
            users=(190,),
            latency_ms=0.0,
            rate_limit=4,
            rate_window=5.0,
            goal="exit code 0 and complete counts despite the rate limit; wall vs the windows",
        ),
        Scenario(
            name="one-district",
            summary="one district of ~50,000 users, users stream only, start-up included",
            districts=1,
            users=(50_000,),
            schools=None,
            sections=None,
            courses=None,
            terms=None,
            resources=None,
            initial_events=0,
            latency_ms=0.0,
            goal="tap records/s >= 0.6x the urllib+orjson Singer floor",
            min_speed_ratio=0.6,
        ),
    )
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scenario defaults:\n"
        + "\n".join(f"  {s.name}: {s.summary}" for s in SCENARIOS.values()),
    )
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--districts", type=int, help="districts in the sandbox")
    parser.add_argument(
        "--users",
        type=int,
        nargs="+",
        help="users per district (one-district: one run per value, e.g. --users 50000 190000)",
    )
    for name in ("schools", "sections", "courses", "terms", "resources"):
        parser.add_argument(f"--{name}", type=int, help=f"{name} per district")
    parser.add_argument("--initial-events", type=int, help="random changes per district at start")
    parser.add_argument("--latency-ms", type=float, help="added to every API request")
    parser.add_argument("--rate-limit", type=int, help="requests per window per token")
    parser.add_argument("--rate-window", type=float, help="rate-limit window in seconds")
    parser.add_argument(
        "--spent-budget",
        action="store_true",
        help="start each run with every token's window used up (a token shared with another "
        "application): the first request of each meets a 429",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--page-size", type=int, default=10_000, help="tap and floor `limit`")
    parser.add_argument("--threads", type=int, default=16, help="threads of the floor client")
    parser.add_argument("--repeat", type=int, default=1, help="measure floor and tap N times")
    parser.add_argument(
        "--tap-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra tap setting (JSON value or string), e.g. max_parallel_districts=8",
    )
    parser.add_argument("--timeout", type=float, default=3 * 3600.0, help="per tap run (s)")
    parser.add_argument("--output", type=Path, help="results file (default: results/<scenario>)")
    parser.add_argument("--no-save", action="store_true", help="do not write the results file")
    parser.add_argument("--keep-logs", type=Path, help="copy the tap's stderr logs here")
    parser.add_argument(
        "--source",
        type=Path,
        help="import tap_clever and clever_sandbox from this directory (put first on the "
        "subprocesses' PYTHONPATH), e.g. an export of a commit: "
        "mkdir /tmp/head && git archive HEAD | tar -x -C /tmp/head",
    )
    parser.add_argument("--source-label", help="what --source is (recorded in the results)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="one-district: also run the tap once under cProfile and report the top entries",
    )
    return parser


def _scenario_from_args(args: argparse.Namespace) -> Scenario:
    base = SCENARIOS[args.scenario]
    overrides: dict[str, Any] = {}
    for name in (
        "districts",
        "schools",
        "sections",
        "courses",
        "terms",
        "resources",
        "initial_events",
        "latency_ms",
        "rate_limit",
        "rate_window",
    ):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.users:
        overrides["users"] = tuple(args.users)
    settings = dict(base.tap_settings)
    settings.update(parse_setting(text) for text in args.tap_setting)
    overrides["tap_settings"] = settings
    scenario = replace(base, **overrides)
    if scenario.name != "one-district" and len(scenario.users) != 1:
        sys.exit("--users takes one value (users per district) for this scenario")
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    return scenario


def _parameters(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "districts": scenario.districts,
        "users_per_district": list(scenario.users),
        "schools": scenario.schools,
        "sections": scenario.sections,
        "courses": scenario.courses,
        "terms": scenario.terms,
        "resources": scenario.resources,
        "initial_events_per_district": scenario.initial_events,
        "latency_ms": scenario.latency_ms,
        "rate_limit": scenario.rate_limit,
        "rate_window_seconds": scenario.rate_window,
        "spent_budget": args.spent_budget,
        "seed": args.seed,
        "page_size": args.page_size,
        "floor_threads": args.threads if scenario.name != "one-district" else None,
        "repeat": args.repeat,
        "tap_settings": scenario.tap_settings,
        "goal": scenario.goal,
    }


def _sandbox_argv(scenario: Scenario, users: int, seed: int) -> list[str]:
    return sandbox_argv(
        districts=scenario.districts,
        users=users,
        seed=seed,
        schools=scenario.schools,
        sections=scenario.sections,
        courses=scenario.courses,
        terms=scenario.terms,
        resources=scenario.resources,
        initial_events=scenario.initial_events,
        latency_ms=scenario.latency_ms,
        rate_limit=scenario.rate_limit,
        rate_window=scenario.rate_window,
        pregenerate=True,
    )


def _prepare_run(sandbox: SandboxProcess, scenario: Scenario, *, spent: bool = False) -> None:
    """Every measurement starts with fresh rate-limit counters; under a low limit, also at the
    start of a window (the sandbox aligns windows on multiples of their length). With `spent`,
    every token's window is then used up, as when the token is shared with the partner's own
    application: the run's first request per token meets a 429."""
    sandbox.reset_rate_limit()
    if scenario.rate_limit is not None:
        sleep_until_window_start(sandbox.rate_limit()[1])
    if spent:
        limit = sandbox.rate_limit()[0]
        sandbox.control("/rate-limit", {"spend": {str(d["id"]): limit for d in sandbox.districts}})


def _answered(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def _keep_log(path: str | None, keep: Path | None, name: str) -> None:
    if keep is not None and path:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, keep / name)


def _say(text: str) -> None:
    print(text, flush=True)


# --- scenarios A, B, C: many districts, every stream -----------------------------------------


def run_districts(scenario: Scenario, args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    users = scenario.users[0]
    measurements: list[dict[str, Any]] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="tap-clever-bench-") as tmp:
        workdir = Path(tmp)
        argv = _sandbox_argv(scenario, users, args.seed)
        _say(f"Starting the sandbox: clever-sandbox serve {' '.join(argv)}")
        with running_sandbox(argv, workdir, log=workdir / "sandbox.log") as sandbox:
            counting = sandbox.install_request_counter()
            expected = sandbox.expected_counts()
            districts = len(sandbox.districts)
            total = sum(expected.values())
            _say(
                f"Sandbox ready in {sandbox.start_seconds:.1f} s: {districts} districts, "
                f"{total:,} records ({total / districts:,.0f} per district): "
                + ", ".join(f"{k} {v:,}" for k, v in expected.items())
            )
            config = tap_config(
                sandbox.base_url,
                sandbox.tokens,
                page_size=args.page_size,
                settings=scenario.tap_settings,
            )
            config_path = workdir / "tap-config.json"
            config_path.write_text(json.dumps(config))

            for n in range(1, args.repeat + 1):
                _prepare_run(sandbox, scenario, spent=args.spent_budget)
                _say(f"[{n}/{args.repeat}] floor: {args.threads} threads ...")
                before = sandbox.requests_answered()
                floor = floor_read(
                    sandbox.base_url, sandbox.tokens, page_size=args.page_size, threads=args.threads
                )
                answered = _answered(before, sandbox.requests_answered())
                mismatches = count_mismatches(expected, floor.counts)
                ok &= not mismatches
                measurements.append(
                    {
                        "run": "floor",
                        "repeat": n,
                        "wall_seconds": floor.wall_seconds,
                        "records": sum(floor.counts.values()),
                        "counts": floor.counts,
                        "count_mismatches": mismatches,
                        "api_requests_answered": answered,
                        "requests_sent": floor.requests,
                        "http_429": floor.http_429,
                        "retries": floor.retries,
                        "waited_for_reset_seconds": floor.waited_for_reset_seconds,
                        "threads": floor.threads,
                    }
                )
                _say(f"    {floor.wall_seconds:.2f} s")

                _prepare_run(sandbox, scenario, spent=args.spent_budget)
                _say(f"[{n}/{args.repeat}] tap-clever: {districts} districts ...")
                before = sandbox.requests_answered()
                tap = run_measured(
                    "tap",
                    [str(BIN / "tap-clever"), "--config", str(config_path)],
                    stderr_path=workdir / f"tap-{n}.log",
                    count_stdout=True,
                    timeout=args.timeout,
                )
                answered = _answered(before, sandbox.requests_answered())
                log = scan_tap_log(Path(str(tap.stderr_path)))
                _keep_log(tap.stderr_path, args.keep_logs, f"{scenario.name}-tap-{n}.log")
                mismatches = count_mismatches(
                    expected, tap.stdout_records, extra={"snapshots": districts}
                )
                ok &= not mismatches and tap.exit_code == 0
                measurements.append(
                    {
                        "run": "tap",
                        "repeat": n,
                        "wall_seconds": tap.wall_seconds,
                        "exit_code": tap.exit_code,
                        "timed_out": tap.timed_out,
                        "peak_rss_kib": tap.peak_rss_kib,
                        "user_cpu_seconds": tap.user_cpu_seconds,
                        "system_cpu_seconds": tap.system_cpu_seconds,
                        "records": sum(
                            v for k, v in (tap.stdout_records or {}).items() if k in expected
                        ),
                        "counts": tap.stdout_records,
                        "count_mismatches": mismatches,
                        "other_messages": tap.stdout_other_lines,
                        "api_requests_answered": answered,
                        "stream_requests_by_status": log.stream_requests,
                        "http_429": log.http_429,
                        "log_lines_mentioning_429": log.lines_429,
                        "rate_limit_pauses": log.rate_limit_pauses,
                        "rate_limit_paused_seconds": log.rate_limit_paused_seconds,
                        "retry_log_lines": log.retry_lines,
                        "log_warnings": log.warnings,
                        "log_errors": log.errors,
                        "log_lines": log.lines,
                        "stderr_tail": log.tail if tap.exit_code or mismatches else [],
                    }
                )
                _say(f"    {tap.wall_seconds:.2f} s, exit code {tap.exit_code}")
                if tap.exit_code or mismatches:
                    _say("    tap stderr (last lines):\n      " + "\n      ".join(log.tail))
            sandbox_record = {
                "argv": sandbox.argv[2:],
                "start_seconds": sandbox.start_seconds,
                "districts": districts,
                "expected_counts": expected,
                "expected_records": total,
                "records_per_district": total / districts,
                "request_counter": counting,
            }

    summary = _districts_summary(scenario, measurements, districts, ok)
    _print_districts(scenario, sandbox_record, measurements, summary)
    return {"sandbox": sandbox_record, "measurements": measurements, "summary": summary}, ok


def _districts_summary(
    scenario: Scenario, measurements: list[dict[str, Any]], districts: int, ok: bool
) -> dict[str, Any]:
    floors = [m for m in measurements if m["run"] == "floor"]
    taps = [m for m in measurements if m["run"] == "tap"]
    floor_best, floor_median = best_and_median([m["wall_seconds"] for m in floors])
    tap_best, tap_median = best_and_median([m["wall_seconds"] for m in taps])
    summary: dict[str, Any] = {
        "floor_wall_best": floor_best,
        "floor_wall_median": floor_median,
        "tap_wall_best": tap_best,
        "tap_wall_median": tap_median,
        "ratio_tap_over_floor_best": tap_best / floor_best,
        "ratio_tap_over_floor_median": tap_median / floor_median,
        "tap_seconds_per_district_best": tap_best / districts,
        "tap_peak_rss_kib_max": max(m["peak_rss_kib"] for m in taps),
        "checks_passed": ok,
        "goal": scenario.goal,
    }
    if scenario.max_wall_ratio is not None:
        summary["goal_met"] = ok and tap_best / floor_best <= scenario.max_wall_ratio
    if scenario.rate_limit is not None and scenario.rate_window is not None:
        limit, window = scenario.rate_limit, scenario.rate_window

        def bound(requests_per_district: float) -> float:
            # Runs start at a window boundary: a token needing R requests at L per window waits
            # for ceil(R / L) - 1 resets, however parallel the client.
            return (math.ceil(requests_per_district / limit) - 1) * window

        floor_requests = floors[0]["requests_sent"] - floors[0]["http_429"]
        summary["floor_requests_per_district"] = floor_requests / districts
        summary["lower_bound_seconds_floor_requests"] = bound(floor_requests / districts)
        tap_answered = taps[0]["api_requests_answered"]
        if tap_answered:
            summary["tap_requests_per_district"] = tap_answered / districts
            summary["lower_bound_seconds_tap_requests"] = bound(math.ceil(tap_answered / districts))
        summary["tap_http_429"] = [m["http_429"] for m in taps]
        summary["tap_rate_limit_pauses"] = [m["rate_limit_pauses"] for m in taps]
        summary["goal_met"] = ok
    return summary


def _print_districts(
    scenario: Scenario,
    sandbox: dict[str, Any],
    measurements: list[dict[str, Any]],
    summary: dict[str, Any],
) -> None:
    floor_best = summary["floor_wall_best"]
    rows = []
    for m in measurements:
        requests = m["api_requests_answered"]
        if requests is None:
            by_status = m.get("stream_requests_by_status", {})
            requests = m.get("requests_sent") or sum(by_status.values())
        rows.append(
            [
                f"{m['run']} #{m['repeat']}",
                f"{m['wall_seconds']:.2f}",
                f"{m['wall_seconds'] / floor_best:.2f}x",
                f"{m['records']:,}",
                f"{m['records'] / m['wall_seconds']:,.0f}",
                mib(m.get("peak_rss_kib")),
                f"{requests:,}",
                m["http_429"],
                "ok" if not m["count_mismatches"] else f"MISMATCH {m['count_mismatches']}",
            ]
        )
    print()
    limit = (
        f"{scenario.rate_limit} requests / {scenario.rate_window:g} s per token"
        if scenario.rate_limit is not None
        else "default rate limit"
    )
    print(
        f"{scenario.name}: {sandbox['districts']} districts, "
        f"{sandbox['records_per_district']:.0f} records per district, "
        f"{scenario.latency_ms:g} ms latency, {limit}"
    )
    print_table(
        [
            "run",
            "wall s",
            "/ floor",
            "records",
            "records/s",
            "peak RSS",
            "API requests",
            "429s",
            "counts",
        ],
        rows,
    )
    print(
        f"\nfloor (http.client + orjson, {measurements[0]['threads']} threads): best "
        f"{summary['floor_wall_best']:.2f} s, median {summary['floor_wall_median']:.2f} s"
    )
    print(
        f"tap-clever: best {summary['tap_wall_best']:.2f} s "
        f"({summary['tap_seconds_per_district_best'] * 1000:.0f} ms per district), median "
        f"{summary['tap_wall_median']:.2f} s, peak RSS {mib(summary['tap_peak_rss_kib_max'])}"
    )
    print(
        f"tap / floor wall: best {summary['ratio_tap_over_floor_best']:.2f}x, median "
        f"{summary['ratio_tap_over_floor_median']:.2f}x"
    )
    if "lower_bound_seconds_floor_requests" in summary:
        taps = [m for m in measurements if m["run"] == "tap"]
        print(
            f"429s answered to the tap: {summary['tap_http_429']} (SDK request metrics); "
            f"log lines mentioning 429: {[m['log_lines_mentioning_429'] for m in taps]}; "
            f"rate-limit pauses: {summary['tap_rate_limit_pauses']} "
            f"({[round(m['rate_limit_paused_seconds'], 1) for m in taps]} s)"
        )
        print(
            f"lower bound from the windows: {summary['lower_bound_seconds_floor_requests']:.0f} s "
            f"for the floor's {summary['floor_requests_per_district']:.1f} requests per district"
            + (
                f", {summary['lower_bound_seconds_tap_requests']:.0f} s for the tap's "
                f"{summary['tap_requests_per_district']:.1f}"
                if "lower_bound_seconds_tap_requests" in summary
                else ""
            )
        )
    verdict = "met" if summary.get("goal_met") else "NOT met"
    checks = "all counts match the sandbox" if summary["checks_passed"] else "CHECKS FAILED"
    print(f"goal ({scenario.goal}): {verdict}; {checks}")


# --- scenario D: one big district, users only, start-up included -----------------------------


def _profile_tap(config: Path, catalog: Path, workdir: Path, keep: Path | None) -> list[str]:
    """Run the tap once under cProfile; the top cumulative entries."""
    profile = workdir / "tap.prof"
    run_measured(
        "tap-profile",
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(profile),
            "-m",
            "tap_clever.tap",
            "--config",
            str(config),
            "--catalog",
            str(catalog),
        ],
        stderr_path=workdir / "tap-profile.log",
        count_stdout=False,
        cwd=workdir,  # `-m` puts the working directory first on sys.path
    )
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(profile, keep / "one-district-tap.prof")
    out = io.StringIO()
    pstats.Stats(str(profile), stream=out).sort_stats("cumulative").print_stats(30)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [line.rstrip() for line in lines[start:] if line.strip()]


def run_one_district(scenario: Scenario, args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    sizes: list[dict[str, Any]] = []
    ok = True
    for users in scenario.users:
        with tempfile.TemporaryDirectory(prefix="tap-clever-bench-") as tmp:
            workdir = Path(tmp)
            argv = _sandbox_argv(scenario, users, args.seed)
            _say(f"Starting the sandbox: clever-sandbox serve {' '.join(argv)}")
            with running_sandbox(argv, workdir, log=workdir / "sandbox.log") as sandbox:
                expected = sandbox.expected_counts()["users"]
                district = sandbox.districts[0]
                _say(f"Sandbox ready in {sandbox.start_seconds:.1f} s: {expected:,} users")
                config = tap_config(
                    sandbox.base_url,
                    sandbox.tokens[:1],
                    page_size=args.page_size,
                    settings=scenario.tap_settings,
                )
                config_path = workdir / "tap-config.json"
                config_path.write_text(json.dumps(config))
                catalog = catalog_selecting(config_path, workdir, ["users"])
                schema_path = workdir / "users-schema.json"
                schema_path.write_text(json.dumps(stream_schema(catalog, "users")))
                measurements: list[dict[str, Any]] = []
                for n in range(1, args.repeat + 1):
                    for run, gc_flag in (("floor", []), ("floor-gc-on", ["--gc"])):
                        sandbox.reset_rate_limit()
                        _say(f"[{n}/{args.repeat}] {run}: urllib + orjson Singer writer ...")
                        summary_path = workdir / f"{run}-{n}.json"
                        floor = run_measured(
                            run,
                            [
                                sys.executable,
                                str(BENCHMARKS / "floor_users_singer.py"),
                                "--base-url",
                                sandbox.base_url,
                                "--token",
                                sandbox.tokens[0],
                                "--district",
                                str(district["id"]),
                                "--page-size",
                                str(args.page_size),
                                "--schema-file",
                                str(schema_path),
                                "--summary",
                                str(summary_path),
                                *gc_flag,
                            ],
                            stderr_path=workdir / f"{run}-{n}.log",
                            count_stdout=False,
                        )
                        floor_records = (
                            int(json.loads(summary_path.read_text())["records"])
                            if summary_path.exists()
                            else -1
                        )
                        ok &= floor.exit_code == 0 and floor_records == expected
                        measurements.append(
                            {
                                "run": run,
                                "repeat": n,
                                "wall_seconds": floor.wall_seconds,
                                "exit_code": floor.exit_code,
                                "records": floor_records,
                                "records_per_second": expected / floor.wall_seconds,
                                "peak_rss_kib": floor.peak_rss_kib,
                                "user_cpu_seconds": floor.user_cpu_seconds,
                                "system_cpu_seconds": floor.system_cpu_seconds,
                                "count_ok": floor_records == expected,
                            }
                        )
                        _say(f"    {floor.wall_seconds:.2f} s")

                    sandbox.reset_rate_limit()
                    _say(f"[{n}/{args.repeat}] tap-clever: users only, stdout to /dev/null ...")
                    tap = run_measured(
                        "tap",
                        [
                            str(BIN / "tap-clever"),
                            "--config",
                            str(config_path),
                            "--catalog",
                            str(catalog),
                        ],
                        stderr_path=workdir / f"tap-{n}.log",
                        count_stdout=False,
                        timeout=args.timeout,
                    )
                    log = scan_tap_log(Path(str(tap.stderr_path)))
                    _keep_log(tap.stderr_path, args.keep_logs, f"one-district-{users}-tap-{n}.log")
                    # stdout went to /dev/null: the count is the SDK's record_count metrics.
                    tap_records = log.metric_records.get("users")
                    ok &= tap.exit_code == 0 and tap_records == expected
                    measurements.append(
                        {
                            "run": "tap",
                            "repeat": n,
                            "wall_seconds": tap.wall_seconds,
                            "exit_code": tap.exit_code,
                            "records": tap_records,
                            "records_per_second": expected / tap.wall_seconds,
                            "peak_rss_kib": tap.peak_rss_kib,
                            "user_cpu_seconds": tap.user_cpu_seconds,
                            "system_cpu_seconds": tap.system_cpu_seconds,
                            "count_ok": tap_records == expected,
                            "stream_requests_by_status": log.stream_requests,
                            "stderr_tail": log.tail if tap.exit_code else [],
                        }
                    )
                    _say(f"    {tap.wall_seconds:.2f} s, exit code {tap.exit_code}")
                profile = (
                    _profile_tap(config_path, catalog, workdir, args.keep_logs)
                    if args.profile
                    else None
                )
                sandbox_start = sandbox.start_seconds

        floor_best, floor_median = best_and_median(
            [m["wall_seconds"] for m in measurements if m["run"] == "floor"]
        )
        plain_best, plain_median = best_and_median(
            [m["wall_seconds"] for m in measurements if m["run"] == "floor-gc-on"]
        )
        tap_best, tap_median = best_and_median(
            [m["wall_seconds"] for m in measurements if m["run"] == "tap"]
        )
        summary = {
            "users": expected,
            "floor_wall_best": floor_best,
            "floor_wall_median": floor_median,
            "tap_wall_best": tap_best,
            "tap_wall_median": tap_median,
            "floor_records_per_second_best": expected / floor_best,
            "tap_records_per_second_best": expected / tap_best,
            "ratio_tap_over_floor_records_per_second_best": floor_best / tap_best,
            "ratio_tap_over_floor_records_per_second_median": floor_median / tap_median,
            "floor_gc_on_wall_best": plain_best,
            "floor_gc_on_wall_median": plain_median,
            "floor_gc_on_records_per_second_best": expected / plain_best,
            "ratio_tap_over_floor_gc_on_records_per_second_best": plain_best / tap_best,
            "goal": scenario.goal,
            "goal_met": ok and floor_best / tap_best >= (scenario.min_speed_ratio or 0),
            "checks_passed": ok,
        }
        sizes.append(
            {
                "users_setting": users,
                "sandbox_start_seconds": sandbox_start,
                "expected_users": expected,
                "measurements": measurements,
                "summary": summary,
                "profile_top_cumulative": profile,
            }
        )
        _print_one_district(scenario, args, sizes[-1])
    return {"sizes": sizes, "summary": [s["summary"] for s in sizes]}, ok


def _print_one_district(scenario: Scenario, args: argparse.Namespace, size: dict[str, Any]) -> None:
    summary = size["summary"]
    floor_best = summary["floor_wall_best"]
    rows = [
        [
            f"{m['run']} #{m['repeat']}",
            f"{m['wall_seconds']:.2f}",
            f"{m['records_per_second']:,.0f}",
            f"{floor_best / m['wall_seconds']:.2f}x",
            mib(m["peak_rss_kib"]),
            f"{m['user_cpu_seconds'] + m['system_cpu_seconds']:.2f}",
            "-" if m["records"] is None else f"{m['records']:,}",
            "ok" if m["count_ok"] else "MISMATCH",
        ]
        for m in size["measurements"]
    ]
    print()
    print(
        f"one-district: {summary['users']:,} users, page size {args.page_size:,}, "
        "process start-up included, stdout to /dev/null"
    )
    print_table(
        ["run", "wall s", "records/s", "x floor", "peak RSS", "CPU s", "records", "count"], rows
    )
    print(
        f"\nbest: floor {summary['floor_records_per_second_best']:,.0f} records/s, tap "
        f"{summary['tap_records_per_second_best']:,.0f} records/s; tap / floor records/s "
        f"{summary['ratio_tap_over_floor_records_per_second_best']:.2f}x (median "
        f"{summary['ratio_tap_over_floor_records_per_second_median']:.2f}x)"
    )
    print(
        f"the same floor with the garbage collector on (a plain script): "
        f"{summary['floor_gc_on_records_per_second_best']:,.0f} records/s; tap / it "
        f"{summary['ratio_tap_over_floor_gc_on_records_per_second_best']:.2f}x"
    )
    verdict = "met" if summary["goal_met"] else "NOT met"
    checks = "counts match the sandbox" if summary["checks_passed"] else "CHECKS FAILED"
    print(f"goal ({scenario.goal}): {verdict}; {checks}")
    if size["profile_top_cumulative"]:
        print("\ntap under cProfile, top cumulative entries:")
        print("\n".join(size["profile_top_cumulative"]))


def main() -> int:
    args = _parser().parse_args()
    scenario = _scenario_from_args(args)
    if args.source:
        if not (args.source / "tap_clever").is_dir():
            sys.exit(f"--source {args.source}: no tap_clever/ there")
        paths = [str(args.source.resolve()), os.environ.get("PYTHONPATH", "")]
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    record = run_record(scenario.name, _parameters(scenario, args))
    record["code_under_test"] = code_under_test(args.source, args.source_label)
    started = time.perf_counter()
    if scenario.name == "one-district":
        results, ok = run_one_district(scenario, args)
    else:
        results, ok = run_districts(scenario, args)
    record.update(results)
    record["benchmark_seconds"] = time.perf_counter() - started
    if not args.no_save:
        path = save_results(record, args.output or RESULTS_DIR / f"{scenario.name}.json")
        print(f"\nresults saved to {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
