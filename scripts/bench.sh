#!/usr/bin/env bash
# `make bench-search`: the search benchmark against the real PostgreSQL and DynamoDB Local,
# in a separate database (<name>_bench) that later runs reuse. See bench/search_bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=personalpod.settings.test
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mkdir -p .data
export DYNAMODB_TABLE_PREFIX="bench_"
# A prefix of its own per run: search cache markers left by an earlier run would make a
# "first search" read change_seq once more than the floor replays.
export CACHE_KEY_PREFIX="bench-$(date +%s)"
dynamodb_pid=""
cleanup() {
  if [ -n "$dynamodb_pid" ]; then kill "$dynamodb_pid" 2>/dev/null || true; wait "$dynamodb_pid" 2>/dev/null || true; fi
  stop_embedded_database
}
trap cleanup EXIT
use_database
if port=$(dynamodb_local_port_to_start); then
  require_java
  DYNAMODB_LOCAL_PORT="$port" DYNAMODB_IN_MEMORY=1 scripts/dynamodb-local.sh > .data/dynamodb-bench.log 2>&1 &
  dynamodb_pid=$!
fi
python bench/search_bench.py
