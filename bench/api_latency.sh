#!/usr/bin/env bash
# From a control message to the INVITE on the wire: `confab service` (a <Join>
# on its Unix socket) against baresip (a "dial" on its ctrl_tcp), same harness,
# same run. The harness (build/confab-api-latency) is the device: it times each
# INVITE it receives against the message that caused it and answers 486.
#
#   bench/api_latency.sh          (env: COUNT=500)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/confab ] && [ -x build/confab-api-latency ] || scripts/setup
COUNT="${COUNT:-500}"
OUT=$(mktemp -d /tmp/confab-bench-api.XXXXXX)
mkdir -m 700 "$OUT/run"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  tests/peers/baresip-ua.sh stop benchlat >/dev/null 2>&1 || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

XDG_RUNTIME_DIR="$OUT/run" XDG_CONFIG_HOME="$OUT/config" taskset -c 0 build/confab service --sip 127.0.0.1:7962 \
  --api-tcp off --web-api off --origins-file "$OUT/origins" --log-level warn >"$OUT/service.log" 2>&1 &
PID=$!
for _ in $(seq 50); do [ -S "$OUT/run/confab/service.sock" ] && break; sleep 0.1; done
confab=$(taskset -c 1 build/confab-api-latency confab --socket "$OUT/run/confab/service.sock" --device-port 7990 \
  --count "$COUNT" | tail -1)
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
echo "confab service: $confab"

tests/peers/baresip-ua.sh benchlat 7310 17310 >/dev/null
taskset -p -c 0 "$(cat /tmp/baresip-benchlat/pid)" >/dev/null
baresip=$(taskset -c 1 build/confab-api-latency baresip --ctrl-port 17310 --device-port 7990 --count "$COUNT" | tail -1)
echo "baresip ctrl_tcp: $baresip"

p50() { sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$1"; }
c=$(p50 "$confab"); b=$(p50 "$baresip")
echo
echo "API message -> INVITE on the wire, p50: confab ${c} us (target < 200 us), baresip ${b} us"
awk -v c="$c" -v b="$b" 'BEGIN{ printf "RATIO confab/baresip (p50 latency, lower is better) = %.2f\n", (b > 0 ? c / b : 0) }'
echo "details: $OUT"
