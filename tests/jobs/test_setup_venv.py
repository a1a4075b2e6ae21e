"""Both README commands refuse a Python the pins cannot install on, in one line, at once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def fake_python(folder: Path, version: str) -> Path:
    """An interpreter that is only its version: setup_venv.sh must stop before using it."""
    path = folder / f"python{version}"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def setup_venv(project: Path, python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/setup_venv.sh"],
        cwd=project,
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(python)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "setup_venv.sh", tmp_path / "scripts")
    return tmp_path


@pytest.mark.parametrize("version", ["3.10", "3.14"])
def test_another_python_is_refused_in_one_line(project: Path, version: str) -> None:
    result = setup_venv(project, fake_python(project, version))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"tap-clever needs Python 3.11 to 3.13; '{project}/python{version}' is Python "
        f"{version}. Rerun with PYTHON=python3.11 (or 3.12, 3.13)."
    ]
    assert not (project / ".venv").exists()


def test_an_existing_venv_on_an_old_python_is_named(project: Path) -> None:
    (project / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(fake_python(project, "3.10"), project / ".venv" / "bin" / "python")

    result = setup_venv(project, fake_python(project, "3.12"))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "tap-clever needs Python 3.11 to 3.13; '.venv/bin/python' is Python 3.10. Delete .venv "
        "and rerun with PYTHON=python3.11 (or 3.12, 3.13)."
    ]


def test_a_missing_interpreter_is_named(project: Path) -> None:
    result = setup_venv(project, project / "no-such-python")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"tap-clever needs Python 3.11 to 3.13, and '{project}/no-such-python' does not run. "
        "Rerun with PYTHON=python3.11 (or 3.12, 3.13)."
    ]


@pytest.mark.parametrize("script", ["demo.sh", "test.sh", "install.sh"])
def test_every_setup_goes_through_the_check(script: str) -> None:
    text = (REPO_ROOT / "scripts" / script).read_text()
    assert "setup_venv" in text or "scripts/install.sh" in text
