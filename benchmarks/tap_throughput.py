"""Throughput of a `users` sync: the tap against a sandbox district, output to /dev/null.

Starts `clever-sandbox` in its own process (so its CPU is not the tap's), then in the same
session runs, in turn:

1. the floor: plain `requests` paging through the same endpoint and decoding each page, with no
   Singer work at all: how fast the data can be had from this sandbox on this machine;
2. the tap: `tap-clever` as a subprocess with a users-only catalog, stdout to /dev/null.

and prints records/s, wall time and peak RSS of each, and the ratio tap / floor. With
`--pii-modes keep,hash,drop` the tap runs once per privacy mode (`pii_mode`, README "Student
privacy"), each also as a ratio to the first. Run:

    .venv/bin/python benchmarks/tap_throughput.py --users 100000
    .venv/bin/python benchmarks/tap_throughput.py --users 100000 --pii-modes keep,hash,drop
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from benchlib import BIN, SandboxError, catalog_selecting, sandbox_argv
from benchlib import start_sandbox as start_sandbox_process

__all__ = ["BIN", "start_sandbox", "users_only_catalog"]


def start_sandbox(users: int, workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """One pregenerated district of `users` users in its own process; (process, ready info)."""
    try:
        sandbox = start_sandbox_process(
            sandbox_argv(districts=1, users=users, pregenerate=True), workdir, timeout=300
        )
    except SandboxError as exc:
        sys.exit(f"clever-sandbox did not start: {exc}")
    return sandbox.process, sandbox.info


def floor_run(base_url: str, token: str, page_size: int) -> tuple[int, float]:
    """Page through /v3.1/users with plain requests: the fastest a client could go."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    count = 0
    started = time.perf_counter()
    url: str | None = f"{base_url}/v3.1/users?limit={page_size}"
    while url:
        page = session.get(url, timeout=120).json()
        count += len(page["data"])
        next_uri = next((link["uri"] for link in page["links"] if link["rel"] == "next"), None)
        url = f"{base_url}{next_uri}" if next_uri and page["data"] else None
    return count, time.perf_counter() - started


def users_only_catalog(config: Path, workdir: Path) -> Path:
    """The tap's catalog with only the users stream selected."""
    return catalog_selecting(config, workdir, ["users"])


# A fixed salt: this benchmark's output is thrown away.
BENCHMARK_SALT = "benchmark-salt-0123456789"


def tap_run(
    base_url: str, token: str, page_size: int, workdir: Path, pii_mode: str = "keep"
) -> tuple[float, int]:
    """Run the tap on users only, to /dev/null; return wall seconds and peak RSS in KiB."""
    config = workdir / "config.json"
    settings: dict[str, Any] = {"api_url": base_url, "auth_token": token, "page_size": page_size}
    settings["pii_mode"] = pii_mode
    if pii_mode == "hash":
        settings["pii_salt"] = BENCHMARK_SALT
    config.write_text(json.dumps(settings))
    catalog_path = users_only_catalog(config, workdir)
    started = time.perf_counter()
    with Path(os.devnull).open("wb") as devnull:
        process = subprocess.Popen(
            [str(BIN / "tap-clever"), "--config", str(config), "--catalog", str(catalog_path)],
            stdout=devnull,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("tap-clever failed; rerun it by hand to see why")
    return wall, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument(
        "--pii-modes", default="keep", help="comma-separated pii_mode values, run in turn"
    )
    args = parser.parse_args()
    modes = args.pii_modes.split(",")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sandbox, info = start_sandbox(args.users, workdir)
        try:
            base_url = info["base_url"]
            token = info["districts"][0]["token"]
            records, floor_wall = floor_run(base_url, token, args.page_size)
            taps = {mode: tap_run(base_url, token, args.page_size, workdir, mode) for mode in modes}
        finally:
            sandbox.terminate()
            sandbox.wait()

    floor_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"users synced:            {records}")
    print(f"page size:               {args.page_size}")
    print(
        f"floor (requests+json):   {records / floor_wall:>10,.0f} records/s  "
        f"wall {floor_wall:6.2f} s  peak RSS {floor_rss_kib / 1024:6.0f} MiB"
    )
    for mode, (tap_wall, tap_rss_kib) in taps.items():
        print(
            f"tap-clever, pii {mode:<5}:  {records / tap_wall:>10,.0f} records/s  "
            f"wall {tap_wall:6.2f} s  peak RSS {tap_rss_kib / 1024:6.0f} MiB  "
            f"{tap_wall / floor_wall:.2f}x the floor, "
            f"{tap_wall / taps[modes[0]][0]:.2f}x pii {modes[0]}"
        )


if __name__ == "__main__":
    main()
