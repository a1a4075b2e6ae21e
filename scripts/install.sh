#!/usr/bin/env bash
# Sets up everything the pipeline runs with: .venv (the project, its dev tools and Meltano) and
# `meltano install` (one virtual environment per plugin under .meltano/), byte-compiled.
# Used by scripts/demo.sh and the scheduled sync (.github/workflows/sync.yml); safe to rerun.
#   PYTHON   the interpreter that creates .venv (default python3; 3.11 to 3.13)
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup_venv.sh
setup_venv

echo "== meltano install (plugin virtual environments under .meltano/)"
started=$(date +%s)
.venv/bin/meltano install
bash scripts/compile_venvs.sh
echo "   meltano install: $(($(date +%s) - started)) s"
