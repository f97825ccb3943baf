#!/usr/bin/env bash
# Set up PersonalPod's PostgreSQL database on a real server (seed 000), idempotently:
#
#   scripts/setup-database.sh --host localhost --database personalpod_dev --user postgres --env dev
#   scripts/setup-database.sh --host your-rds-endpoint.amazonaws.com --database personalpod \
#       --user postgres --env prod --skip-sample
#
# 1. the roles (seed 002): DATABASE_owner (owns the schema, runs migrations), DATABASE_app
#    (rows only: no DDL, not a superuser, append-only activity log), DATABASE_backup (reads
#    everything, for pg_dump); names can be chosen with --owner-role/--app-role/--backup-role
# 2. the database (owned by the owner role, closed to PUBLIC), the schema, grants and
#    default privileges for tables created later
# 3. the migrations, run as the owner role
# 4. the DynamoDB tables
# 5. sample data (a demo account) for --env dev, unless --skip-sample; never for prod
#
# The admin (--user: a superuser, or an RDS master user) authenticates the usual libpq way:
# PGPASSWORD, ~/.pgpass or a client certificate. New roles get the password in
# PERSONALPOD_OWNER_PASSWORD / _APP_PASSWORD / _BACKUP_PASSWORD, or a generated one written
# (with the three connection URLs) to --credentials-file, readable only by you.
# A second run changes nothing and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "usage: $0 --host H --database D --user U --env dev|test|prod [--skip-sample] [--port P] [--sslmode M]"
  echo "          [--owner-role R] [--app-role R] [--backup-role R] [--credentials-file PATH]"
  exit "${1:-2}"
}

host="" database="" user="" environment="" port="5432" sslmode="" skip_sample=0
owner_role="" app_role="" backup_role="" credentials_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host="${2:?--host needs a value}"; shift 2 ;;
    --database) database="${2:?--database needs a value}"; shift 2 ;;
    --user) user="${2:?--user needs a value}"; shift 2 ;;
    --env) environment="${2:?--env needs a value}"; shift 2 ;;
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --sslmode) sslmode="${2:?--sslmode needs a value}"; shift 2 ;;
    --skip-sample) skip_sample=1; shift ;;
    --owner-role) owner_role="${2:?}"; shift 2 ;;
    --app-role) app_role="${2:?}"; shift 2 ;;
    --backup-role) backup_role="${2:?}"; shift 2 ;;
    --credentials-file) credentials_file="${2:?}"; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage ;;
  esac
done
[ -n "$host" ] && [ -n "$database" ] && [ -n "$user" ] && [ -n "$environment" ] || usage
case "$environment" in
  dev | test) settings_module="personalpod.settings.local" ;;
  prod) settings_module="personalpod.settings.production" ;;
  *) echo "--env must be dev, test or prod" >&2; exit 2 ;;
esac
case "$port" in *[!0-9]* | "") echo "--port must be a number" >&2; exit 2 ;; esac
if ! [[ "$database" =~ ^[A-Za-z_][A-Za-z0-9_]{0,40}$ ]]; then
  echo "--database: letters, digits and _ only, at most 41 characters (role names add a suffix)" >&2
  exit 2
fi
if [ "$environment" = prod ]; then
  sslmode="${sslmode:-require}"
  case "$sslmode" in
    require | verify-full) ;;
    *) echo "--sslmode must be require or verify-full for prod" >&2; exit 2 ;;
  esac
fi
case "${sslmode:-prefer}" in
  disable | allow | prefer | require | verify-ca | verify-full) ;;
  *) echo "--sslmode: one of disable, allow, prefer, require, verify-ca, verify-full" >&2; exit 2 ;;
esac
owner_role="${owner_role:-${database}_owner}"
app_role="${app_role:-${database}_app}"
backup_role="${backup_role:-${database}_backup}"
credentials_file="${credentials_file:-${DATA_DIR:-.data}/database-${database}-${environment}.env}"

PY=python3
# DynamoDB Local, as `make run` uses it, for dev and test; AWS itself for prod.
[ "$environment" != prod ] && export DYNAMODB_ENDPOINT="${DYNAMODB_ENDPOINT-http://127.0.0.1:8100}"
[ -x .venv/bin/python ] && PY=.venv/bin/python
log=$(mktemp)
trap 'rm -f "$log"' EXIT
db_args=(--host "$host" --port "$port" --database "$database" --user "$user"
         --owner-role "$owner_role" --app-role "$app_role" --backup-role "$backup_role")
[ -n "$sslmode" ] && db_args+=(--sslmode "$sslmode")

# Django, connected as the admin acting as the owner role (SET ROLE at connect), so that
# what migrations create belongs to the owner; the admin needs no owner password.
urlencode() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
owner_url="postgresql://$(urlencode "$user")@${host}:${port}/${database}?options=$(urlencode "-c role=${owner_role}")"
[ -n "$sslmode" ] && owner_url="${owner_url}&sslmode=${sslmode}"
manage() {
  env -u DATABASE_MIGRATE_URL -u DATABASE_BACKUP_URL \
    DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-$settings_module}" \
    DATABASE_URL="$owner_url" DATABASE_POOL=0 "$PY" manage.py "$@"
}

echo "== PostgreSQL: roles, database $database, grants (on $host:$port as $user)"
"$PY" scripts/setup_database.py provision "${db_args[@]}" --credentials-file "$credentials_file" | tee -a "$log"

echo "== migrations (as $owner_role)"
if manage migrate --check --no-input >/dev/null 2>&1; then
  echo "  = no migrations to apply" | tee -a "$log"
else
  manage migrate --no-input
  echo "  + migrations applied" | tee -a "$log"
  # Tables the migrations just made: their grants (the append-only ones lose UPDATE/DELETE).
  "$PY" scripts/setup_database.py grants "${db_args[@]}" | tee -a "$log"
fi

echo "== DynamoDB tables"
manage create_dynamo_tables --wait 30 | while IFS= read -r line; do
  case "$line" in
    *": exists") echo "  = $line" ;;
    *) echo "  + $line" ;;
  esac
done | tee -a "$log"

echo "== sample data"
if [ "$environment" = prod ]; then
  echo "  = never loaded in prod"
elif [ "$environment" != dev ] || [ "$skip_sample" = 1 ]; then
  echo "  = skipped (--env $environment$([ "$skip_sample" = 1 ] && echo ', --skip-sample'))"
elif "$PY" scripts/setup_database.py sample-data-present "${db_args[@]}"; then
  echo "  = the demo account has its sample data"
else
  manage create_demo_account --sample-data
  echo "  + demo account and sample data loaded" | tee -a "$log"
fi

changes=$(grep -c '^  + ' "$log" || true)
echo
if [ "$changes" -eq 0 ]; then
  echo "Nothing to change: $database on $host was already set up."
else
  echo "Done: $changes change(s) to $database on $host."
fi
echo "Connect the application as $app_role (DATABASE_URL), migrate as $owner_role (DATABASE_MIGRATE_URL),"
echo "back up as $backup_role (DATABASE_BACKUP_URL)."
