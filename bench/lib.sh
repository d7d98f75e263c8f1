# bench/lib.sh: helpers for bench/*.sh (source it).
# BENCH_SCALE scales data sizes (default 1); BENCH_RUNS the repetitions
# (default 5); every figure is the median of the runs.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${ORA_BIN:-$TOP/bin}
BB=${ORA_BUILD:-$TOP/build}/bench
BENCH_SCALE=${BENCH_SCALE:-1}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}/ora-bench}
mkdir -p "$BENCH_TMP"
export PATH="$BIN:$PATH" ORA_LOG=warn

# scaled N: prints N * BENCH_SCALE as an integer (at least 1).
scaled() { awk -v n="$1" -v s="$BENCH_SCALE" 'BEGIN { v = int(n * s); print (v < 1 ? 1 : v) }'; }

# median_secs CMD...: runs the shell command string BENCH_RUNS times, prints
# the median wall-clock seconds. stdout of the command is discarded.
median_secs() {
  local i t ts=()
  for ((i = 0; i < BENCH_RUNS; i++)); do
    /usr/bin/time -o "$BENCH_TMP/.time" -f %e bash -c "$1" >/dev/null 2>&1
    ts+=("$(tail -1 "$BENCH_TMP/.time")")
  done
  printf '%s\n' "${ts[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# rate COUNT SECS: COUNT/SECS as an integer per second.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }
# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# rounds NAME CMD [NAME CMD ...]: BENCH_RUNS rounds in which every command
# runs once, in turn (so that load on a shared machine weighs on all of them
# alike); prints one line per command: NAME, median wall seconds, median CPU
# seconds (user + sys of the command and its children). stdout discarded.
rounds() {
  local i k w u s names=() cmds=()
  while (($#)); do names+=("$1"); cmds+=("$2"); shift 2; done
  : >"$BENCH_TMP/.rounds"
  for ((i = 0; i < BENCH_RUNS; i++)); do
    for k in "${!cmds[@]}"; do
      /usr/bin/time -o "$BENCH_TMP/.time" -f '%e %U %S' bash -c "${cmds[$k]}" >/dev/null 2>&1
      read -r w u s < <(tail -1 "$BENCH_TMP/.time")
      echo "${names[$k]} $w $(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" >>"$BENCH_TMP/.rounds"
    done
  done
  local med='{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
  for k in "${!names[@]}"; do
    echo "${names[$k]}" \
      "$(awk -v n="${names[$k]}" '$1 == n { print $2 }' "$BENCH_TMP/.rounds" | sort -g | awk "$med")" \
      "$(awk -v n="${names[$k]}" '$1 == n { print $3 }' "$BENCH_TMP/.rounds" | sort -g | awk "$med")"
  done
}
