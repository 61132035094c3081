# Shared by the bench/*.sh scripts (sourced).

# search FN CANDIDATES...: the largest candidate for which `FN N` succeeds,
# trying them in order, then halving the gap to the first failure (to within
# 10% or 25). "N+" when every candidate passed: the real figure is higher.
search() {
  local fn=$1; shift
  local best=0 fail=""
  for n in "$@"; do
    if $fn "$n"; then best=$n; else fail=$n; break; fi
  done
  if [ -n "$fail" ]; then
    local lo=$best hi=$fail
    while [ $((hi - lo)) -gt $(( lo / 10 > 25 ? lo / 10 : 25 )) ]; do
      local mid=$(( (lo + hi) / 2 ))
      if $fn "$mid"; then lo=$mid; else hi=$mid; fi
    done
    best=$lo
  else
    best="$best+"
  fi
  echo "$best"
}

# Processes of a bench run: `start` pins one to a CPU with its output in
# $OUT/NAME.log and remembers it in PIDS; `stop_all` (the EXIT trap) ends them.
stop_all() {
  for p in "${PIDS[@]:-}"; do [ -z "$p" ] || kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}
start() { # cpu name args...: sets $pid
  local cpu=$1 name=$2; shift 2
  taskset -c "$cpu" "$@" >"$OUT/$name.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
}
busy() { [ -n "$(ss -Hln "sport = :$1" 2>/dev/null)" ]; }  # something listens on the port, UDP or TCP
wait_port() { # port pid: until something listens on the port (5 s at most) and pid still runs
  for _ in $(seq 50); do busy "$1" && kill -0 "$2" 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on port $1 (see $OUT)" >&2
  return 1
}

# ratio A B: A / B to two decimals ("n/a" without a figure); a trailing "+"
# (a search that passed every candidate) is dropped.
ratio() { awk -v a="${1%+}" -v b="${2%+}" 'BEGIN{ if (b > 0 && a != "" && a >= 0) printf "%.2f\n", a / b; else print "n/a" }'; }
