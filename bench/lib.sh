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
