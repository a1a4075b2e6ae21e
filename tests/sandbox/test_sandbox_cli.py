"""The ``clever-sandbox`` command: serve, ready file, control subcommands, clean shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from clever_sandbox.cli import build_parser, main, serve_config


def test_serve_then_control_then_sigterm(tmp_path: Path, capsys) -> None:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "clever_sandbox.cli", "serve", "--port", "0", "--users", "120",
         "--districts", "3", "--seed", "8", "--rate-limit", "50", "--ready-file", str(ready),
         "--fault", '{"kind": "status", "status": 503, "path": "/v3.1/terms", "times": 1}'],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "sandbox did not become ready"
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        url = info["base_url"]
        assert len(info["districts"]) == 3
        token = info["districts"][2]["token"]
        response = requests.get(
            url + "/v3.1/users", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "50"
        terms = [
            requests.get(
                url + "/v3.1/terms", headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).status_code
            for _ in range(2)
        ]
        assert terms == [503, 200]

        assert main(["changes", "--url", url, "--random", "5", "--seed", "1"]) == 0
        assert json.loads(capsys.readouterr().out)["count"] >= 5
        assert main(["info", "--url", url]) == 0
        assert json.loads(capsys.readouterr().out)["districts"][0]["events"] >= 0
        assert main(["clock", "--url", url, "--days", "2"]) == 0
        assert json.loads(capsys.readouterr().out)["now"] > info["clock"]
        assert main(["expire-events", "--url", url, "--older-than-days", "1"]) == 0
        assert json.loads(capsys.readouterr().out)["expired"] >= 5
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "listening on http://127.0.0.1:" in out
    assert info["client_secret"] in out
    for district in info["districts"]:
        assert district["token"] in out
    assert "stopped" in out


def test_changes_from_file(tmp_path: Path, capsys, make_sandbox) -> None:
    sandbox = make_sandbox()
    school = sandbox.records("schools", sandbox.district_ids[0])[0]["id"]
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps([{"op": "update", "id": school, "set": {"name": "Renamed"}}]))
    assert main(["changes", "--url", sandbox.base_url, "--file", str(ops)]) == 0
    assert json.loads(capsys.readouterr().out) == {"count": 1, "types": ["schools.updated"]}
    record = sandbox.record("schools", school)
    assert record is not None
    assert record["name"] == "Renamed"


def test_serve_flags_for_modes_hostile_strings_and_ending_before() -> None:
    args = build_parser().parse_args(
        ["serve", "--district-mode", "1=no_secure_sync", "--district-mode", "0=events_off",
         "--no-hostile-strings", "--events-ignore-ending-before"]
    )  # fmt: skip
    config = serve_config(args)
    assert config.district_modes == {1: "no_secure_sync", 0: "events_off"}
    assert config.hostile_strings is False
    assert config.events_ignore_ending_before is True
    defaults = serve_config(build_parser().parse_args(["serve"]))
    assert defaults.district_modes == {}
    assert defaults.hostile_strings is True
    assert defaults.events_ignore_ending_before is False


@pytest.mark.parametrize("value", ["1=sometimes", "x=events_off", "events_off"])
def test_serve_rejects_a_bad_district_mode(value: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--district-mode", value])
