"""HTTP front of the sandbox, and :class:`SandboxServer`, the in-process entry point.

A ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive (every response carries an exact
``Content-Length``), so a ``requests.Session`` reuses one connection. Per request the order is
Clever's: authenticate (401), count against the token's rate limit (429 with an empty body),
then maybe inject a fault, then answer. ``/_sandbox/...`` skips all three.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api import CleverApi
from .config import SandboxConfig
from .control import PREFIX as CONTROL_PREFIX
from .control import ControlApi
from .faults import FaultRule
from .jsonutil import dumps
from .ratelimit import RateState
from .responses import ApiError, Response
from .sandbox import Sandbox


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self.api = CleverApi(sandbox)
        self.control = ControlApi(sandbox)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """Shut idle keep-alive connections so their handler threads end with the server."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.connections.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CleverSandbox/0.1"
    timeout = 120
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a benchmark must not pay for an access log."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # -- core -------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        path, raw_query = split.path, split.query
        query = parse_qs(raw_query, keep_blank_values=True)
        if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
            try:
                response = self.server.control.handle(method, path, query, body)
            except ApiError as exc:
                response = exc.response()
            self._send(response)
            return
        api = self.server.api
        try:
            bucket, district = api.authenticate(path, self.headers.get("Authorization"))
        except ApiError as exc:
            self._send(exc.response())
            return
        rate = self.server.sandbox.limiter.hit(bucket)
        if not rate.allowed:
            self._send(Response(429, b"", rate.headers()))
            return
        faults = self.server.sandbox.faults
        if faults.latency_ms > 0:
            time.sleep(faults.latency_ms / 1000)
        fault = faults.decide(self.path)
        if fault is not None and fault.kind != "latency":
            if fault.kind == "drop":
                self._drop()
                return
            if fault.kind == "status":
                self._send(self._status_fault(fault, rate))
                return
        if fault is not None and fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
        if method != "GET":
            response = ApiError(405, f"{method} is not supported").response()
        else:
            try:
                response = api.handle(path, raw_query, query, district)
            except ApiError as exc:
                response = exc.response()
        response.headers.extend(rate.headers())
        if fault is not None and fault.kind in ("html", "no_data", "truncated", "short_body"):
            self._malformed(fault, response)
            return
        self._send(response)

    def _status_fault(self, fault: FaultRule, rate: RateState) -> Response:
        if fault.status == 429:
            reset = int(time.time()) + max(0, fault.reset_seconds)
            headers = [
                ("X-RateLimit-Limit", str(rate.limit)),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(reset)),
                ("X-RateLimit-Bucket", rate.bucket),
            ]
            return Response(429, b"", headers)
        message = {"message": f"injected fault: HTTP {fault.status}"}
        return Response(fault.status, dumps(message), rate.headers())

    def _malformed(self, fault: FaultRule, response: Response) -> None:
        if fault.kind == "html":
            html = b"<html><head><title>502 Bad Gateway</title></head><body>oops</body></html>"
            self._send(Response(200, html, response.headers, "text/html"))
        elif fault.kind == "no_data":
            self._send(Response(200, b'{"links":[]}', response.headers))
        elif fault.kind == "truncated":
            cut = response.body[: max(1, len(response.body) // 2)]
            self._send(Response(200, cut, response.headers))
        else:  # short_body: promise the full length, send half, hang up
            self._send(response, send_bytes=max(1, len(response.body) // 2))
            self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response, send_bytes: int | None = None) -> None:
        """Write status, headers and body; small responses go out in one ``send``.

        Separate small writes for headers and body would meet Nagle's algorithm and the
        client's delayed ACK: 40 ms per request. TCP_NODELAY is set too (see ``setup``).
        """
        body = response.body
        reason = self.responses.get(response.status, ("",))[0]
        head = [
            f"{self.protocol_version} {response.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers)
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        payload = body if send_bytes is None else body[:send_bytes]
        with contextlib.suppress(OSError):
            if len(payload) < 65536:
                self.wfile.write(data + payload)
            else:
                self.wfile.write(data)
                self.wfile.write(payload)


class SandboxServer:
    """A running sandbox: ``with SandboxServer(SandboxConfig(...)) as sb: ...``.

    ``port=0`` picks a free port; :attr:`base_url` tells which. All mutating helpers delegate
    to :class:`~clever_sandbox.sandbox.Sandbox` (also reachable as :attr:`sandbox`) and are
    safe to call while clients are paging.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.sandbox = sandbox or Sandbox(config)
        self.config = self.sandbox.config
        self._httpd = _HttpServer((host, port), self.sandbox)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://{host}:{self.port}"
        self._httpd.control.base_url = self.base_url
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> SandboxServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"clever-sandbox:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from another one."""
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.api.prefetcher.stop()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- identity ---------------------------------------------------------------------------
    @property
    def district_ids(self) -> list[str]:
        return self.sandbox.district_ids

    @property
    def district_tokens(self) -> list[str]:
        return self.sandbox.district_tokens

    @property
    def client_id(self) -> str:
        return self.sandbox.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.client_secret

    def info(self) -> dict[str, Any]:
        return self.sandbox.info(self.base_url)

    # -- delegation -------------------------------------------------------------------------
    def apply_changes(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.sandbox.apply_changes(ops)

    def random_changes(
        self, n: int = 50, seed: int | None = None, district_id: str | None = None
    ) -> list[dict[str, Any]]:
        return self.sandbox.random_changes(n, seed, district_id)

    def silent_remove(self, ids: list[str]) -> list[str]:
        return self.sandbox.silent_remove(ids)

    def advance_clock(self, seconds: float = 0, days: float = 0) -> str:
        return self.sandbox.advance_clock(seconds, days)

    def expire_events(
        self,
        older_than_days: float | None = None,
        before_id: str | None = None,
        district_id: str | None = None,
    ) -> int:
        return self.sandbox.expire_events(older_than_days, before_id, district_id)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return self.sandbox.add_fault(**rule)

    def clear_faults(self) -> None:
        self.sandbox.clear_faults()

    def configure_faults(
        self,
        fault_rate: float | None = None,
        fault_seed: int | None = None,
        fault_statuses: list[int] | None = None,
        latency_ms: float | None = None,
    ) -> dict[str, Any]:
        return self.sandbox.configure_faults(fault_rate, fault_seed, fault_statuses, latency_ms)

    def set_rate_limit(self, limit: int | None = None, window: float | None = None) -> None:
        self.sandbox.set_rate_limit(limit, window)

    def spend_rate_limit(self, district_id: str, requests: int) -> int:
        return self.sandbox.spend_rate_limit(district_id, requests)

    def set_bare_next_links(self, bare: bool) -> None:
        self.sandbox.bare_next_links = bare

    def set_district_mode(self, district_id: str, mode: str) -> None:
        self.sandbox.set_district_mode(district_id, mode)

    def set_events_ignore_ending_before(self, ignore: bool) -> None:
        self.sandbox.set_events_ignore_ending_before(ignore)

    def records(self, record_type: str, district_id: str | None = None) -> list[dict[str, Any]]:
        return self.sandbox.records(record_type, district_id)

    def record(self, record_type: str, oid: str) -> dict[str, Any] | None:
        return self.sandbox.record(record_type, oid)

    def events(self, district_id: str | None = None) -> list[dict[str, Any]]:
        return self.sandbox.events(district_id)
