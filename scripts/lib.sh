# Shared by scripts/run.sh and scripts/test.sh: find or start the services PersonalPod needs.
# Sourced, not run. Expects to be in the repository root with .venv installed.

ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
export PATH="$ROOT/.venv/bin:$PATH"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DYNAMODB_ENDPOINT="${DYNAMODB_ENDPOINT-http://127.0.0.1:8100}"
STARTED_EMBEDDED_PG=""

# PostgreSQL: the server named by DATABASE_URL, or an embedded one under .data/postgres.
use_database() {
  if [ -z "${DATABASE_URL:-}" ]; then
    # Stop it on exit only if this script started it: `make test` may share `make run`'s.
    if ! "$PY" scripts/devservices.py embedded-postgres running; then
      STARTED_EMBEDDED_PG=1
    fi
    DATABASE_URL=$("$PY" scripts/devservices.py embedded-postgres start)
    echo "PostgreSQL: embedded server under ${EMBEDDED_PGDATA:-.data/postgres} (DATABASE_URL is unset)"
  fi
  export DATABASE_URL
  "$PY" scripts/devservices.py ensure-database
}

stop_embedded_database() {
  if [ -n "$STARTED_EMBEDDED_PG" ]; then
    "$PY" scripts/devservices.py embedded-postgres stop || true
  fi
}

# A URL fit to print: any password replaced by ***.
redacted() {
  sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#' <<< "$1"
}

require_java() {
  if ! java -version >/dev/null 2>&1; then
    echo "DynamoDB Local needs Java 17 or newer on PATH (apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
}

redis_reachable() {
  "$PY" scripts/devservices.py redis
}

# Succeeds when DYNAMODB_ENDPOINT names this machine and nothing answers there yet, so we
# should start DynamoDB Local on that port (printed).
dynamodb_local_port_to_start() {
  case "$DYNAMODB_ENDPOINT" in
    http://127.0.0.1:* | http://localhost:*) ;;
    *) return 1 ;;
  esac
  if "$PY" scripts/devservices.py reachable "$DYNAMODB_ENDPOINT"; then
    return 1
  fi
  local port="${DYNAMODB_ENDPOINT##*:}"
  echo "${port%%/*}"
}
