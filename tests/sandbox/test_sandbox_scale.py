"""Many districts start fast and serve correctly; concurrent clients overlap injected latency."""

from __future__ import annotations

import statistics
import threading
import time

import requests

from clever_sandbox import SandboxConfig, SandboxServer
from tests.sandbox.helpers import page_all, session_for


def test_a_thousand_small_districts_start_fast_and_serve() -> None:
    started = time.perf_counter()
    server = SandboxServer(SandboxConfig(districts=1000, users_per_district=150, seed=3))
    startup = time.perf_counter() - started
    with server:
        assert startup < 5.0, startup  # lazily generated: about 0.4 s on the 2-core box
        began = time.perf_counter()
        info = requests.get(server.base_url + "/_sandbox/info", timeout=30).json()
        assert time.perf_counter() - began < 1.0
        assert len(info["districts"]) == 1000
        assert all(150 <= sum(d["counts"].values()) <= 250 for d in info["districts"])
        for district in (0, 517, 999):
            session = session_for(server, district)
            district_id = server.district_ids[district]
            for record_type in ("users", "sections", "schools"):
                records, _ = page_all(session, server, f"/v3.1/{record_type}?limit=50")
                assert records == server.records(record_type, district_id)
                assert records
        tokens = requests.get(
            server.base_url + "/oauth/tokens",
            auth=(server.client_id, server.client_secret),
            timeout=30,
        ).json()["data"]
        assert len(tokens) == 1000
        # ids of the last districts are found without a scan of every district
        last = server.district_ids[999]
        student = next(u for u in server.records("users", last) if "student" in u["roles"])
        began = time.perf_counter()
        events = server.random_changes(50, seed=2, district_id=last)
        [deleted] = server.apply_changes([{"op": "delete", "id": student["id"]}])[:1]
        assert time.perf_counter() - began < 2.0
        assert events
        assert deleted["type"] == "users.deleted"
        assert server.record("users", student["id"]) is None


def test_parallel_clients_overlap_their_latency(make_sandbox) -> None:
    sandbox = make_sandbox(latency_ms=100, districts=1)
    clients = 16
    rounds = 3
    barrier = threading.Barrier(clients + 1)
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        session = session_for(sandbox)
        session.get(sandbox.base_url + "/_sandbox/info")  # connect outside the timing
        for _ in range(rounds):
            barrier.wait()
            status = session.get(sandbox.base_url + "/v3.1/schools").status_code
            with lock:
                statuses.append(status)
            barrier.wait()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    durations = []
    for _ in range(rounds):
        barrier.wait()
        began = time.perf_counter()
        barrier.wait()
        durations.append(time.perf_counter() - began)
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * clients * rounds
    assert min(durations) >= 0.1
    # serialized, a round would take 16 x 100 ms
    assert statistics.median(durations) < 0.5, durations
