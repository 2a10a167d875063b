#!/usr/bin/env bash
# The public API under load against the framework floor (see bench/apibench.py and
# the "Performance" section of README.md). Rerun from the repository root:
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/imprimatur_bench bench/api.sh
#
# Environment: DATABASE_URL (PostgreSQL, required), BENCH_N (articles to seed, default 2000),
# BENCH_SECONDS (wrk duration per target per round, default 10), BENCH_ROUNDS (default 3),
# BENCH_PORT (default: a free port). Needs Debian's wrk (installed here when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/imprimatur_bench}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "api.sh: DATABASE_URL must be PostgreSQL" >&2; exit 2;; esac

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "api.sh: wrk is missing; install Debian's package: sudo apt-get install -y wrk" >&2; exit 1
  fi
fi

export DJANGO_SETTINGS_MODULE=bench.settings
export DEBUG=0
export CONN_MAX_AGE="${CONN_MAX_AGE:-600}"
export LOG_LEVEL=WARNING
# Plain static storage: the manifest one needs a collectstatic run, and no API path serves static files.
export IMPRIMATUR_MANIFEST_STATIC=0
# The per-key throttle stays on, at a rate wrk cannot reach (the default 1,200/min would answer 429).
export IMPRIMATUR_API_KEY_RATE="${IMPRIMATUR_API_KEY_RATE:-1000000/s}"
unset IMPRIMATUR_PUBLIC_API_ANONYMOUS

$PY manage.py migrate --noinput >/dev/null
$PY bench/seed.py --n "${BENCH_N:-2000}" ${BENCH_SEED_ARGS:-}
exec $PY bench/apibench.py --seconds "${BENCH_SECONDS:-10}" --rounds "${BENCH_ROUNDS:-3}" --port "${BENCH_PORT:-0}" \
  --command "DATABASE_URL=… BENCH_N=${BENCH_N:-2000} BENCH_SECONDS=${BENCH_SECONDS:-10} BENCH_ROUNDS=${BENCH_ROUNDS:-3} bench/api.sh" "$@"
