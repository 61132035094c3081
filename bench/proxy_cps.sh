#!/usr/bin/env bash
# Calls per second through `confab proxy` and through Kamailio, measured in the
# same run with the same SIPp harness (tests/peers/cps.sh: SIPp uac -> proxy ->
# SIPp uas, INVITE/180/200/ACK/BYE/200 per call, zero failed calls required),
# one worker each (Kamailio -n 1; confab is single-threaded by design).
#
#   bench/proxy_cps.sh            (env: RATES, STEP_SECS, as for cps.sh)
#
# Prints, for each proxy, the highest zero-failure rate and the CPU it used
# there, then two ratios confab/Kamailio:
#   - max zero-failure calls/s: on a 2-core machine SIPp itself saturates first,
#     so this one is usually capped by the generator for both (GENLIMIT/FAIL at
#     the same rates);
#   - per-core capacity = rate / (proxy CPU share at that rate): the calls/s one
#     core would carry, i.e. the inverse of the CPU cost per call.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=tests/peers
export RATES="${RATES:-1000 2000 3000 4000 5000 6000 8000}"
export STEP_SECS="${STEP_SECS:-5}"
OUT=$(mktemp -d /tmp/confab-bench-proxy.XXXXXX)
[ -x build/confab ] || scripts/setup

cleanup() {
  [ -n "${CONFAB_PID:-}" ] && kill "$CONFAB_PID" 2>/dev/null || true
  "$PEERS/kamailio.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

measure() { # name target -> "cps cpu"
  local name=$1 target=$2 line
  OUTDIR="$OUT/$name" "$PEERS/cps.sh" "$target" 2>"$OUT/$name.steps" | tee "$OUT/$name.result" >/dev/null
  line=$(grep '^RESULT' "$OUT/$name.result")
  local cps cpu
  cps=$(sed -n 's/.*max_zero_failure_cps=\([0-9]*\).*/\1/p' <<<"$line")
  cpu=$(sed -n 's/.* proxy_cpu=\([0-9.]*\)%.*/\1/p' <<<"$line")
  echo "$cps ${cpu:-0}"
}

echo "== Kamailio (1 worker) on udp:127.0.0.1:5070"
CHILDREN=1 "$PEERS/kamailio.sh" start >/dev/null
read -r kam_cps kam_cpu < <(measure kamailio 127.0.0.1:5070)
cat "$OUT/kamailio.steps"
"$PEERS/kamailio.sh" stop >/dev/null

echo "== confab proxy on udp:127.0.0.1:5060"
rm -f "$OUT/proxy.db"
build/confab proxy --listen udp:127.0.0.1:5060 --db "$OUT/proxy.db" --log-level warn >"$OUT/confab.log" 2>&1 &
CONFAB_PID=$!
sleep 0.5
read -r cf_cps cf_cpu < <(measure confab 127.0.0.1:5060)
cat "$OUT/confab.steps"
kill "$CONFAB_PID"; wait "$CONFAB_PID" 2>/dev/null || true; CONFAB_PID=

per_core() { awk -v r="$1" -v c="$2" 'BEGIN{ if (c > 0) printf "%.0f", r / (c / 100); else print "n/a" }'; }
kam_core=$(per_core "$kam_cps" "$kam_cpu")
cf_core=$(per_core "$cf_cps" "$cf_cpu")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
printf '%-10s max_zero_failure_cps=%-6s proxy_cpu=%5s%%  per_core_capacity=%s cps\n' \
  kamailio "$kam_cps" "$kam_cpu" "$kam_core" confab "$cf_cps" "$cf_cpu" "$cf_core"
echo "RATIO confab/kamailio: max_zero_failure_cps=$(ratio "$cf_cps" "$kam_cps") per_core_capacity=$(ratio "$cf_core" "$kam_core") (target >= 1.5)"
echo "details: $OUT"
