#!/usr/bin/env bash
# A long fuzzing campaign, outside CI: each libFuzzer target of build-fuzz/ for
# RUNS executions (default 10 million) or SECONDS seconds, whichever comes first;
# then its corpus, minimised (-merge=1), replaces tests/fuzz/<kind>/corpus when
# it covers more. Prints executions, speed, corpus sizes and findings per target.
#
#   bench/fuzz_campaign.sh [TARGET...]
#     env: RUNS=10000000, SECONDS_PER_TARGET=7200, JOBS=1, KEEP=1 (0: leave tests/fuzz alone)
#
# A finding (crash, leak, timeout) is kept as build-fuzz/campaign/<target>/crash-*
# and the target's line says FOUND; add the input to tests/fuzz/<kind>/regressions
# once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz_lib.sh
RUNS="${RUNS:-10000000}" SECONDS_PER_TARGET="${SECONDS_PER_TARGET:-7200}" KEEP="${KEEP:-1}"
[ -d build-fuzz/fuzz ] || CONFAB_FUZZ=1 scripts/setup
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=($(ls build-fuzz/fuzz))
status=0
for name in "${targets[@]}"; do
  f="build-fuzz/fuzz/$name"
  [ -x "$f" ] || { echo "$name: no such target in build-fuzz/fuzz" >&2; status=1; continue; }
  kind=$(fuzz_kind "$name")
  out="build-fuzz/campaign/$name"
  rm -rf "$out"; mkdir -p "$out/corpus" "$out/merged"
  seeds=()
  for d in "tests/fuzz/$kind/corpus" "tests/fuzz/$kind/regressions"; do [ -d "$d" ] && seeds+=("$d"); done
  asan=$(fuzz_leak_options "$name")
  extra=()
  [ "$asan" = detect_leaks=0 ] && extra+=(-detect_leaks=0)
  start=$(date +%s)
  found=no
  ASAN_OPTIONS="$asan" "$f" -runs="$RUNS" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
    -artifact_prefix="$out/" "${extra[@]}" "$out/corpus" "${seeds[@]}" >"$out/log" 2>&1 || found=yes
  secs=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -1)
  ASAN_OPTIONS="$asan" "$f" -merge=1 "${extra[@]}" "$out/merged" "$out/corpus" "${seeds[@]}" >"$out/merge.log" 2>&1 || true
  before=$(ls "tests/fuzz/$kind/corpus" 2>/dev/null | wc -l)
  after=$(ls "$out/merged" | wc -l)
  if [ "$KEEP" = 1 ] && [ "$found" = no ] && [ "$after" -gt 0 ]; then
    mkdir -p "tests/fuzz/$kind/corpus"
    cp -n "$out/merged/"* "tests/fuzz/$kind/corpus/" 2>/dev/null || true
  fi
  artifacts=$(ls "$out" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  [ "$found" = yes ] && status=1
  printf '%-22s executions=%s seconds=%s per_s=%s corpus_before=%s merged=%s findings=%s %s\n' "$name" "${runs:-?}" \
    "$secs" "$(( ${runs:-0} / (secs > 0 ? secs : 1) ))" "$before" "$after" "$artifacts" \
    "$([ "$found" = yes ] && echo FOUND || echo ok)"
done
exit "$status"
