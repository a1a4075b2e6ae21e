#!/usr/bin/env bash
# The pipeline end to end against the local Clever sandbox, from a fresh clone:
#   sets up .venv and the Meltano plugins, starts the sandbox, runs
#   `meltano run tap-clever target-duckdb dbt-duckdb:build` (a full snapshot), makes 50 changes
#   in the sandbox, runs the pipeline again (the changes arrive as events only), prints a
#   summary and stops the sandbox.
#
# Environment:
#   CLEVER_DUCKDB_PATH    database file (default: output/clever.duckdb under the project)
#   SANDBOX_PORT          sandbox port (default 8765)
#   SANDBOX_ARGS          extra `clever-sandbox serve` arguments
#                         (default: --districts 2 --users 5000 --seed 42)
#   PYTHON                Python 3.11 to 3.13, used to create .venv (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
project_root=$(pwd)

port=${SANDBOX_PORT:-8765}
sandbox_args=${SANDBOX_ARGS:---districts 2 --users 5000 --seed 42}
export CLEVER_DUCKDB_PATH=${CLEVER_DUCKDB_PATH:-$project_root/output/clever.duckdb}
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false

bash scripts/install.sh

echo "== Starting the Clever sandbox on port $port"
run_dir=$(mktemp -d)
ready_file="$run_dir/sandbox.json"
# shellcheck disable=SC2086 # SANDBOX_ARGS is a list of arguments
.venv/bin/clever-sandbox serve --port "$port" $sandbox_args --ready-file "$ready_file" \
  > "$run_dir/sandbox.log" 2>&1 &
sandbox_pid=$!
stop_sandbox() {
  kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap stop_sandbox EXIT

for _ in $(seq 1 300); do
  [ -s "$ready_file" ] && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    echo "The sandbox did not start:" >&2
    cat "$run_dir/sandbox.log" >&2
    exit 1
  fi
  sleep 0.2
done
[ -s "$ready_file" ] || { echo "The sandbox was not ready after 60 s" >&2; exit 1; }

# The sandbox's tokens, one per district, as the tap's district_tokens setting. They stay in
# this process's environment: never written to meltano.yml or printed.
TAP_CLEVER_DISTRICT_TOKENS=$(.venv/bin/python -c \
  'import json,sys; print(json.dumps([d["token"] for d in json.load(open(sys.argv[1]))["districts"]]))' \
  "$ready_file")
TAP_CLEVER_API_URL=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$ready_file")
export TAP_CLEVER_DISTRICT_TOKENS TAP_CLEVER_API_URL TAP_CLEVER_OAUTH_URL=$TAP_CLEVER_API_URL

mkdir -p output
log_file=output/demo-pipeline.log
: > "$log_file"

# Runs the pipeline once, appending to the log, and prints its extract+load / dbt split.
run_pipeline() {
  local step_log
  step_log=$(mktemp)
  started=$(date +%s.%N)
  if ! .venv/bin/meltano --environment=sandbox run "$@" \
      tap-clever target-duckdb dbt-duckdb:build > "$step_log" 2>&1; then
    cat "$step_log" >> "$log_file"
    tail -n 60 "$step_log" >&2
    echo "The pipeline failed; full log: $log_file" >&2
    exit 1
  fi
  finished=$(date +%s.%N)
  cat "$step_log" >> "$log_file"
  # Split at dbt's first log line (Meltano stamps every line in UTC).
  .venv/bin/python - "$step_log" "$started" "$finished" <<'PY'
import sys
from datetime import datetime

log_file, started, finished = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
dbt_started = next(
    datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
    for line in open(log_file, encoding="utf-8")
    if " dbt-duckdb " in line
)
print(f"   extract+load {dbt_started - started:.1f} s, dbt build {finished - dbt_started:.1f} s,"
      f" total {finished - started:.1f} s")
PY
  # dbt's tally of models and tests (warnings are data-quality findings, listed in the log).
  grep -o 'Done\. PASS=.*' "$step_log" | sed 's/^/   dbt build: /' | tail -n 1
  rm -f "$step_log"
}

echo "== 1. meltano run --full-refresh tap-clever target-duckdb dbt-duckdb:build (snapshot)"
# --full-refresh: this sandbox is new, so an events bookmark left by an earlier demo means nothing.
run_pipeline --full-refresh

echo "== 2. 50 changes in Clever (creates, updates, deletes, roster moves), as events"
.venv/bin/clever-sandbox changes --url "$TAP_CLEVER_API_URL" --random 50 --seed 7 > /dev/null
echo "== 3. meltano run tap-clever target-duckdb dbt-duckdb:build (incremental: events only)"
run_pipeline
echo "   (log: $log_file)"

echo
if .venv/bin/python -c 'import duckdb' 2>/dev/null; then
  .venv/bin/python scripts/warehouse_summary.py "$CLEVER_DUCKDB_PATH"
else  # the dbt plugin's venv always has the project's duckdb
  .meltano/utilities/dbt-duckdb/venv/bin/python scripts/warehouse_summary.py "$CLEVER_DUCKDB_PATH"
fi
