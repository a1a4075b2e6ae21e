#!/usr/bin/env bash
# Installs Debian's PostgreSQL server (package `postgresql`) for the PostgreSQL warehouse tests,
# unless its binaries are already there. The tests run their own throwaway cluster
# (tests/postgres_server.py): no default cluster is created, so no server runs after the install.
#
# Run by scripts/test.sh (and so by CI); run it by hand as root, or as a user with sudo.
set -euo pipefail

have_server() {
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ]; then
      return 0
    fi
  done
  return 1
}

if have_server; then
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "PostgreSQL's server is missing and cannot be installed without root: run" \
    "'sudo apt-get install postgresql' (without it the PostgreSQL tests skip; in CI they fail)" >&2
  exit 1
fi

echo "== Installing PostgreSQL (Debian's postgresql package)"
# postgresql-common's switch (createcluster.conf, create_main_cluster): postgresql-N's first
# install creates no `main` cluster. Only for this install: removed afterwards, so a later install
# by hand behaves as usual.
no_cluster=/etc/postgresql-common/createcluster.d/zz-tap-clever-install.conf
"${sudo[@]}" mkdir -p "$(dirname "$no_cluster")"
echo "create_main_cluster = false" | "${sudo[@]}" tee "$no_cluster" >/dev/null
forget_no_cluster() {
  "${sudo[@]}" rm -f "$no_cluster"
  "${sudo[@]}" rmdir "$(dirname "$no_cluster")" 2>/dev/null || :
}
trap forget_no_cluster EXIT
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# No recommends: they are sysstat (a cron job and a service), logrotate and e2fsprogs.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null

if ! have_server; then
  echo "apt-get installed postgresql, but no initdb/pg_ctl is under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
