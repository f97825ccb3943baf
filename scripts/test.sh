#!/usr/bin/env bash
# `make test`: lint, then pytest against the real PostgreSQL, Redis and DynamoDB Local.
# Tables, queues and cache keys get a per-run prefix so runs never share state.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=personalpod.settings.test
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mkdir -p .data

run_id="$(date +%Y%m%d%H%M%S)_$$"
export DYNAMODB_TABLE_PREFIX="test_${run_id}_"
export CELERY_KEY_PREFIX="test_${run_id}:"
export CACHE_KEY_PREFIX="test_${run_id}"

dynamodb_pid=""
own_pgdata=""
cleanup() {
  # The session fixture drops this run's tables; this catches an interrupted run.
  if [ -n "${DATABASE_URL:-}" ]; then
    python manage.py drop_dynamo_tables --yes >/dev/null 2>&1 || true
  fi
  if [ -n "$dynamodb_pid" ]; then kill "$dynamodb_pid" 2>/dev/null || true; wait "$dynamodb_pid" 2>/dev/null || true; fi
  stop_embedded_database
  if [ -n "$own_pgdata" ]; then rm -rf "$own_pgdata"; fi
}
trap cleanup EXIT
# A run killed outright (SIGKILL) leaves its embedded server's folder behind: remove those
# whose server is not running and that are over ten minutes old (a running one, or a young
# one still in initdb, may belong to a run going on beside this one).
for stale in $(find .data -maxdepth 1 -name 'postgres-test-*' -type d -mmin +10 2>/dev/null); do
  pid=$(head -n 1 "$stale/postmaster.pid" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then rm -rf "$stale"; fi
done
if [ -z "${DATABASE_URL:-}" ]; then
  # An embedded server of this run's own, removed at the end: one shared with `make run` or
  # another test run would be stopped under it by whichever run started it.
  own_pgdata="$ROOT/.data/postgres-test-$run_id"
  export EMBEDDED_PGDATA="$own_pgdata"
fi
use_database

if ! redis_reachable; then
  echo "Redis at $(redacted "$REDIS_URL") is unreachable: the tests need a real Redis (set REDIS_URL or start redis-server)." >&2
  exit 1
fi
if dynamodb_local_port_to_start >/dev/null; then
  require_java
  # On a port of this run's own: a run started beside it would otherwise find this server,
  # use it, and lose it when this run ends and stops it.
  port=$("$PY" scripts/devservices.py free-port)
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
  echo "Starting DynamoDB Local (in memory) on port $port for this run"
  DYNAMODB_LOCAL_PORT="$port" DYNAMODB_IN_MEMORY=1 scripts/dynamodb-local.sh > .data/dynamodb-test.log 2>&1 &
  dynamodb_pid=$!
fi

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    echo "The browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium (or set CHROMIUM_PATH)" >&2
    exit 1
  fi
fi

if [ -z "${SKIP_LINT:-}" ]; then
  echo "== lint"
  make --no-print-directory lint-only
fi
echo "== tests"
python -m pytest "$@"
