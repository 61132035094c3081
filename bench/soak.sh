#!/usr/bin/env bash
# Soak (issue "Hardening"): mixed load on every server part for a while, all on
# loopback, and whether their memory and descriptors stay flat.
#
#   bench/soak.sh
#     env: SECONDS_TOTAL=600, WARMUP=60, CPS (default 80% of PROXY_CPS), PROXY_CPS=4750
#          (what bench/proxy_cps.sh found on this machine), CALL_MS=1000, JOINS=100 (joins/s,
#          and as many leaves), HOLD=5 (s a participant stays), GROWTH_PCT=5, BUILD=build,
#          PORT_BASE=5700
#
# The load, for SECONDS_TOTAL s:
#   - SIPp calls through `confab proxy` at CPS calls/s (uac -> proxy -> uas, CALL_MS each);
#   - conference joins at JOINS/s, each participant subscribed to the roster (RFC 4575)
#     and leaving HOLD s later (build/confab-conf-load --hold), on `confab conference` + mixer;
#   - API clients of `confab service`, one after the other (SameDeviceJoin and Hangup act
#     on the user's current call): each connects, Joins a conference on the service's
#     phone device, SameDeviceJoins another, and Hangs up, in a loop.
# RSS and open descriptors of proxy, conference, mixer and service are read after
# WARMUP s and at the end. It fails when a call, join or API request failed, or a
# part's RSS or descriptors grew by more than GROWTH_PCT %.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD="${BUILD:-build}"
[ -x "$BUILD/confab" ] && [ -x "$BUILD/confab-conf-load" ] || scripts/setup
SECONDS_TOTAL="${SECONDS_TOTAL:-600}" WARMUP="${WARMUP:-60}" PROXY_CPS="${PROXY_CPS:-4750}"
CPS="${CPS:-$((PROXY_CPS * 8 / 10))}" CALL_MS="${CALL_MS:-1000}" JOINS="${JOINS:-100}" HOLD="${HOLD:-5}"
GROWTH_PCT="${GROWTH_PCT:-5}" B="${PORT_BASE:-5700}"
PROXY=$B UAS=$((B + 1)) UAC=$((B + 2)) CONF=$((B + 10)) MIXER=$((B + 20)) LOAD=$((B + 30))
SERVICE=$((B + 40)) PHONE=$((B + 50))
[ "$WARMUP" -lt "$SECONDS_TOTAL" ] || { echo "WARMUP must be shorter than SECONDS_TOTAL" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp missing: scripts/setup installs it" >&2; exit 1; }
OUT=$(mktemp -d /tmp/confab-soak.XXXXXX)
PIDS=()
trap stop_all EXIT
for p in $PROXY $UAS $UAC $CONF $MIXER $((MIXER + 1)) $LOAD $SERVICE $PHONE; do
  if busy "$p"; then echo "port $p is in use; set PORT_BASE" >&2; exit 1; fi
done
cpus=$(nproc)
cpu() { echo $(($1 % cpus)); }

start "$(cpu 0)" proxy "$BUILD/confab" proxy --listen "udp:127.0.0.1:$PROXY" --db "$OUT/proxy.db" --log-level warn
proxy=$pid; wait_port "$PROXY" "$proxy"
start "$(cpu 1)" mixer "$BUILD/confab" mixer --listen "127.0.0.1:$MIXER" --rtp-ports 46000-47999 --log-level warn
mixer=$pid; wait_port "$MIXER" "$mixer"
start "$(cpu 0)" conference "$BUILD/confab" conference --listen "udp:127.0.0.1:$CONF" \
  --mixer "sip:127.0.0.1:$MIXER" --max-participants 100000 --log-level warn
conf=$pid; wait_port "$CONF" "$conf"
start "$(cpu 1)" phone "$BUILD/confab" phone --listen "127.0.0.1:$PHONE" --rtp-ports 48000-48099 --auto-answer \
  --tone 700 </dev/null
phone=$pid; wait_port "$PHONE" "$phone"
mkdir -m 700 "$OUT/run"
export XDG_RUNTIME_DIR="$OUT/run" XDG_CONFIG_HOME="$OUT/config"
start "$(cpu 1)" service "$BUILD/confab" service --sip "127.0.0.1:$SERVICE" --api-tcp off --web-api off \
  --origins-file "$OUT/origins" --device "phone=sip:phone@127.0.0.1:$PHONE" --keepalive 0 --log-level warn
service=$pid; wait_port "$SERVICE" "$service"
for _ in $(seq 50); do [ -S "$OUT/run/confab/service.sock" ] && break; sleep 0.1; done

# The load.
calls=$((CPS * (SECONDS_TOTAL + 60)))  # more than it can place: stopped at the end
start "$(cpu 1)" uas sipp -sn uas -i 127.0.0.1 -p "$UAS" -nostdin -m "$calls" -timeout $((SECONDS_TOTAL + 60))s \
  -trace_stat -fd 1 -stf "$OUT/uas.csv"
uas=$pid
start "$(cpu 1)" uac sipp -sn uac "127.0.0.1:$UAS" -i 127.0.0.1 -p "$UAC" -rsa "127.0.0.1:$PROXY" -nostdin \
  -r "$CPS" -m "$calls" -d "$CALL_MS" -timeout $((SECONDS_TOTAL + 60))s -trace_stat -fd 1 -stf "$OUT/uac.csv"
uac=$pid
start "$(cpu 1)" joins "$BUILD/confab-conf-load" --server "127.0.0.1:$CONF" --listen "127.0.0.1:$LOAD" --size 20 \
  --rate "$JOINS" --seconds "$SECONDS_TOTAL" --hold "$HOLD"
joins=$pid
api_loop() { # Join, SameDeviceJoin, Hangup until told to stop; a line per failure
  local k=0
  while [ ! -e "$OUT/stop" ]; do
    k=$((k + 1))
    for step in "join --device phone sip:soak-a@127.0.0.1:$CONF" "same-device-join sip:soak-b@127.0.0.1:$CONF" "hangup"; do
      # shellcheck disable=SC2086
      if ! "$BUILD/confab" $step --timeout 10 >/dev/null 2>>"$OUT/api.err"; then echo "fail $step" >>"$OUT/api.fail"; fi
    done
    echo "$k" >"$OUT/api.count"
  done
}
api_loop &
api=$!; PIDS+=("$api")

# name pid -> "rss_kb fds"
usage() { echo "$(awk '/^VmRSS/{print $2}' "/proc/$2/status") $(ls "/proc/$2/fd" | wc -l)"; }
parts=(proxy conference mixer service)
ppids=("$proxy" "$conf" "$mixer" "$service")
sleep "$WARMUP"
declare -A rss0 fd0
for i in "${!parts[@]}"; do read -r rss0[${parts[$i]}] fd0[${parts[$i]}] < <(usage "${parts[$i]}" "${ppids[$i]}"); done
sleep $((SECONDS_TOTAL - WARMUP))
declare -A rss1 fd1
for i in "${!parts[@]}"; do read -r rss1[${parts[$i]}] fd1[${parts[$i]}] < <(usage "${parts[$i]}" "${ppids[$i]}"); done
touch "$OUT/stop"

# The load stops: SIPp places no new call (SIGUSR1) and ends when its calls have,
# the join tool ends after its seconds (its own watchdog bounds it), the API loop
# after its current round. Every wait is bounded.
kill -USR1 "$uac" 2>/dev/null || true
for _ in $(seq 300); do kill -0 "$uac" 2>/dev/null || kill -0 "$joins" 2>/dev/null || break; sleep 0.1; done
kill "$uac" 2>/dev/null && echo "SIPp had not ended 30 s after the load stopped" >&2
wait "$uac" 2>/dev/null || true
joins_rc=0
wait "$joins" 2>/dev/null || joins_rc=$?
for _ in $(seq 300); do kill -0 "$api" 2>/dev/null || break; sleep 0.1; done
alive=""
for i in "${!parts[@]}"; do kill -0 "${ppids[$i]}" 2>/dev/null || alive+=" ${parts[$i]} died"; done
stop_all

col() { awk -F';' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next} {v=$k} END{print (v==""?0:v)}' "$1" 2>/dev/null; }
ok_calls=$(col "$OUT/uac.csv" SuccessfulCall\(C\)); failed_calls=$(col "$OUT/uac.csv" FailedCall\(C\))
join_line=$(grep '^joins=' "$OUT/joins.log" || echo "joins=0 ok=0 failed=unknown")
api_rounds=$(cat "$OUT/api.count" 2>/dev/null || echo 0)
api_failed=0
[ -f "$OUT/api.fail" ] && api_failed=$(wc -l <"$OUT/api.fail")

echo "== soak: ${SECONDS_TOTAL} s (warm-up ${WARMUP} s) on $cpus cores: SIPp $CPS calls/s of ${CALL_MS} ms through the proxy," \
  "$JOINS joins/s (each subscribed, leaving after $HOLD s), an API client loop"
echo "calls: $ok_calls successful ($((ok_calls / SECONDS_TOTAL))/s), $failed_calls failed"
echo "conference: $join_line (tool exit $joins_rc)"
echo "API: $api_rounds rounds of Join + SameDeviceJoin + Hangup, $api_failed requests failed"
status=0 worst=0
[ "$failed_calls" = 0 ] && [ "$ok_calls" -gt 0 ] || status=1
[ "$joins_rc" = 0 ] || status=1
[ "$api_failed" = 0 ] && [ "$api_rounds" -gt 0 ] || status=1
[ -z "$alive" ] || { echo "parts:$alive"; status=1; }
printf '%-11s %10s %10s %7s   %5s %5s %7s\n' part rss_kb_start rss_kb_end growth fds_0 fds_1 growth
for p in "${parts[@]}"; do
  g_rss=$(awk -v a="${rss0[$p]}" -v b="${rss1[$p]}" 'BEGIN{printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0)}')
  g_fd=$(awk -v a="${fd0[$p]}" -v b="${fd1[$p]}" 'BEGIN{printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0)}')
  printf '%-11s %10s %10s %6s%%   %5s %5s %6s%%\n' "$p" "${rss0[$p]}" "${rss1[$p]}" "$g_rss" "${fd0[$p]}" "${fd1[$p]}" "$g_fd"
  awk -v g="$g_rss" -v h="$g_fd" -v m="$GROWTH_PCT" 'BEGIN{exit !(g <= m && h <= m)}' || status=1
  worst=$(awk -v w="$worst" -v g="$g_rss" -v h="$g_fd" 'BEGIN{m = w; if (g > m) m = g; if (h > m) m = h; print m}')
done
echo "RATIO worst-growth/ceiling (lower is better) = $(ratio "$worst" "$GROWTH_PCT")"
[ "$status" = 0 ] && echo "soak: passed" || echo "soak: FAILED (details: $OUT)"
echo "details: $OUT"
exit "$status"
