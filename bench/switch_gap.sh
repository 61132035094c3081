#!/usr/bin/env bash
# SameDeviceJoin: the audio gap a moved device hears, same conference server
# (Replaces) and across servers (re-INVITE), 20 switches each, against the
# same device hanging up and dialling again. See bench/tools/switch_gap.py.
#
#   bench/switch_gap.sh           (env: SWITCHES=20)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/confab ] || scripts/setup
OUT=$(mktemp -d /tmp/confab-bench-switch.XXXXXX)
CONFAB_BIN="$PWD/build/confab" CONFAB_PEERS="$PWD/tests/peers" /usr/bin/python3 bench/tools/switch_gap.py "$OUT" \
  "${SWITCHES:-20}"
echo "details: $OUT"
