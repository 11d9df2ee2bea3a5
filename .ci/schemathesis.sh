#!/usr/bin/env bash
# Fuzzes the JSON API against its own OpenAPI document with schemathesis (from PyPI): serves the
# demo from BINARY over DATABASE_URL on loopback, signs in as the city's reviewer and as its
# admin, and runs for SECONDS each, failing on any 5xx or any answer that breaks the document.
# Usage: .ci/schemathesis.sh BINARY DATABASE_URL SECONDS
set -euo pipefail
binary=$1 database_url=$2 seconds=$3
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis==4.32.5'
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# The fuzzer signs in with wrong passwords thousands of times; the limits would lock us out.
RUST_LOG=error "$binary" serve --demo --bind "127.0.0.1:$port" --data-dir "$work" \
    --database-url "$database_url" --mail-url "file://$work/mail" \
    --login-max-failures-per-account 1000000000 --login-max-failures-per-address 1000000000 \
    >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done

token() {
    curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"demo-pass-2026\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

status=0
# The reviewer goes first: the admin's run may deactivate the reviewer or reset their password.
for user in reviewer@demo.gov.cn admin@demo.gov.cn; do
    echo "== schemathesis as $user on ${database_url%%:*}, ${seconds}s"
    # Signing out would end the fuzzer's own session halfway.
    "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
        -H "Authorization: Bearer $(token "$user")" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
        --exclude-path /api/v1/auth/logout \
        --max-time "$seconds" --workers 2 --no-color || status=1
done
if grep -q "panicked" "$work/serve.log"; then
    echo "the service panicked:" >&2
    grep -A3 "panicked" "$work/serve.log" >&2
    status=1
fi
exit $status
