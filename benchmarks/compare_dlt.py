"""tap-clever + target-duckdb against dlt's REST client, on the same sandbox district.

Both load every user of one sandbox district into a fresh DuckDB file; the wall time of each
is measured in the same session, one after the other, as a user would run them (process
start-up included):

- **tap-clever**: `tap-clever` (users only) piped into `target-duckdb-clever`, the loader the
  Meltano project installs (`meltano install` first);
- **dlt**: `benchmarks/dlt_clever_users.py` (dlt's RESTClient following Clever's next links,
  then dlt's normalize and load into DuckDB), in a virtual environment that has dlt:

    python3 -m venv /tmp/dlt-venv
    /tmp/dlt-venv/bin/pip install "dlt[duckdb]==1.31.0" duckdb==2.0.0
    .venv/bin/python benchmarks/compare_dlt.py --users 50000 --dlt-python /tmp/dlt-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tap_throughput import BIN, start_sandbox, users_only_catalog

ROOT = Path(__file__).resolve().parent.parent
LOADER = ROOT / ".meltano/loaders/target-duckdb/venv/bin/target-duckdb-clever"


def run_tap_clever(base_url: str, token: str, workdir: Path) -> float:
    tap_config = workdir / "tap.json"
    tap_config.write_text(json.dumps({"api_url": base_url, "auth_token": token}))
    catalog = users_only_catalog(tap_config, workdir)
    target_config = workdir / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "path": str(workdir / "tap_clever.duckdb"),
                "default_target_schema": "raw_clever",
                "add_metadata_columns": True,
                "batch_size_rows": 100000,
            }
        )
    )
    started = time.perf_counter()
    tap = subprocess.Popen(
        [str(BIN / "tap-clever"), "--config", str(tap_config), "--catalog", str(catalog)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.run(
        [str(LOADER), "--config", str(target_config)],
        stdin=tap.stdout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    tap.wait()
    wall = time.perf_counter() - started
    if tap.returncode or target.returncode:
        sys.exit("tap-clever | target-duckdb-clever failed; run them by hand to see why")
    return wall


def run_dlt(dlt_python: str, base_url: str, token: str, workdir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            dlt_python,
            str(Path(__file__).with_name("dlt_clever_users.py")),
            "--base-url",
            base_url,
            "--token",
            token,
            "--database",
            str(workdir / "dlt.duckdb"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUNTIME__LOG_LEVEL": "WARNING"},
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--dlt-python", required=True, help="a Python that has dlt installed")
    args = parser.parse_args()
    if not LOADER.exists():
        sys.exit(f"{LOADER} is missing: run `.venv/bin/meltano install` first")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sandbox, info = start_sandbox(args.users, workdir)
        try:
            base_url = info["base_url"]
            token = info["districts"][0]["token"]
            users = info["districts"][0]["counts"]["users"]
            tap_wall = run_tap_clever(base_url, token, workdir)
            dlt_wall = run_dlt(args.dlt_python, base_url, token, workdir)
        finally:
            sandbox.terminate()
            sandbox.wait()

    print(f"users loaded into DuckDB:         {users}")
    print(
        f"tap-clever | target-duckdb-clever: {tap_wall:6.2f} s  {users / tap_wall:>8,.0f} users/s"
    )
    print(
        f"dlt RESTClient -> duckdb:          {dlt_wall:6.2f} s  {users / dlt_wall:>8,.0f} users/s"
    )
    print(f"dlt / tap-clever wall:             {dlt_wall / tap_wall:.2f}x")


if __name__ == "__main__":
    main()
