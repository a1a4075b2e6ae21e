"""Throughput of the sandbox: ``python -m clever_sandbox.bench --users 100000``.

Starts ``clever-sandbox serve`` in a subprocess (so client and server do not share a GIL, as
with a real tap), pages through every user of one district with ``requests`` at
``limit=10000`` twice (cold: records generated on the fly, unless ``--pregenerate``; warm:
served from the byte cache), and prints start-up time, records/s, wall time and the server's
peak RSS. "served" rates count only the time spent in HTTP (what the sandbox costs a client);
"with parse" adds the client's own JSON decoding (orjson when installed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from .jsonutil import loads


def _peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _page_all(session: requests.Session, base: str, limit: int) -> tuple[int, int, float, float]:
    """Page through all users; returns (records, bytes, seconds in HTTP, seconds parsing)."""
    uri: str | None = f"/v3.1/users?limit={limit}"
    records = size = 0
    http_time = parse_time = 0.0
    while uri:
        start = time.perf_counter()
        response = session.get(base + uri, timeout=600)
        response.raise_for_status()
        body = response.content
        middle = time.perf_counter()
        payload: dict[str, Any] = loads(body)
        parse_time += time.perf_counter() - middle
        http_time += middle - start
        size += len(body)
        records += len(payload["data"])
        uri = next((x["uri"] for x in payload["links"] if x["rel"] == "next"), None)
    return records, size, http_time, parse_time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000, help="users per district")
    parser.add_argument("--districts", type=int, default=1)
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pregenerate", action="store_true", help="serve --pregenerate")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        ready = Path(tmp) / "ready.json"
        command = [
            sys.executable, "-m", "clever_sandbox.cli", "serve", "--port", "0",
            "--users", str(args.users), "--districts", str(args.districts),
            "--seed", str(args.seed), "--rate-limit", "1000000", "--ready-file", str(ready),
        ] + (["--pregenerate"] if args.pregenerate else [])  # fmt: skip
        start = time.perf_counter()
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        try:
            while not ready.exists():
                if server.poll() is not None:
                    raise SystemExit("sandbox exited before becoming ready")
                time.sleep(0.02)
            startup = time.perf_counter() - start
            info = json.loads(ready.read_text())
            print(f"start-up: {startup:.2f} s for {args.districts} x {args.users} users")
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {info['districts'][0]['token']}"
            for number in range(1, args.passes + 1):
                begin = time.perf_counter()
                records, size, http_time, _parse = _page_all(session, info["base_url"], args.limit)
                wall = time.perf_counter() - begin
                label = "warm" if number > 1 or args.pregenerate else "cold"
                print(
                    f"pass {number} ({label}): {records} users, wall {wall:.2f} s; served "
                    f"{records / http_time:,.0f} records/s ({size / http_time / 1e6:.0f} MB/s, "
                    f"{http_time:.2f} s in HTTP); with parse {records / wall:,.0f} records/s"
                )
            print(f"server peak RSS: {_peak_rss_mb(server.pid):.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
