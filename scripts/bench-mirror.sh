#!/usr/bin/env bash
# `make bench-mirror`: the mirror benchmark against the real PostgreSQL, Redis and DynamoDB
# Local, with a real Celery worker, in a separate database (<name>_mirror_bench) that later
# runs reuse. See bench/mirror_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=personalpod.settings.test
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mkdir -p .data
export DYNAMODB_TABLE_PREFIX="bench_"
export CACHE_KEY_PREFIX="bench_mirror"
export CELERY_KEY_PREFIX="bench_mirror:"
export CELERY_QUEUE="bench_mirror"
dynamodb_pid=""
cleanup() {
  if [ -n "$dynamodb_pid" ]; then kill "$dynamodb_pid" 2>/dev/null || true; wait "$dynamodb_pid" 2>/dev/null || true; fi
  stop_embedded_database
}
trap cleanup EXIT
use_database
if ! redis_reachable; then
  echo "Redis at $(redacted "$REDIS_URL") is unreachable: the benchmark needs a real Redis." >&2
  exit 1
fi
# Its own DynamoDB Local (in memory) unless BENCH_DYNAMODB_ENDPOINT names one: a shared one
# also serves other runs' tests, and their traffic would be measured as ours.
if [ -n "${BENCH_DYNAMODB_ENDPOINT:-}" ]; then
  export DYNAMODB_ENDPOINT="$BENCH_DYNAMODB_ENDPOINT"
else
  require_java
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DYNAMODB_LOCAL_PORT="$port" DYNAMODB_IN_MEMORY=1 scripts/dynamodb-local.sh > .data/dynamodb-bench-mirror.log 2>&1 &
  dynamodb_pid=$!
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
fi
python bench/mirror_bench.py
