#!/usr/bin/env bash
# Creates .venv with the project, its dev tools and Meltano (`pip install -e '.[dev]'`), after
# checking the interpreter: the pins (duckdb 2.0, meltano 4.4) need Python 3.11 to 3.13, and an
# older or newer one would otherwise fail deep inside pip's resolver.
#
# Sourced by the README's commands and the sync job (`source scripts/setup_venv.sh`), or run.
#   PYTHON   the interpreter that creates .venv (default python3)
#   SETUP_VENV_ALWAYS_INSTALL=1   reinstall even if .venv has Meltano (test.sh: pick up changes)

_require_python() {  # $1: interpreter, $2: what to tell the user to change
  local version
  if ! version=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
    echo "tap-clever needs Python 3.11 to 3.13, and '$1' does not run. $2" >&2
    return 1
  fi
  case "$version" in
    3.11 | 3.12 | 3.13) return 0 ;;
    *)
      echo "tap-clever needs Python 3.11 to 3.13; '$1' is Python $version. $2" >&2
      return 1
      ;;
  esac
}

setup_venv() {
  local python=${PYTHON:-python3}
  if [ -x .venv/bin/python ]; then
    _require_python .venv/bin/python \
      "Delete .venv and rerun with PYTHON=python3.11 (or 3.12, 3.13)." ||
      return 1
  else
    _require_python "$python" "Rerun with PYTHON=python3.11 (or 3.12, 3.13)." ||
      return 1
    echo "== Creating .venv with $python (the project, its dev tools and Meltano)"
    "$python" -m venv .venv
  fi
  if [ "${SETUP_VENV_ALWAYS_INSTALL:-0}" = 1 ] || [ ! -x .venv/bin/meltano ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
  fi
  if [ ! -x .venv/bin/meltano ]; then
    echo "meltano is missing from the project's dev extra (pyproject.toml)" >&2
    return 1
  fi
}

# Run as a script (not sourced): set up .venv now.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  setup_venv
fi
