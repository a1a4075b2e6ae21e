"""Shared pieces of the benchmarks: the sandbox process, the tap as a measured subprocess, the
plain-client floor, the checks against the sandbox, and the JSON record of a run.

Nothing here imports `tap_clever` or `clever_sandbox`: both are driven through their command
lines and HTTP interfaces only (`tap-clever --config/--catalog/--discover`, `clever-sandbox
serve --ready-file`, `/_sandbox/...`), so the benchmarks keep working while either is rewritten.
"""

from __future__ import annotations

import datetime as dt
import http.client
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

try:
    import orjson

    def loads(data: bytes | str) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # Text a source system cut in half (a lone UTF-16 surrogate escape): orjson refuses
            # it, the standard library takes it.
            return json.loads(data)

    JSON_LIBRARY = "orjson"
except ImportError:  # pragma: no cover - orjson is a dependency of the project

    def loads(data: bytes | str) -> Any:
        return json.loads(data)

    JSON_LIBRARY = "json"

BIN = Path(sys.executable).parent
BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
RESULTS_DIR = BENCHMARKS / "results"

#: The snapshot record types, in the tap's stream order, then the events feed.
RECORD_TYPES: tuple[str, ...] = (
    "districts",
    "schools",
    "terms",
    "courses",
    "sections",
    "users",
    "resources",
)
ENDPOINTS: tuple[str, ...] = (*RECORD_TYPES, "events")

#: Status codes a client retries (after the reset for 429, with backoff for the rest).
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 8


# --- the sandbox, in its own process ---------------------------------------------------------


class SandboxError(RuntimeError):
    """The sandbox did not start, or its control API did not answer as documented."""


@dataclass
class SandboxProcess:
    """A `clever-sandbox serve` subprocess and what its ready file said."""

    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    start_seconds: float
    argv: list[str]
    counter_rule_id: int | None = None

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"]).rstrip("/")

    @property
    def districts(self) -> list[dict[str, Any]]:
        return list(self.info["districts"])

    @property
    def tokens(self) -> list[str]:
        return [str(d["token"]) for d in self.districts]

    def control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """GET (no payload) or POST a `/_sandbox/...` control endpoint; the JSON answer."""
        request = urllib.request.Request(  # noqa: S310 - the sandbox we started
            f"{self.base_url}/_sandbox{path}",
            data=None if payload is None else json.dumps(payload).encode(),
            method="GET" if payload is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
                return loads(response.read())
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")[:300]
            msg = f"sandbox control {path} answered {exc.code}: {body}"
            raise SandboxError(msg) from None

    def refresh_info(self) -> dict[str, Any]:
        info: dict[str, Any] = self.control("/info")
        info.setdefault("base_url", self.base_url)
        self.info = info
        return info

    def expected_counts(self) -> dict[str, int]:
        """Per stream, the records every district holds now (what a full read must return).

        From `/_sandbox/info` counts; a type missing there is counted from
        `/_sandbox/records/<type>` (events from `/_sandbox/events`).
        """
        totals: Counter[str] = Counter()
        for district in self.refresh_info()["districts"]:
            counts = district.get("counts") or {}
            for record_type in RECORD_TYPES:
                if record_type in counts:
                    totals[record_type] += int(counts[record_type])
                else:
                    records = self.control(f"/records/{record_type}?district={district['id']}")
                    totals[record_type] += len(records["data"])
            if isinstance(district.get("events"), int):
                totals["events"] += district["events"]
            else:
                totals["events"] += len(self.control(f"/events?district={district['id']}")["data"])
        return {name: totals[name] for name in ENDPOINTS}

    def rate_limit(self) -> tuple[int, float]:
        limit = self.info.get("rate_limit") or {}
        return int(limit.get("limit", 1200)), float(limit.get("window", 60.0))

    def reset_rate_limit(self) -> None:
        """Clear every token's counter (same quota and window), so runs start even."""
        limit, window = self.rate_limit()
        self.control("/rate-limit", {"limit": limit, "window": window})

    def install_request_counter(self) -> bool:
        """Count the API requests the sandbox answers past auth and rate limit.

        A `latency` fault rule of 0 ms matching every path never changes an answer, and its
        `seen` counter (in `GET /_sandbox/faults`) counts each request that got that far:
        every request but 401s and 429s. False if the sandbox refuses the rule.
        """
        try:
            state = self.control(
                "/faults", {"add": [{"kind": "latency", "latency_ms": 0, "times": None}]}
            )
        except SandboxError:
            return False
        rules = [r for r in state.get("rules", []) if r.get("kind") == "latency"]
        if not rules or "seen" not in rules[-1]:
            return False
        self.counter_rule_id = int(rules[-1].get("id", 0))
        return True

    def requests_answered(self) -> int | None:
        """Requests answered so far (see `install_request_counter`), or None if not counted."""
        if self.counter_rule_id is None:
            return None
        try:
            state = self.control("/faults")
        except SandboxError:
            return None
        for rule in state.get("rules", []):
            if rule.get("id") == self.counter_rule_id:
                return int(rule.get("seen", 0))
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def sandbox_argv(
    *,
    districts: int,
    users: int,
    seed: int = 42,
    schools: int | None = None,
    sections: int | None = None,
    courses: int | None = None,
    terms: int | None = None,
    resources: int | None = None,
    initial_events: int = 0,
    latency_ms: float = 0.0,
    rate_limit: int | None = None,
    rate_window: float | None = None,
    pregenerate: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """`clever-sandbox serve` arguments (port and ready file are added by start_sandbox)."""
    argv = ["--districts", str(districts), "--users", str(users), "--seed", str(seed)]
    for flag, value in (
        ("--schools", schools),
        ("--sections", sections),
        ("--courses", courses),
        ("--terms", terms),
        ("--resources", resources),
        ("--rate-limit", rate_limit),
        ("--rate-window", rate_window),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if initial_events:
        argv += ["--initial-events", str(initial_events)]
    if latency_ms:
        argv += ["--latency-ms", str(latency_ms)]
    if pregenerate:
        argv.append("--pregenerate")
    return argv + list(extra)


def start_sandbox(
    argv: Sequence[str], workdir: Path, *, timeout: float = 900.0, log: Path | None = None
) -> SandboxProcess:
    """Start `clever-sandbox serve --port 0 ... --ready-file` and wait for its ready file."""
    ready = workdir / f"sandbox-{time.monotonic_ns()}.json"
    full = [str(BIN / "clever-sandbox"), "serve", "--port", "0", *argv, "--ready-file", str(ready)]
    log_file: IO[bytes] | int = log.open("wb") if log else subprocess.DEVNULL
    started = time.perf_counter()
    process = subprocess.Popen(full, stdout=log_file, stderr=subprocess.STDOUT)
    if not isinstance(log_file, int):
        log_file.close()  # the child holds its own descriptor
    deadline = time.monotonic() + timeout
    while not ready.exists() or not ready.read_text().strip():
        if process.poll() is not None:
            msg = f"clever-sandbox exited with {process.returncode}: {' '.join(full)}"
            raise SandboxError(msg)
        if time.monotonic() > deadline:
            process.kill()
            msg = f"clever-sandbox not ready after {timeout:.0f} s"
            raise SandboxError(msg)
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    return SandboxProcess(process, info, time.perf_counter() - started, full)


@contextmanager
def running_sandbox(
    argv: Sequence[str], workdir: Path, *, log: Path | None = None, timeout: float = 900.0
) -> Iterator[SandboxProcess]:
    sandbox = start_sandbox(argv, workdir, log=log, timeout=timeout)
    try:
        yield sandbox
    finally:
        sandbox.stop()


# --- the tap, as a measured subprocess -------------------------------------------------------


def parse_setting(text: str) -> tuple[str, Any]:
    """`key=value` -> (key, value); the value is JSON when it parses (8, true, ["a"]), else a
    string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        msg = f"expected key=value, got {text!r}"
        raise ValueError(msg)
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def tap_config(
    base_url: str, tokens: Sequence[str], *, page_size: int, settings: dict[str, Any]
) -> dict[str, Any]:
    """The tap's config: the sandbox as API and OAuth host, every district token, then the
    `--tap-setting` overrides (which win)."""
    return {
        "api_url": base_url,
        "oauth_url": base_url,
        "district_tokens": list(tokens),
        "page_size": page_size,
        **settings,
    }


def catalog_selecting(config: Path, workdir: Path, streams: Iterable[str]) -> Path:
    """The tap's discovered catalog with only `streams` selected (written to workdir)."""
    wanted = set(streams)
    catalog = loads(
        subprocess.run(
            [str(BIN / "tap-clever"), "--config", str(config), "--discover"],
            check=True,
            capture_output=True,
        ).stdout
    )
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in wanted
    path = workdir / f"catalog-{'-'.join(sorted(wanted))}.json"
    path.write_text(json.dumps(catalog))
    return path


def stream_schema(catalog: Path, stream: str) -> dict[str, Any]:
    for entry in loads(catalog.read_bytes())["streams"]:
        if entry["tap_stream_id"] == stream:
            return dict(entry["schema"])
    msg = f"no stream {stream!r} in {catalog}"
    raise KeyError(msg)


@dataclass
class ProcessRun:
    """One measured subprocess: the wall time includes its start-up."""

    name: str
    wall_seconds: float
    exit_code: int
    peak_rss_kib: int
    user_cpu_seconds: float
    system_cpu_seconds: float
    #: RECORD messages per stream read from its stdout (None when stdout went to /dev/null).
    stdout_records: dict[str, int] | None = None
    stdout_other_lines: int = 0
    stderr_path: str | None = None
    timed_out: bool = False
    #: With `sample_interval`: every process of its tree seen, with its peak RSS.
    process_peaks: list[ProcessPeak] | None = None


@dataclass
class ProcessPeak:
    """One process of a sampled tree: what it ran and the most memory it held."""

    pid: int
    #: The kernel's name for it (`Name` in /proc/<pid>/status): its executable's, a script's
    #: rather than `python`'s, cut at 15 characters.
    name: str
    #: Its command line (at most 300 characters).
    command: str
    #: VmHWM: the kernel's high-water mark of the RSS, read at the last sample before exit.
    peak_rss_kib: int
    samples: int = 0
    #: When it was first and last seen, in seconds since the sampling began (about the root's
    #: spawn): its lifetime, to within an interval.
    first_seen_seconds: float = 0.0
    last_seen_seconds: float = 0.0


class ProcessTreeSampler:
    """A thread reading, every `interval` seconds, /proc for a process and its descendants.

    The kernel keeps each process's peak RSS (VmHWM in /proc/<pid>/status), so a sample only
    has to come before the process exits: what is missed is the growth of its last interval,
    and processes that live less than one. Linux only (elsewhere it sees nothing).
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.root = pid
        self.interval = interval
        self.peaks: dict[int, ProcessPeak] = {}
        self._started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="process-tree-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[ProcessPeak]:
        self._stop.set()
        self._thread.join()
        return sorted(self.peaks.values(), key=lambda peak: peak.pid)

    def _run(self) -> None:
        while True:
            with suppress(OSError):
                self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self) -> None:
        now = time.perf_counter() - self._started
        for pid in self._tree():
            status = _proc_status(pid)
            if status is None or "VmHWM" not in status:
                continue  # gone, or a zombie
            command = _proc_command(pid)
            peak = self.peaks.get(pid)
            if peak is None or peak.command != command:
                # New, or it has exec'd since: a child seen between fork and exec shows its
                # parent's command and memory, which the new program's replace.
                name = status.get("Name", "?")
                peak = ProcessPeak(pid, name, command, 0, first_seen_seconds=now)
                self.peaks[pid] = peak
            peak.peak_rss_kib = max(peak.peak_rss_kib, int(status["VmHWM"].split()[0]))
            peak.samples += 1
            peak.last_seen_seconds = now

    def _tree(self) -> list[int]:
        """The root and its descendants: from each thread's `children` list where the kernel
        keeps them (a few reads), else from every process's parent in /proc/*/stat."""
        children_of: Callable[[int], Iterable[int]] = _task_children
        if not Path(f"/proc/{self.root}/task/{self.root}/children").exists():
            children_of = _children_table().__getitem__
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children_of(pid))
        return tree


def _task_children(pid: int) -> list[int]:
    children: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with suppress(OSError):
                children.extend(int(c) for c in (task / "children").read_text().split())
    return children


def _children_table() -> defaultdict[int, list[int]]:
    children: defaultdict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        ppid = int(stat[stat.rindex(b")") + 2 :].split(maxsplit=2)[1])
        children[ppid].append(int(entry.name))
    return children


def _proc_status(pid: int) -> dict[str, str] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _proc_command(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    return " ".join(arg.decode(errors="replace") for arg in argv if arg)[:300]


_RECORD_PREFIX = b'{"type":"RECORD","stream":"'
_MESSAGE_PREFIX = b'{"type":"'


def _count_records(stream: IO[bytes]) -> tuple[dict[str, int], int]:
    """Count RECORD messages per stream on a Singer stdout, cheaply.

    The SDK writes `{"type":"RECORD","stream":"<name>",...` (type first, then stream): the
    stream name is read from the prefix without parsing the record. Any other line starting
    `{"type":"` is another message type; anything else is parsed as JSON to be sure.
    """
    counts: Counter[bytes] = Counter()
    other = 0
    start = len(_RECORD_PREFIX)
    for line in stream:
        if line.startswith(_RECORD_PREFIX):
            counts[line[start : line.index(b'"', start)]] += 1
        elif line.startswith(_MESSAGE_PREFIX):
            other += 1
        elif line.strip():
            try:
                message = loads(line)
            except ValueError:
                other += 1
                continue
            if isinstance(message, dict) and message.get("type") == "RECORD":
                counts[str(message.get("stream")).encode()] += 1
            else:
                other += 1
    return {name.decode(): n for name, n in counts.items()}, other


def run_measured(
    name: str,
    argv: Sequence[str],
    *,
    stderr_path: Path,
    count_stdout: bool,
    timeout: float = 3 * 3600.0,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout_path: Path | None = None,
    sample_interval: float | None = None,
) -> ProcessRun:
    """Run a subprocess; wall time from before spawn to reaped, its peak RSS and CPU.

    With `count_stdout` its stdout is a pipe whose RECORD messages are counted per stream by
    this process as they arrive; otherwise it goes to `stdout_path`, or /dev/null. With
    `sample_interval` (seconds), the process and its descendants are sampled for their peak
    RSS each (`ProcessTreeSampler`): `wait4` gives only the largest of them.
    """
    timed_out = threading.Event()
    sampler: ProcessTreeSampler | None = None
    with (
        stderr_path.open("wb") as stderr,
        (stdout_path or Path(os.devnull)).open("wb") as stdout,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE if count_stdout else stdout,
            stderr=stderr,
            bufsize=1 << 20,
            env=env,
            cwd=cwd,
        )
        if sample_interval:
            sampler = ProcessTreeSampler(process.pid, sample_interval)
            sampler.start()

        def _kill() -> None:
            timed_out.set()
            with suppress(OSError):
                process.kill()

        watchdog = threading.Timer(timeout, _kill)
        watchdog.daemon = True
        watchdog.start()
        counts: dict[str, int] | None = None
        other = 0
        if count_stdout:
            assert process.stdout is not None
            counts, other = _count_records(process.stdout)
            process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        watchdog.cancel()
        peaks = sampler.stop() if sampler else None
    process.returncode = os.waitstatus_to_exitcode(status)
    return ProcessRun(
        name=name,
        wall_seconds=wall,
        exit_code=process.returncode,
        peak_rss_kib=usage.ru_maxrss,
        user_cpu_seconds=usage.ru_utime,
        system_cpu_seconds=usage.ru_stime,
        stdout_records=counts,
        stdout_other_lines=other,
        stderr_path=str(stderr_path),
        timed_out=timed_out.is_set(),
        process_peaks=peaks,
    )


@dataclass
class TapLog:
    """What the tap's stderr says about requests, rate limits, retries and errors."""

    lines: int = 0
    #: SDK `http_request_duration` metrics: requests made by the streams, by status code.
    stream_requests: dict[str, int] = field(default_factory=dict)
    #: SDK `record_count` metrics summed per stream.
    metric_records: dict[str, int] = field(default_factory=dict)
    #: Log lines (not metrics) that mention HTTP 429 / a rate limit.
    lines_429: int = 0
    rate_limit_pauses: int = 0
    rate_limit_paused_seconds: float = 0.0
    retry_lines: int = 0
    warnings: int = 0
    errors: int = 0
    tail: list[str] = field(default_factory=list)

    @property
    def http_429(self) -> int:
        return self.stream_requests.get("429", 0)


_PAUSED = re.compile(r"paused (\d+(?:\.\d+)?) ?s", re.IGNORECASE)
_429 = re.compile(r"(?<![\w.,:])429(?![\w.])|too many requests", re.IGNORECASE)
_RATE_LIMIT = re.compile(r"rate.?limit", re.IGNORECASE)
_RETRY = re.compile(r"retrying|attempt \d+ failed", re.IGNORECASE)


def scan_tap_log(path: Path, tail: int = 15) -> TapLog:
    """Read the tap's stderr: SDK metrics (`METRIC: {...}`) and the tap's own log lines."""
    log = TapLog()
    requests: Counter[str] = Counter()
    records: Counter[str] = Counter()
    last: list[str] = []
    with path.open("rb") as lines:
        for raw in lines:
            log.lines += 1
            line = raw.decode(errors="replace").rstrip("\n")
            at = line.find("METRIC: ")
            if at >= 0:
                try:
                    metric = loads(line[at + len("METRIC: ") :])
                except ValueError:
                    continue
                tags = metric.get("tags") or {}
                if metric.get("metric") == "http_request_duration":
                    requests[str(tags.get("http_status_code"))] += 1
                elif metric.get("metric") == "record_count":
                    records[str(tags.get("stream"))] += int(metric.get("value") or 0)
                continue
            # "2026-12-01 21:31:14,429 | INFO | logger | message": look at the message only.
            message = line.split(" | ", 3)[-1]
            if _429.search(message):
                log.lines_429 += 1
            paused = _PAUSED.search(message)
            if paused and _RATE_LIMIT.search(message):
                log.rate_limit_pauses += 1
                log.rate_limit_paused_seconds += float(paused.group(1))
            if _RETRY.search(message):
                log.retry_lines += 1
            if "| WARNING" in line or " WARNING " in line:
                log.warnings += 1
            if "| ERROR" in line or "| CRITICAL" in line or line.startswith("Traceback"):
                log.errors += 1
            last.append(line[:400])
            if len(last) > tail:
                last.pop(0)
    log.stream_requests = dict(sorted(requests.items()))
    log.metric_records = dict(records)
    log.tail = last
    return log


# --- the floor: a plain threaded client ------------------------------------------------------


@dataclass
class FloorResult:
    wall_seconds: float
    threads: int
    counts: dict[str, int]
    requests: int
    http_429: int
    retries: int
    waited_for_reset_seconds: float


@dataclass
class _Tally:
    records: int = 0
    requests: int = 0
    http_429: int = 0
    retries: int = 0
    waited: float = 0.0


class FloorClient:
    """Pages Clever list endpoints with `http.client` (one keep-alive connection per thread) and
    orjson: no Singer work, no validation beyond reading `data` and `links`.

    A 429 waits until `X-RateLimit-Reset` (or `Retry-After`) and retries; 5xx and connection
    errors retry with a short backoff; anything else fails.
    """

    def __init__(self, base_url: str, page_size: int) -> None:
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port
        self.page_size = page_size
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self.scheme == "https":
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=300)
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def _get(self, path: str, token: str, tally: _Tally) -> bytes:
        for attempt in range(MAX_ATTEMPTS):
            conn = self._connection()
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                tally.retries += 1
                time.sleep(min(0.5 * 2**attempt, 8.0))
                continue
            tally.requests += 1
            if response.status < 400:
                return body
            if response.status == 429:
                tally.http_429 += 1
                wait = _reset_wait(response)
                tally.waited += wait
                time.sleep(wait)
                continue
            if response.status in RETRIED_STATUSES:
                tally.retries += 1
                time.sleep(min(0.5 * 2**attempt, 8.0))
                continue
            msg = f"GET {path} answered HTTP {response.status}: {body[:200]!r}"
            raise RuntimeError(msg)
        msg = f"GET {path} still failing after {MAX_ATTEMPTS} attempts"
        raise RuntimeError(msg)

    def read_endpoint(self, token: str, endpoint: str) -> _Tally:
        """Every page of one endpoint for one token, following `links[rel=next]`."""
        tally = _Tally()
        for _ in self.pages(token, endpoint, tally):
            pass
        return tally

    def pages(
        self,
        token: str,
        endpoint: str,
        tally: _Tally | None = None,
        decode: Callable[[bytes], Any] = loads,
    ) -> Iterator[dict[str, Any]]:
        """The decoded pages of one endpoint for one token, following `links[rel=next]`;
        records and requests are added to `tally`."""
        tally = tally if tally is not None else _Tally()
        path: str | None = f"/v3.1/{endpoint}?limit={self.page_size}"
        while path:
            page = decode(self._get(path, token, tally))
            data = page["data"]
            tally.records += len(data)
            yield page
            next_uri = next(
                (link.get("uri") for link in page.get("links") or [] if link.get("rel") == "next"),
                None,
            )
            path = self._next_path(next_uri) if data and next_uri else None

    def _next_path(self, uri: str) -> str:
        """The link's path and query on our host, keeping our `limit` if the link dropped it."""
        parts = urlsplit(uri)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(key == "limit" for key, _ in query):
            query.append(("limit", str(self.page_size)))
        return f"{parts.path}?{urlencode(query)}"


def _reset_wait(response: http.client.HTTPResponse) -> float:
    retry_after = response.getheader("Retry-After")
    if retry_after:
        with suppress(ValueError):
            return max(0.0, float(retry_after))
    reset = response.getheader("X-RateLimit-Reset")
    if reset:
        with suppress(ValueError):
            return min(max(0.0, float(reset) - time.time()) + 0.02, 120.0)
    return 1.0


def floor_read(
    base_url: str,
    tokens: Sequence[str],
    *,
    endpoints: Sequence[str] = ENDPOINTS,
    page_size: int = 10_000,
    threads: int = 16,
) -> FloorResult:
    """Read every endpoint of every district with `threads` threads: the floor of a full read.

    Work items are (district, endpoint) pairs, endpoint by endpoint (every district's
    `/districts`, then every district's `/schools`, ...); each item pages its endpoint to the
    end. That order spreads each token's requests over the run, the friendliest to per-token
    rate limits (district by district, a token's 8 requests would all be in flight at once).
    """
    client = FloorClient(base_url, page_size)
    items = [(token, endpoint) for endpoint in endpoints for token in tokens]
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            tallies = list(pool.map(lambda item: (item[1], client.read_endpoint(*item)), items))
    finally:
        wall = time.perf_counter() - started
        client.close()
    counts: Counter[str] = Counter()
    for endpoint, tally in tallies:
        counts[endpoint] += tally.records
    return FloorResult(
        wall_seconds=wall,
        threads=threads,
        counts={name: counts[name] for name in endpoints},
        requests=sum(t.requests for _, t in tallies),
        http_429=sum(t.http_429 for _, t in tallies),
        retries=sum(t.retries for _, t in tallies),
        waited_for_reset_seconds=round(sum(t.waited for _, t in tallies), 3),
    )


# --- checks and summaries --------------------------------------------------------------------


def count_mismatches(
    expected: dict[str, int], got: dict[str, int] | None, extra: dict[str, int] | None = None
) -> dict[str, dict[str, int]]:
    """{stream: {expected, got}} for every stream whose count differs (empty: all equal)."""
    wanted = {**expected, **(extra or {})}
    if got is None:
        return {name: {"expected": n, "got": -1} for name, n in wanted.items()}
    return {
        name: {"expected": n, "got": got.get(name, 0)}
        for name, n in wanted.items()
        if got.get(name, 0) != n
    }


def best_and_median(values: Sequence[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def sleep_until_window_start(window: float, now: Callable[[], float] = time.time) -> float:
    """Sleep until the next multiple of `window` seconds since the epoch (the sandbox's rate-limit
    windows are aligned on them), so a run starts with a whole window; return seconds slept."""
    wait = window - (now() % window)
    if wait < 0.05:
        wait += window
    time.sleep(wait)
    return wait


# --- the record of a run ---------------------------------------------------------------------


def _cpu_model() -> str:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_bytes() -> int | None:
    with suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    with suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return None


def _os_name() -> str:
    with suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def machine_info() -> dict[str, Any]:
    ram = _ram_bytes()
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_bytes": ram,
        "ram_gib": round(ram / 2**30, 1) if ram else None,
        "os": _os_name(),
        "platform": platform.platform(),
        "kernel": platform.release(),
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    return {
        "python": platform.python_version(),
        "tap-clever": _version("tap-clever"),
        "singer-sdk": _version("singer-sdk"),
        "requests": _version("requests"),
        "orjson": _version("orjson"),
        "msgspec": _version("msgspec"),
        "urllib3": _version("urllib3"),
    }


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.rstrip("\n")


def packages_of(python: Path | str, names: Iterable[str], prefixes: Sequence[str] = ()) -> Any:
    """{package: version} in another Python's environment (a plugin's or dlt's venv): the
    `names` it has, and every package whose name starts with one of `prefixes`; None if that
    Python does not run."""
    script = (
        "import json, sys\n"
        "from importlib.metadata import distributions\n"
        "names, prefixes = set(sys.argv[1].split(',')), tuple(sys.argv[2].split(',')[:-1])\n"
        "print(json.dumps(sorted({(d.metadata['Name'].lower(), d.version) for d in "
        "distributions() if d.metadata['Name'] and (d.metadata['Name'].lower() in names "
        "or d.metadata['Name'].lower().startswith(prefixes))})))\n"
    )
    try:
        result = subprocess.run(
            [str(python), "-c", script, ",".join(names), ",".join([*prefixes, ""])],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return dict(json.loads(result.stdout))


def git_info() -> dict[str, Any]:
    """The checked-out commit and whether the tree differs from it (read-only git calls)."""
    status = _git("status", "--porcelain")
    changed = [line[3:] for line in (status or "").splitlines() if line.strip()]
    return {
        "commit": _git("rev-parse", "HEAD"),
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(changed) if status is not None else None,
        "changed_paths": changed[:50],
    }


def code_under_test(source: Path | None, label: str | None) -> dict[str, Any]:
    """Where the subprocesses import `tap_clever` and `clever_sandbox` from (PYTHONPATH, i.e.
    `--source`, wins over the editable install of the checkout)."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, clever_sandbox, tap_clever; print(json.dumps("
            "[tap_clever.__file__, clever_sandbox.__file__]))",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    modules = json.loads(probe.stdout) if probe.returncode == 0 else [None, None]
    return {
        "source_dir": str(source.resolve()) if source else str(ROOT),
        "source_label": label,
        "tap_clever_module": modules[0],
        "clever_sandbox_module": modules[1],
    }


def utc_timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run_record(scenario: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The header of a results file: what ran, where, on which code."""
    return {
        "scenario": scenario,
        "timestamp": utc_timestamp(),
        "command": [Path(sys.executable).name, *sys.argv],
        "machine": machine_info(),
        "versions": versions(),
        "git": git_info(),
        "parameters": parameters,
    }


def as_json(value: Any) -> Any:
    """Dataclasses (nested) to plain JSON values."""
    if hasattr(value, "__dataclass_fields__"):
        return as_json(asdict(value))
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    return value


def save_results(record: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(as_json(record), indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table (first column left, the rest right)."""
    text = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in text) for i in range(len(headers))]
    for n, row in enumerate(text):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def tail_lines(path: Path | str | None, lines: int = 40) -> list[str]:
    """The last lines of a log file (empty if there is none)."""
    if not path or not Path(path).exists():
        return []
    with Path(path).open("rb") as log:
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - 200 * lines))
        text = log.read().decode(errors="replace")
    return text.splitlines()[-lines:]


def mib(kib: int | None) -> str:
    return "-" if not kib else f"{kib / 1024:,.0f} MiB"
