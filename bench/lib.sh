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

# bench_test_env NAME: for a bench that sources tests/lib/*.bash outside
# bats: d=$BENCH_TMP/NAME, made empty, stands for their BATS_TEST_TMPDIR and
# BATS_FILE_TMPDIR; ORA_BIN is the tools under test. free_port and
# wait_port PORT [SECONDS] come from tests/lib/net.bash, as in the suites.
bench_test_env() {
  d=$BENCH_TMP/$1
  rm -rf "$d" && mkdir -p "$d"
  ORA_BIN=$BIN
  BATS_TEST_TMPDIR=$d BATS_FILE_TMPDIR=$d
}
. "$TOP/tests/lib/net.bash"

# speed_table COUNT BYTES HEAD MB VS BASE SECS [NAME SECS]...: a markdown
# throughput table (columns HEAD, seconds, messages/s, MB, VS): a row for
# the baseline BASE (VS 1.00), then one for each NAME with its ratio to it;
# messages/s is COUNT/SECS, MB/s BYTES/SECS.
speed_table() {
  local count=$1 bytes=$2 base=$7
  echo "| $3 | seconds | messages/s | $4 | $5 |"
  echo "|---|---|---|---|---|"
  speed_row "$6" "$base" "$count" "$bytes" 1.00
  shift 7
  while (($#)); do
    speed_row "$1" "$2" "$count" "$bytes" "$(ratio "$base" "$2")"
    shift 2
  done
}

speed_row() { # speed_row NAME SECS COUNT BYTES VS
  echo "| $1 | $2 | $(rate "$3" "$2") | $(awk -v b="$4" -v s="$2" 'BEGIN{printf "%.1f", b/s/1e6}') | $5 |"
}

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
