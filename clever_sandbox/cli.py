"""``clever-sandbox``: run the sandbox server, or steer a running one over HTTP.

``serve`` builds the data, listens, prints how to connect (and writes it as JSON to
``--ready-file`` once listening, for scripts to wait on), and serves until SIGINT/SIGTERM.
The other subcommands talk to a running server's ``/_sandbox`` control API with urllib only,
so they work from any shell or CI step.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .config import DISTRICT_MODES, SandboxConfig
from .server import SandboxServer


def _control(url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - the user names the sandbox URL
        url.rstrip("/") + path,
        data=data,
        method="GET" if payload is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        raise SystemExit(f"{exc.code} from {path}: {body}") from None


def _district_mode(text: str) -> tuple[int, str]:
    index, _, mode = text.partition("=")
    if not index.strip().isdigit() or mode not in DISTRICT_MODES:
        raise argparse.ArgumentTypeError(
            f"expected INDEX=MODE with MODE one of {', '.join(DISTRICT_MODES)}, got {text!r}"
        )
    return int(index), mode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clever-sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run a sandbox server until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--districts", type=int, default=2)
    serve.add_argument("--users", type=int, default=1000, help="users per district")
    for role in ("students", "teachers", "staff", "contacts", "district-admins"):
        serve.add_argument(f"--{role}", type=int, default=None, help=f"{role} per district")
    for kind in ("schools", "sections", "courses"):
        serve.add_argument(f"--{kind}", type=int, default=None, help=f"{kind} per district")
    serve.add_argument("--terms", type=int, default=6)
    serve.add_argument("--resources", type=int, default=8)
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--initial-events", type=int, default=0, help="random changes at start")
    serve.add_argument(
        "--pregenerate", action="store_true", help="generate all records before listening"
    )
    serve.add_argument("--rate-limit", type=int, default=1200, help="requests per window")
    serve.add_argument("--rate-window", type=float, default=60.0, help="window in seconds")
    serve.add_argument("--latency-ms", type=float, default=0.0)
    serve.add_argument("--fault-rate", type=float, default=0.0)
    serve.add_argument("--fault-seed", type=int, default=0)
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        help='fault rule as JSON, repeatable, e.g. \'{"kind":"status","status":503,"times":2}\'',
    )
    serve.add_argument("--bare-next-links", action="store_true")
    serve.add_argument(
        "--no-hostile-strings",
        action="store_true",
        help="keep free text well-behaved (no emoji, RTL, zero-width, huge or lone-surrogate text)",
    )
    serve.add_argument(
        "--district-mode",
        action="append",
        default=[],
        type=_district_mode,
        metavar="INDEX=MODE",
        help=f"mode of the district at INDEX (0-based), repeatable; MODE is one of "
        f"{', '.join(DISTRICT_MODES)} (default events_on)",
    )
    serve.add_argument(
        "--events-ignore-ending-before",
        action="store_true",
        help="answer /events?ending_before=... as if ending_before were absent",
    )
    serve.add_argument("--client-id", default=None)
    serve.add_argument("--client-secret", default=None)
    serve.add_argument("--ready-file", type=Path, default=None)

    changes = sub.add_parser("changes", help="apply changes to a running sandbox")
    changes.add_argument("--url", required=True)
    changes.add_argument("--random", type=int, default=0, help="number of random changes")
    changes.add_argument("--seed", type=int, default=None)
    changes.add_argument("--district", default=None)
    changes.add_argument("--file", type=Path, default=None, help="JSON list of scripted ops")

    info = sub.add_parser("info", help="print a running sandbox's info")
    info.add_argument("--url", required=True)

    faults = sub.add_parser("faults", help="add or clear faults on a running sandbox")
    faults.add_argument("--url", required=True)
    faults.add_argument("--clear", action="store_true")
    faults.add_argument("--add", action="append", default=[], help="JSON fault rule")
    faults.add_argument("--fault-rate", type=float, default=None)
    faults.add_argument("--latency-ms", type=float, default=None)

    clock = sub.add_parser("clock", help="advance a running sandbox's clock")
    clock.add_argument("--url", required=True)
    clock.add_argument("--days", type=float, default=0)
    clock.add_argument("--seconds", type=float, default=0)

    expire = sub.add_parser("expire-events", help="drop old events of a running sandbox")
    expire.add_argument("--url", required=True)
    expire.add_argument("--older-than-days", type=float, default=None)
    expire.add_argument("--before-id", default=None)
    return parser


def serve_config(args: argparse.Namespace) -> SandboxConfig:
    """The sandbox configuration ``serve`` arguments ask for."""
    return SandboxConfig(
        districts=args.districts,
        users_per_district=args.users,
        students=args.students,
        teachers=args.teachers,
        staff=args.staff,
        contacts=args.contacts,
        district_admins=args.district_admins,
        schools=args.schools,
        sections=args.sections,
        courses=args.courses,
        terms=args.terms,
        resources=args.resources,
        seed=args.seed,
        initial_events=args.initial_events,
        pregenerate=args.pregenerate,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_rules=tuple(json.loads(rule) for rule in args.fault),
        bare_next_links=args.bare_next_links,
        hostile_strings=not args.no_hostile_strings,
        district_modes=dict(args.district_mode),
        events_ignore_ending_before=args.events_ignore_ending_before,
        client_id=args.client_id,
        client_secret=args.client_secret,
    )


def _serve(args: argparse.Namespace) -> int:
    config = serve_config(args)
    server = SandboxServer(config, host=args.host, port=args.port)
    gc.freeze()  # the dataset lives as long as the process: keep the collector off it
    info = server.info()
    print(f"Clever sandbox listening on {server.base_url}", flush=True)
    print(f"client_id={server.client_id} client_secret={server.client_secret}")
    for district in info["districts"]:
        print(f"district {district['id']} token={district['token']} {district['name']}")
    sys.stdout.flush()
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    server.start()
    if args.ready_file is not None:
        tmp = args.ready_file.with_suffix(args.ready_file.suffix + ".tmp")
        tmp.write_text(json.dumps(info, indent=2))
        tmp.replace(args.ready_file)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        print("Clever sandbox stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "info":
        result = _control(args.url, "/_sandbox/info")
    elif args.command == "changes":
        ops = json.loads(args.file.read_text()) if args.file else []
        if isinstance(ops, dict):
            ops = ops.get("ops", [])
        payload = {"ops": ops, "random": args.random, "seed": args.seed, "district": args.district}
        result = _control(args.url, "/_sandbox/changes", payload)
        result = {"count": result["count"], "types": [e["type"] for e in result["events"]]}
    elif args.command == "faults":
        payload = {"clear": args.clear, "add": [json.loads(rule) for rule in args.add]}
        if args.fault_rate is not None:
            payload["fault_rate"] = args.fault_rate
        if args.latency_ms is not None:
            payload["latency_ms"] = args.latency_ms
        result = _control(args.url, "/_sandbox/faults", payload)
    elif args.command == "clock":
        result = _control(args.url, "/_sandbox/clock", {"days": args.days, "seconds": args.seconds})
    else:
        payload = {"older_than_days": args.older_than_days, "before_id": args.before_id}
        result = _control(args.url, "/_sandbox/expire-events", payload)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
