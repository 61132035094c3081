#!/usr/bin/env bash
# How many participants `confab mixer` carries on one core, against the packet
# rate a plain UDP reflector sustains on the same core with the same traffic.
#
#   bench/mixer_capacity.sh        (env: SECONDS_PER_STEP=10, LEGS="...", OPUS_LEGS="...")
#
# The mixer runs pinned to CPU 0 (one mixing thread), the load generator
# (build/confab-rtp-load) on CPU 1. Each step sets up N legs by SIP in mixes of
# 5, sends one 20 ms packet per leg per tick for SECONDS_PER_STEP and passes
# when no packet was lost either way and the mixer had no late tick. The
# reflector (same generator, one socket per leg, echo) gives the ceiling of
# this machine for that per-leg socket traffic. Prints both and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/confab ] && [ -x build/confab-rtp-load ] || scripts/setup
STEP="${SECONDS_PER_STEP:-10}"
LEGS="${LEGS:-500 1000 1500 2000 2500 3000 3500 4000 5000}"
OPUS_LEGS="${OPUS_LEGS:-50 100 150 200 300 400 500 600 800}"
OUT=$(mktemp -d /tmp/confab-bench-mixer.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

mixer_step() { # legs codec -> prints the generator's line, returns 0 on pass
  local n=$1 codec=$2 line
  taskset -c 0 build/confab mixer --listen 127.0.0.1:5090 --rtp-ports 20000-31999 --http 127.0.0.1:5091 \
    --log-level warn >"$OUT/mixer-$codec-$n.log" 2>&1 &
  PID=$!
  sleep 0.5
  line=$(taskset -c 1 build/confab-rtp-load mixer --legs "$n" --mix-size 5 --seconds "$STEP" --codec "$codec" 2>&1 | tail -1)
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  echo "mixer $codec $line" >&2
  [[ "$line" == *"drops=0 "* && "$line" == *"late_ticks=0"* ]]
}

reflector_step() { # legs
  local n=$1 line
  taskset -c 0 build/confab-rtp-load reflect --base-port 20000 --legs "$n" >"$OUT/reflector-$n.log" 2>&1 &
  PID=$!
  sleep 0.5
  line=$(taskset -c 1 build/confab-rtp-load reflected --base-port 20000 --legs "$n" --seconds "$STEP" --rx-port 61000 2>&1 | tail -1)
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  echo "reflector $line" >&2
  [[ "$line" == *"drops=0"* ]]
}

# search(): bench/lib.sh
. bench/lib.sh

pcmu() { mixer_step "$1" pcmu; }
opus() { mixer_step "$1" opus; }

echo "== G.711 legs on one core (mixes of 5, ${STEP}s per step)"
g711=$(search pcmu $LEGS)
echo "== plain UDP reflector, same traffic"
ceiling=$(search reflector_step $LEGS 6000 8000 10000 12000)
echo "== Opus legs on one core"
opus_legs=$(search opus $OPUS_LEGS)

echo
echo "mixer G.711: $g711 participants on one core, no late tick, no packet lost (target >= 2000)"
echo "reflector:   $ceiling legs ($(( ${ceiling%+} * 100 )) packets/s in and out)"
awk -v m="${g711%+}" -v r="${ceiling%+}" 'BEGIN{ printf "RATIO mixer/reflector = %.2f\n", (r > 0 ? m / r : 0) }'
echo "mixer Opus:  $opus_legs participants on one core"
echo "details: $OUT"
