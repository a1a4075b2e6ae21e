"""Independence from the tap, JSON backends, and the ObjectID helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clever_sandbox
from clever_sandbox import Sandbox, SandboxConfig, jsonutil
from clever_sandbox.ids import id_after, id_before, id_timestamp, is_object_id, make_id

PACKAGE = Path(clever_sandbox.__file__).parent


def test_sandbox_never_imports_the_tap() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "tap_clever" for n in names), path


def test_stdlib_json_fallback_gives_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    # 600 users: hostile strings and the lone surrogate (user 500) included
    sandbox = Sandbox(SandboxConfig(districts=1, users_per_district=600, seed=3))
    records = [r for t in ("users", "sections", "schools", "terms") for r in sandbox.records(t)]
    fast = [jsonutil.dumps(r) for r in records]
    assert any(b"\\ud83d" in body for body in fast)
    monkeypatch.setattr(jsonutil, "_orjson", None)
    slow = [jsonutil.dumps(r) for r in records]
    assert slow == fast
    assert [jsonutil.loads(body) for body in slow] == records


def test_object_id_helpers() -> None:
    oid = make_id(0x6681F180, 0x2A)
    assert oid == "6681f180000000000000002a"
    assert is_object_id(oid)
    assert id_timestamp(oid) == 0x6681F180
    assert id_before(oid) == "6681f1800000000000000029"
    assert id_after(oid) == "6681f180000000000000002b"
    assert id_before("0" * 24) is None
    assert id_after("last") is None
    assert not is_object_id("6681F180000000000000002A")


def test_ids_sort_like_creation_order() -> None:
    sandbox = Sandbox(SandboxConfig(districts=2, users_per_district=100, seed=1))
    firsts = [sandbox.records("users", d)[0]["id"] for d in sandbox.district_ids]
    lasts = [sandbox.records("users", d)[-1]["id"] for d in sandbox.district_ids]
    assert lasts[0] < firsts[1]  # the second district was created after the first
    events = sandbox.random_changes(5, seed=1)
    assert min(e["id"] for e in events) > max(lasts)
