"""Fixtures for the sandbox suite: one shared read-only server, and fresh ones on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clever_sandbox import SandboxConfig, SandboxServer


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[SandboxServer]:
    """A server nobody mutates: two districts of 600 users, a few initial events."""
    config = SandboxConfig(districts=2, users_per_district=600, seed=11, initial_events=4)
    with SandboxServer(config) as sandbox:
        yield sandbox


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory for private servers a test may change; all are stopped afterwards."""
    servers: list[SandboxServer] = []

    def factory(**overrides: Any) -> SandboxServer:
        settings: dict[str, Any] = {"districts": 2, "users_per_district": 300, "seed": 5}
        settings.update(overrides)
        server = SandboxServer(SandboxConfig(**settings)).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
