#!/usr/bin/env bash
# The cost of a rewind (scripts/ora-supervise): a live ora-sim session runs
# through the supervised pipeline (kinesis-put --stdout, so that Kinesis is
# not what is measured), once undisturbed and once with kill -9 of each stage
# in turn. For each kill: the time until, after the restart, the committed
# checkpoint moves again (restart delay, reconnect, replay, next checkpoint),
# and overall the extra outputs (duplicates) the replays produced.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench_test_env supervise
. "$TOP/tests/lib/sim.bash"
. "$TOP/tests/lib/supervise.bash"

n=$(scaled 80000)
rate=$((n / 20 > 200 ? n / 20 : 200))   # a session of about 20 s: time for the five kills
sv_pid=""
cleanup() {
  [ -z "$sv_pid" ] || { kill -TERM "$sv_pid" 2>/dev/null; wait "$sv_pid" 2>/dev/null; } || true
  sim_stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
pki_setup "$d/pki" >/dev/null

now() { date +%s.%N; }
ckpt() { cat "$1/state/checkpoint" 2>/dev/null || echo -1; }
# wait_ckpt DIR W SECS: until the checkpoint of DIR is > W (0 on success)
wait_ckpt() {
  local i
  for ((i = 0; i < $3 * 50; i++)); do
    (($(ckpt "$1") > $2)) && return 0
    sleep 0.02
  done
  return 1
}

# run NAME KILL(0|1): one session; sets elapsed, outputs, dups; with KILL=1
# fills recov[stage].
declare -A recov
run() {
  local name=$1 kill=$2 r=$d/$1 head0 final t0 s c k p
  mkdir -p "$r"
  sim_start --seed 41 --rate "$rate" --max-messages "$n" --reorder 0 --ping-interval 1 >/dev/null
  head0=$(sed -nE 's/.*head offset ([0-9]+).*/\1/p' "$SIM_ERR" | head -1)
  final=$((head0 + n))
  t0=$(now)
  ORA_BIN_DIR=$BIN ORA_AUTH_URL=$SIM_AUTH_URL ORA_HOST=127.0.0.1 ORA_PORT=$SIM_PORT \
    ORA_CERT=$PKI_DIR/client.pem ORA_KEY=$PKI_DIR/client.key ORA_CACERT=$PKI_DIR/ca.pem \
    ORA_OFFERINGS=offering-se ORA_STATE_DIR=$r/state ORA_ORDER_ARGS="-t 0" \
    ORA_ACTORS_ARGS="--checkpoint-interval 0.5" ORA_RESTART_MAX=20 ORA_LOG=info \
    "$TOP/scripts/ora-supervise" --stdout >"$r/out.jsonl" 2>"$r/sv.log" 3>&- &
  sv_pid=$!
  wait_ckpt "$r" 0 30
  if ((kill)); then
    for s in connect deframe order actors put; do
      sleep 1
      p=$(sed -nE "s/.* supervise: start $s \\(pid ([0-9]+)\\).*/\\1/p" "$r/sv.log" | tail -1)
      starts=$(grep -c 'supervise: start connect' "$r/sv.log")
      k=$(now)
      kill -KILL "$p"
      # restarted, then durable progress again
      until (($(grep -c 'supervise: start connect' "$r/sv.log") > starts)); do sleep 0.02; done
      c=$(ckpt "$r")
      wait_ckpt "$r" "$c" 60
      recov[$s]=$(awk -v a="$(now)" -v b="$k" 'BEGIN { printf "%.2f", a - b }')
    done
  fi
  wait_ckpt "$r" $((final - 1)) 120
  elapsed=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
  kill -TERM "$sv_pid"
  wait "$sv_pid" || { echo "ora-supervise failed in $name" >&2; return 1; }
  sv_pid=""
  sim_stop >/dev/null 2>&1 || true
  # what the rules require, computed offline from the same snapshot point
  snap=$(sed -nE 's/.*snapshot of [0-9]+ messages at offset ([0-9]+).*/\1/p' "$SIM_ERR" | tail -1)
  SV_ORDER_ARGS="-t 0" sv_expected 41 "$snap" $((final - snap)) --reorder 0 >"$r/expected.jsonl"
  cmp=$(sv_compare "$r/expected.jsonl" "$r/out.jsonl" | head -1) || { echo "$name: $cmp" >&2; return 1; }
  [[ $cmp =~ ([0-9]+)\ expected,\ ([0-9]+)\ received,\ ([0-9]+)\ missing,\ ([0-9]+)\ dup ]]
  expected=${BASH_REMATCH[1]} outputs=${BASH_REMATCH[2]} missing=${BASH_REMATCH[3]} dups=${BASH_REMATCH[4]}
}

run clean 0
clean_elapsed=$elapsed clean_outputs=$outputs clean_dups=$dups clean_expected=$expected clean_missing=$missing
run kills 1

cat <<EOF
### Supervisor: the cost of a rewind

A live session of $n realtime messages from ora-sim at $rate messages/s over TLS through
\`scripts/ora-supervise --stdout\` (checkpoints every 0.5 s, \`ora-order -t 0\`), once undisturbed
and once with \`kill -9\` of each stage in turn, one second apart. Recovery is the time from the
kill until, the pipeline having been restarted, the committed checkpoint moves: the restart delay
(1 s), reconnect and TLS, replay from the checkpoint and the next checkpoint. Single run of each.

Outputs are compared with those the rules require, computed offline for the same snapshot
point (\`ora-sim --dump | ora-rec wire | ora-deframe | ora-order | ora-actors | kinesis-put --stdout\`).

| run | time to the last checkpoint (s) | vs undisturbed | outputs required | received | missing | duplicates | duplicate ratio |
|---|---:|---:|---:|---:|---:|---:|---:|
| undisturbed | $clean_elapsed | 1.00 | $clean_expected | $clean_outputs | $clean_missing | $clean_dups | $(ratio "$clean_dups" "$clean_expected") |
| 5 × kill -9 | $elapsed | $(ratio "$elapsed" "$clean_elapsed") | $expected | $outputs | $missing | $dups | $(ratio "$dups" "$expected") |

| stage killed | recovery (s) |
|---|---:|
EOF
for s in connect deframe order actors put; do echo "| $s | ${recov[$s]} |"; done
echo
