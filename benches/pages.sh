#!/usr/bin/env bash
# Load on the web pages: a release build of the service with the demo data on SQLite, a reviewer
# signed in through the login form, then wrk (Debian's package) on the heaviest page (a contract
# with its findings, timeline, opinion and diagram), the reviewer's home page and the reports.
# Usage: bash benches/pages.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
command -v wrk >/dev/null || { echo "install wrk: apt-get install wrk" >&2; exit 1; }

cargo build --release --locked --quiet
work=$(mktemp -d)
port=18099
base=http://127.0.0.1:$port
CONTRACT_REVIEW_DATABASE_URL="sqlite://$work/cr.db?mode=rwc" RUST_LOG=warn \
    ./target/release/contract-review serve --demo --bind "127.0.0.1:$port" \
    --mail-url "file://$work/mail" >"$work/log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done

jar=$work/jar
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
curl -s -c "$jar" -b "$jar" -o /dev/null -X POST "$base/login" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=reviewer@demo.gov.cn" \
    --data-urlencode "password=demo-pass-2026" --data-urlencode "next=/"
cookie="cr_session=$(awk '$6 == "cr_session" { print $7 }' "$jar")"
contract=$(curl -s -H "Cookie: $cookie" "$base/" | grep -o '/contracts/[0-9a-f-]\{36\}' | head -1)

for page in "$contract" / /reports; do
    size=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "Cookie: $cookie" "$base$page")
    echo "== $page ($size bytes)"
    wrk -t2 -c"$connections" -d"${seconds}s" -H "Cookie: $cookie" "$base$page" |
        grep -E 'Latency|Requests/sec|Non-2xx'
done
