#!/usr/bin/env bash
# Community browsing at scale through `confab web` (issue "confab web":
# 1,000 viewers over 50 pages, 100 moves/s, move -> every viewer of both pages
# has the new roster p99 < 200 ms, pushes per move linear in those viewers).
#
#   bench/web_viewers.sh
#     env: VIEWERS=1000, PAGES=50, RATE=100, MEASURE=10, BUILD=build,
#          SERVER_CPU=0, PEER_CPU=1, WEB_PORT=8480 (TCP), WEB_SIP_PORT=5478, CONF_PORT=5480, ADMIN_PORT=5481 (TCP),
#          MIXER_PORT=5490, LOAD_PORT=5400, RTP_PORTS=20000-24999
#
# The site: PAGES Markdown pages /bench/p<i>, each a conference of its own
# (sip:web-bench-p<i>@...). build/confab-web-load plays VIEWERS visitors: each
# a SIP participant of its page's conference (no RTP: sendonly offers with a
# dummy port, so the mixer costs only its SIP work) and a WebSocket on the
# site's /_confab/roster for that page. RATE viewers a second move to another
# page: INVITE the new page's conference, hang up the old one (what the client
# service's SameDeviceJoin does there), WebSocket closed on the old page and
# opened on the new. A move is done when every viewer of both pages has the
# roster that says so; its time runs from the INVITE. The site's NOTIFYs are
# the conference server's (its admin API counts them), its pushes the WebSocket
# messages the viewers got.
#
# confab web and the conference server run pinned to SERVER_CPU; the mixer and
# the load tool to PEER_CPU. Ports are off the defaults so that the integration
# tests can run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD="${BUILD:-build}"
LOAD="${LOAD:-$BUILD/confab-web-load}"
if [ ! -x "$BUILD/confab" ] || [ ! -x "$LOAD" ]; then
  [ "$BUILD" = build ] || { echo "$BUILD/confab or $BUILD/confab-web-load missing" >&2; exit 1; }
  scripts/setup
fi
VIEWERS="${VIEWERS:-1000}" PAGES="${PAGES:-50}" RATE="${RATE:-100}" MEASURE="${MEASURE:-10}"
SERVER_CPU="${SERVER_CPU:-0}" PEER_CPU="${PEER_CPU:-1}"
WEB_PORT="${WEB_PORT:-8480}" WEB_SIP_PORT="${WEB_SIP_PORT:-5478}" CONF_PORT="${CONF_PORT:-5480}" ADMIN_PORT="${ADMIN_PORT:-5481}"
MIXER_PORT="${MIXER_PORT:-5490}" LOAD_PORT="${LOAD_PORT:-5400}" RTP_PORTS="${RTP_PORTS:-20000-24999}"
TARGET_RATE=100 CEILING_P99_MS=200
OUT=$(mktemp -d /tmp/confab-bench-web.XXXXXX)
PIDS=()
trap stop_all EXIT
for p in "$WEB_PORT" "$WEB_SIP_PORT" "$CONF_PORT" "$ADMIN_PORT" "$MIXER_PORT" "$LOAD_PORT"; do
  if busy "$p"; then echo "port $p is in use; pick others (see the env list at the top of $0)" >&2; exit 1; fi
done

mkdir -p "$OUT/site/bench"
printf '# Bench\n' >"$OUT/site/index.md"
for ((p = 0; p < PAGES; p++)); do printf '# Page %s\n\nA page of the bench.\n' "$p" >"$OUT/site/bench/p$p.md"; done
(umask 077; echo secret >"$OUT/admin-token")

start "$PEER_CPU" mixer "$BUILD/confab" mixer --listen "127.0.0.1:$MIXER_PORT" --rtp-ports "$RTP_PORTS" --log-level warn
mixer=$pid; wait_port "$MIXER_PORT" "$mixer"
start "$SERVER_CPU" conference "$BUILD/confab" conference --listen "udp:127.0.0.1:$CONF_PORT" \
  --mixer "sip:127.0.0.1:$MIXER_PORT" --admin "127.0.0.1:$ADMIN_PORT" --admin-token-file "$OUT/admin-token" \
  --max-participants $((VIEWERS + 10)) --log-level warn
conf=$pid; wait_port "$ADMIN_PORT" "$conf"
start "$SERVER_CPU" web "$BUILD/confab" web --listen "127.0.0.1:$WEB_PORT" --site "$OUT/site" \
  --conference-host "127.0.0.1:$CONF_PORT" --sip "127.0.0.1:$WEB_SIP_PORT" --max-viewers $((2 * VIEWERS)) \
  --max-viewers-per-page "$VIEWERS" --log-level warn
web=$pid; wait_port "$WEB_PORT" "$web"

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== $VIEWERS viewers over $PAGES pages, $RATE moves/s for $MEASURE s"
set +e
taskset -c "$PEER_CPU" "$LOAD" --web "127.0.0.1:$WEB_PORT" --conference-admin "127.0.0.1:$ADMIN_PORT" \
  --admin-token-file "$OUT/admin-token" --sip "127.0.0.1:$LOAD_PORT" --viewers "$VIEWERS" --pages "$PAGES" \
  --rate "$RATE" --seconds "$MEASURE" >"$OUT/result.txt" 2>"$OUT/load.log"
rc=$?
set -e
result=$(tr '\n' ' ' <"$OUT/result.txt")
[ -n "$result" ] || { echo "no result (see $OUT/load.log)"; tail -5 "$OUT/load.log"; exit 1; }
[ "$rc" = 0 ] || echo "(confab-web-load exited with $rc: a viewer that did not join or a move not completed; see $OUT/load.log)"
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$result"; }

echo "machine load average before the run: $loadavg (2 cores shared: figures are noisy when it is high)"
echo "moves: $(field moves) started, $(field completed) completed, $(field failed) failures; $(field moves_per_s)/s carried"
echo "move -> every viewer of both pages has the new roster: p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, max $(field max_ms) ms"
echo "per move: $(field pushes_per_move) pushes, $(field notifies_per_move) NOTIFYs, $(field viewers_per_move) viewers on the two pages"
echo "RATIO carried-moves/target = $(ratio "$(field moves_per_s)" "$TARGET_RATE")"
echo "RATIO move-p99/ceiling (lower is better) = $(ratio "$(field p99_ms)" "$CEILING_P99_MS")"
echo "RATIO pushes-per-move/viewers-of-the-two-pages (linear: about 1-2) = $(ratio "$(field pushes_per_move)" "$(field viewers_per_move)")"
echo "details: $OUT"
[ "$rc" = 0 ]
