# Sourced by scripts/test and bench/fuzz_campaign.sh: what each libFuzzer target
# reads, and how to run it.

# tests/fuzz/<kind>/{corpus,regressions}: the seeds of target $1, and inputs that once failed.
fuzz_kind() {
  case "$1" in
    fuzz_sdp) echo sdp ;;
    fuzz_rtp) echo rtp ;;
    fuzz_conference_info) echo conference_info ;;
    fuzz_api_reader) echo api ;;
    fuzz_api_json) echo api_json ;;
    fuzz_game_message) echo game ;;
    fuzz_page_meta) echo page_meta ;;
    fuzz_room_command) echo chat ;;
    fuzz_tport_dump) echo tport_dump ;;
    *) echo sip ;;
  esac
}

# The targets that drive a whole part (proxy, conference server, client
# service) leave work in flight between inputs and at exit (DNS lookups of
# fuzzed host names, retransmission timers), which LeakSanitizer reports as
# leaks: they hunt crashes and memory errors. The proxy's leaks are checked by
# tests/integration/test_proxy_sanitized.py, which replays
# tests/fuzz/sip/regressions against the sanitized proxy and shuts it down cleanly.
fuzz_leak_options() {
  case "$1" in
    fuzz_proxy|fuzz_conference|fuzz_service) echo detect_leaks=0 ;;
    *) echo "${ASAN_OPTIONS:-}" ;;
  esac
}
