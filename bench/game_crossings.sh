#!/usr/bin/env bash
# Zone crossings through `confab game` with the server voice (issue "confab
# game": 500 players, 200 crossings/s, crossing -> leg moved p99 < 40 ms, no gap).
#
#   bench/game_crossings.sh
#     env: PLAYERS=500, GRID=5 (GRID x GRID zones), ZONE_M=20, SPEED=6.5, TICK_MS=50,
#          JOIN_RATE=100, WARMUP=5, MEASURE=20, SWITCHES=16, BUILD=build,
#          SERVER_CPU=0, PEER_CPU=1, GAME_PORT=8481 (TCP), GAME_SIP_PORT=5475,
#          CONF_PORT=5480, ADMIN_PORT=5481 (TCP), MIXER_PORT=5490, MIXER_HTTP_PORT=5491 (TCP),
#          LOAD_PORT=5400, PHONE_PORT=5470 (5470-5476), RTP_PORTS=40000-44999, LOAD_RTP_PORT=45500,
#          GAME_LOG=warn, CONF_LOG=warn (their log levels; info logs every crossing and move)
#
# PLAYERS players (build/confab-game-load: a Boost.Beast WebSocket client each)
# join a world of GRID x GRID zones of ZONE_M metres (proximity off) and wander:
# each walks at SPEED m/s to a random point and picks another every 1-3 s, so
# a player crosses a line about every ZONE_M / (1.2 SPEED) s (measured: 500
# players at 6.5 m/s offer about 205 crossings/s, the target; at 10 m/s about 300). Every player's
# SIP address answers the conference server's dial-out (the game's RFC 4579
# REFER) on the tool's user agent, with a real mixer leg fed by its RTP thread
# (a 20 ms PCMU frame every 20 ms, a quiet low tone). After WARMUP s the tool
# measures MEASURE s: the game's GET /metrics gives crossings, moves (admin
# API moves answered, i.e. the mixer has the leg in the new zone's mix) and
# the time from a crossing's tick to its move's answer (p50/p99 over every
# move since the players started wandering); /proc gives the CPU time of game,
# conference server and mixer (whole process, and its main thread: the SIP
# thread) per crossing. The mixer's share is mostly mixing PLAYERS legs, not
# crossings: its SIP thread is the crossing's part.
#
# The gap, in the same run: two phones play 900 Hz in zone z0_0's conference and
# 1300 Hz in z1_0's. A player "walker", whose SIP address is a recording phone,
# is sent back and forth across their line by the game (each crossing a move);
# another recording phone does the same switch SWITCHES times the way a phone
# does without the game: hang up, dial the other zone. Both recordings are read
# by content (bench/tools/tone_switches.py): the silence between the old tone
# and the new one at each switch.
#
# Game server and conference server run pinned to SERVER_CPU; the mixer (with
# its real-time mixing thread), the load tool and the phones to PEER_CPU. Ports
# are off the defaults so that the integration tests can run meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BUILD="${BUILD:-build}"
if [ ! -x "$BUILD/confab" ] || [ ! -x "$BUILD/confab-game-load" ]; then
  [ "$BUILD" = build ] || { echo "$BUILD/confab or $BUILD/confab-game-load missing" >&2; exit 1; }
  scripts/setup
fi
PLAYERS="${PLAYERS:-500}" GRID="${GRID:-5}" ZONE_M="${ZONE_M:-20}" SPEED="${SPEED:-6.5}" TICK_MS="${TICK_MS:-50}"
JOIN_RATE="${JOIN_RATE:-100}" WARMUP="${WARMUP:-5}" MEASURE="${MEASURE:-20}" SWITCHES="${SWITCHES:-16}"
SERVER_CPU="${SERVER_CPU:-0}" PEER_CPU="${PEER_CPU:-1}"
GAME_PORT="${GAME_PORT:-8481}" GAME_SIP_PORT="${GAME_SIP_PORT:-5475}" CONF_PORT="${CONF_PORT:-5480}"
ADMIN_PORT="${ADMIN_PORT:-5481}" MIXER_PORT="${MIXER_PORT:-5490}" MIXER_HTTP_PORT="${MIXER_HTTP_PORT:-5491}"
LOAD_PORT="${LOAD_PORT:-5400}" PHONE_PORT="${PHONE_PORT:-5470}" RTP_PORTS="${RTP_PORTS:-40000-44999}"
LOAD_RTP_PORT="${LOAD_RTP_PORT:-45500}"
TARGET_PLAYERS=500 TARGET_RATE=200 CEILING_P99_MS=40
OUT=$(mktemp -d /tmp/confab-bench-game.XXXXXX)
PIDS=()
trap stop_all EXIT
for p in "$GAME_PORT" "$GAME_SIP_PORT" "$CONF_PORT" "$ADMIN_PORT" "$MIXER_PORT" "$MIXER_HTTP_PORT" "$LOAD_PORT" \
         "$PHONE_PORT" $((PHONE_PORT + 2)) $((PHONE_PORT + 4)) $((PHONE_PORT + 6)) "$LOAD_RTP_PORT"; do
  if busy "$p"; then echo "port $p is in use; pick others (see the env list at the top of $0)" >&2; exit 1; fi
done

# The world: GRID x GRID zones named z<column>_<row>, proximity off, zones never full.
world() {
  printf 'name = "bench"\nwidth = %s\nheight = %s\nspeed = %s\ntick_ms = %s\nproximity_m = 0\n' \
    $((GRID * ZONE_M)) $((GRID * ZONE_M)) "$SPEED" "$TICK_MS"
  printf 'max_players_per_zone = %s\nvoice = "server"\n' $((PLAYERS + 10))
  for ((r = 0; r < GRID; r++)); do
    for ((c = 0; c < GRID; c++)); do
      printf '\n[[zones]]\nname = "z%s_%s"\nx = %s\ny = %s\nwidth = %s\nheight = %s\n' \
        "$c" "$r" $((c * ZONE_M)) $((r * ZONE_M)) "$ZONE_M" "$ZONE_M"
    done
  done
}
world >"$OUT/world.toml"
(umask 077; echo secret >"$OUT/admin-token")
ZONE_A="sip:bench-z0_0@127.0.0.1:$CONF_PORT" ZONE_B="sip:bench-z1_0@127.0.0.1:$CONF_PORT"

phone() { # name port-offset rtp-offset args...
  local name=$1 port=$((PHONE_PORT + $2)) rtp=$((45000 + $3)); shift 3
  start "$PEER_CPU" "$name" "$BUILD/confab" phone --listen "127.0.0.1:$port" --rtp-ports "$rtp-$((rtp + 39))" "$@"
  wait_port "$port" "$pid"
}

start "$PEER_CPU" mixer "$BUILD/confab" mixer --listen "127.0.0.1:$MIXER_PORT" --rtp-ports "$RTP_PORTS" \
  --http "127.0.0.1:$MIXER_HTTP_PORT" --log-level warn
mixer=$pid; wait_port "$MIXER_PORT" "$mixer"
start "$SERVER_CPU" conference "$BUILD/confab" conference --listen "udp:127.0.0.1:$CONF_PORT" \
  --mixer "sip:127.0.0.1:$MIXER_PORT" --admin "127.0.0.1:$ADMIN_PORT" --admin-token-file "$OUT/admin-token" \
  --max-participants $((PLAYERS + 10)) --log-level ${CONF_LOG:-warn}
conf=$pid; wait_port "$ADMIN_PORT" "$conf"
start "$SERVER_CPU" game "$BUILD/confab" game --listen "127.0.0.1:$GAME_PORT" \
  --conference-host "127.0.0.1:$CONF_PORT" --admin "http://127.0.0.1:$ADMIN_PORT" \
  --admin-token-file "$OUT/admin-token" --sip "127.0.0.1:$GAME_SIP_PORT" --world "$OUT/world.toml" \
  --max-connections $((PLAYERS + 50)) --log-level ${GAME_LOG:-warn}
game=$pid; wait_port "$GAME_PORT" "$game"
phone tone-a 0 0 --tone 900 --volume 0.2 --dial "$ZONE_A" </dev/null
phone tone-b 2 40 --tone 1300 --volume 0.2 --dial "$ZONE_B" </dev/null
phone walker 4 80 --auto-answer --record "$OUT/walker.wav" </dev/null

echo "== $PLAYERS players wandering over $GRID x $GRID zones of $ZONE_M m at $SPEED m/s (tick $TICK_MS ms)," \
  "joining at $JOIN_RATE/s, ${WARMUP}s warm-up, ${MEASURE}s measured"
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
start "$PEER_CPU" load "$BUILD/confab-game-load" --game "127.0.0.1:$GAME_PORT" --players "$PLAYERS" \
  --sip "127.0.0.1:$LOAD_PORT" --rtp-port "$LOAD_RTP_PORT" --join-rate "$JOIN_RATE" --warmup "$WARMUP" \
  --seconds "$MEASURE" --walker "sip:walker@127.0.0.1:$((PHONE_PORT + 4))" \
  --walk "$((ZONE_M - 3)),$((ZONE_M / 2)),$((ZONE_M + 3)),$((ZONE_M / 2))" --walk-pause-ms 1500 \
  --pid "game=$game" --pid "conference=$conf" --pid "mixer=$mixer"
load=$pid

# The same switch without the game, during the measured window: hang up, dial the other zone.
redial_commands() {
  echo "dial $ZONE_A"
  sleep 1.5
  for ((k = 0; k < SWITCHES; k++)); do
    echo hangup
    if ((k % 2 == 0)); then echo "dial $ZONE_B"; else echo "dial $ZONE_A"; fi
    sleep 1
  done
}
for _ in $(seq 1200); do
  grep -q '^measuring' "$OUT/load.log" 2>/dev/null && break
  kill -0 "$load" 2>/dev/null || break
  sleep 0.1
done
redial_commands | taskset -c "$PEER_CPU" "$BUILD/confab" phone --listen "127.0.0.1:$((PHONE_PORT + 6))" \
  --rtp-ports 45120-45159 --record "$OUT/redial.wav" >"$OUT/redial.log" 2>&1 &
PIDS+=($!)
wait "$load" || echo "(confab-game-load exited with $?: a player without a leg, or no counters; see $OUT/load.log)"
late=$(curl -s "http://127.0.0.1:$MIXER_HTTP_PORT/metrics.json" | sed -n 's/.*"late_ticks":\([0-9]*\).*/\1/p' || true)
stop_all

result=$(grep '^players=' "$OUT/load.log" || true)
[ -n "$result" ] || { echo "no result (see $OUT/load.log)"; tail -5 "$OUT/load.log"; exit 1; }
field() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<<"$result"; }
cpu() { sed -n "s/^cpu $1=.*\\b$2:\\([0-9.]*\\).*/\\1/p" "$OUT/load.log"; }
gaps() { /usr/bin/python3 bench/tools/tone_switches.py "$@" 900 1300; }
walker_gap=$(gaps "moved by the game (admin move)" "$OUT/walker.wav")
redial_gap=$(gaps "hang up and dial the other zone" "$OUT/redial.wav")
gap_of() { sed -n 's/.*worst_gap_ms=\([-0-9]*\).*/\1/p' <<<"$1"; }

echo
echo "machine load average before the run: $loadavg (2 cores shared: figures are noisy when it is high)"
echo "players: $(field joined) of $PLAYERS joined, $(field legs) with a mixer leg at the end" \
  "(legs ended meanwhile: $(field legs_ended), re-INVITEs to players: $(field reinvites)," \
  "players dialled twice: $(field redials), RTP from the mixer $(field rtp_in_per_s) packets/s)"
echo "crossings: $(field crossings_per_s)/s offered, $(field moves_per_s)/s carried (moves answered)," \
  "$(field move_failures) failed, over $(field seconds) s (target >= $TARGET_RATE/s)"
echo "crossing -> mixer moved the leg: p50 $(field move_p50_ms) ms, p99 $(field move_p99_ms) ms," \
  "max $(field move_max_ms) ms (target p99 < $CEILING_P99_MS ms)"
echo "CPU per crossing (ms; whole process / its SIP thread) and load (% of a core; the mixer's is mostly mixing):"
for p in game conference mixer load; do
  printf '  %-10s %7s / %-7s  %5s%% / %s%%\n' "$p" "$(cpu "$p" ms_per_crossing)" "$(cpu "$p" main_ms_per_crossing)" \
    "$(cpu "$p" pct)" "$(cpu "$p" main_pct)"
done
echo "mixer late ticks over the whole run: ${late:-?}"
echo "gap heard at a switch between zones z0_0 (900 Hz) and z1_0 (1300 Hz):"
echo "  $walker_gap"
echo "  $redial_gap"
echo "RATIO players-with-a-leg/target = $(ratio "$(field legs)" "$TARGET_PLAYERS")"
echo "RATIO carried-crossings/target = $(ratio "$(field moves_per_s)" "$TARGET_RATE")"
echo "RATIO move-p99/ceiling (lower is better) = $(ratio "$(field move_p99_ms)" "$CEILING_P99_MS")"
echo "RATIO game-gap/redial-gap (worst gap, lower is better) = $(ratio "$(gap_of "$walker_gap")" "$(gap_of "$redial_gap")")"
echo "details: $OUT"
