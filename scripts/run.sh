#!/usr/bin/env bash
# `make run`: start PersonalPod and everything it needs on this machine, under one supervisor
# (honcho): the web server, a Celery worker, Celery beat and DynamoDB Local. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-personalpod.settings.local}"
export PORT="${PORT:-8000}"
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
mkdir -p .data

trap stop_embedded_database EXIT
use_database

processes=(web)
if redis_reachable; then
  processes+=(worker beat)
else
  echo "Redis at $(redacted "$REDIS_URL") is unreachable: Celery tasks run in-process, without a worker or beat."
  export CELERY_TASK_ALWAYS_EAGER=1
fi
if port=$(dynamodb_local_port_to_start); then
  require_java
  export DYNAMODB_LOCAL_PORT="$port"
  processes+=(dynamodb)
else
  echo "DynamoDB: using the one already answering at ${DYNAMODB_ENDPOINT:-AWS}"
fi

python manage.py migrate --no-input
if [ "${SKIP_DEMO:-0}" != 1 ]; then
  python manage.py create_demo_account --sample-data
fi

echo "Starting ${processes[*]}; PersonalPod will be at http://127.0.0.1:$PORT/ (Ctrl-C stops everything)"
honcho --procfile Procfile --app-root "$ROOT" start "${processes[@]}"
