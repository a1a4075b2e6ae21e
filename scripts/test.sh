#!/usr/bin/env bash
# Runs every check on a fresh machine: sets up .venv (Python 3.11 to 3.13), then lint, types
# and tests.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k paging`.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup_venv.sh
SETUP_VENV_ALWAYS_INSTALL=1 setup_venv
bash scripts/compile_venvs.sh
bash scripts/install_postgres.sh || true  # without it the PostgreSQL tests skip (fail in CI)

echo "== ruff"
.venv/bin/ruff check tap_clever clever_sandbox tests benchmarks scripts loaders
.venv/bin/ruff format --check tap_clever clever_sandbox tests benchmarks scripts loaders
echo "== mypy"
.venv/bin/mypy tap_clever clever_sandbox scripts loaders/target-duckdb-clever/target_duckdb_clever
echo "== pytest"
.venv/bin/pytest "$@"
