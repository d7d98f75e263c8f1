#!/usr/bin/env bats
# Chaos: while ora-sim streams a session and injects faults (a stall without
# pings, a dropped connection, a corrupt member), every stage of the
# supervised pipeline is killed with SIGKILL several times at random moments
# (ora-actors while it writes a checkpoint when one can be caught,
# kinesis-put with requests in flight). At the end every output the rules
# require is in Kinesis at least once, the checkpoint reached the end of the
# session, and the duplicate ratio is printed. A crash-looping stage makes the
# supervisor give up with the tally.
# SV_CHAOS_MESSAGES (default 60000) and SV_CHAOS_KILLS (per stage, default 3)
# scale it; ORA_LONG_TESTS=1 runs a longer soak.

load lib/pipeline

teardown() {
  [ -z "${SV_KEEP_DIR-}" ] || cp "${SV_LOG:-/dev/null}" "${SIM_ERR:-/dev/null}" "$SV_KEEP_DIR/" 2>/dev/null || true
  pipeline_teardown
}

# chaos_kill NAME: SIGKILL the running stage NAME. For ora-actors, first waits
# (up to 2 s) for its checkpoint writer (a forked child) to be at work.
chaos_kill() {
  local s=$1 p end i
  p=$(sv_stage_pid "$s")
  if [[ $s == actors ]]; then
    end=$(( ${EPOCHREALTIME/./} + 3000000 ))
    while (( ${EPOCHREALTIME/./} < end )); do
      pgrep -P "$p" >/dev/null 2>&1 && { ckpt_caught=$((ckpt_caught + 1)); break; }
    done
  fi
  local before
  before=$(sv_count 'supervise: [a-z]+ died')
  kill -KILL "$p" 2>/dev/null || echo "# chaos: $s (pid $p) had already ended" >&3
  # until the supervisor has seen it (the next kill must find the new pids)
  for ((i = 0; i < 100; i++)); do
    [ "$(sv_count 'supervise: [a-z]+ died')" -gt "$before" ] && return 0
    sleep 0.1
  done
}

# Waits until the pipeline has been started again after every death.
wait_running() {
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(sv_count 'supervise: start connect')" -gt "$(sv_count 'supervise: [a-z]+ died')" ] && return 0
    sleep 0.1
  done
  echo "pipeline did not restart" >&2
  tail -20 "$SV_LOG" >&2
  return 1
}

# chaos_start STREAM SHARDS SEED N [RATE]: STREAM with SHARDS shards, ora-sim with
# SEED sending N messages at RATE/s (2000) in order, and the supervised real
# pipeline started; sets head0 (the sim's first offset) and final (head0 + N).
chaos_start() {
  kinesis_create_stream "$1" "$2"
  sim_start --seed "$3" --rate "${5:-2000}" --max-messages "$4" --reorder 0 --ping-interval 1
  sv_real_env "$1"
  export ORA_ORDER_ARGS="-t 0"
  head0=$(sv_sim_head0)
  final=$((head0 + $4))
  sv_start
}

# chaos_drain: once the checkpoint reaches final, SIGTERM drains the
# pipeline, which exits 0.
chaos_drain() {
  sv_wait_checkpoint "$final" 240
  kill -TERM "$SV_PID"
  sv_wait_exit 90
  [ "$sv_status" -eq 0 ]
}

# chaos_compare STREAM SEED: what STREAM holds against the outputs the rules
# require of the sim's session (SEED, from its snapshot to final), with
# run sv_compare: $status and its verdict in $output.
chaos_compare() {
  snap=$(sv_sim_snapshot)
  sv_expected "$2" "$snap" $((final - snap)) --reorder 0 >expected.jsonl
  kinesis_read_all "$1" >got.jsonl
  run sv_compare expected.jsonl got.jsonl
}

@test "chaos: kill -9 of every stage, several times, under sim faults: nothing lost" {
  local n=${SV_CHAOS_MESSAGES:-60000} kills=${SV_CHAOS_KILLS:-3} rate=${SV_CHAOS_RATE:-2000}
  if [ "${ORA_LONG_TESTS:-0}" = 1 ]; then n=${SV_CHAOS_MESSAGES:-300000} kills=${SV_CHAOS_KILLS:-10}; fi
  export SV_ORDER_ARGS="-t 0"
  kinesalite_start
  kinesis_create_stream chaos 2
  sim_start --seed 23 --rate "$rate" --max-messages "$n" --reorder 0 --ping-interval 1 --pong-timeout 3 \
    --fault-once --drop-after-bytes 120000 --stall-after 2500 --corrupt-after 4000
  sv_real_env chaos
  export ORA_CONNECT_ARGS="--ping-timeout 3 --backoff-min 0.1 --backoff-max 1"
  export ORA_RESTART_MAX=$((kills + 3)) ORA_RESTART_WINDOW=600 ORA_RESTART_DELAY_MAX=2 ORA_HEALTHY_AFTER=5
  export ORA_DRAIN_TIMEOUT=60
  sv_start
  head0=$(sv_sim_head0)
  final=$((head0 + n))
  # the first checkpoint: after it every restart replays from a checkpoint
  sv_wait_checkpoint 1 60
  ckpt_caught=0
  plan=()
  for ((k = 0; k < kills; k++)); do plan+=(connect deframe order actors put); done
  plan=($(printf '%s\n' "${plan[@]}" | shuf))
  for s in "${plan[@]}"; do
    wait_running
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (r % 1000) / 500 }')"
    chaos_kill "$s"
  done
  wait_running
  chaos_drain
  [ "$(sv_checkpoint)" -eq "$final" ]
  deaths=$(sv_count 'supervise: [a-z]+ died')
  # no death but ours
  grep 'supervise: [a-z]* died' "$SV_LOG" | grep -v 'died (signal KILL)' >&3 || true
  [ "$(sv_count 'supervise: [a-z]+ died \(signal KILL\)')" -eq "$deaths" ]
  snap=$(sv_sim_snapshot)
  sv_expected 23 "$snap" $((final - snap)) --reorder 0 >expected.jsonl
  # a snapshot cut short before the first checkpoint (the sim's dropped
  # connection can fall in it) is taken again: what the first could have
  # produced is tolerated, not required
  also=()
  for s in $(sed -nE 's/.*snapshot of [0-9]+ messages at offset ([0-9]+).*/\1/p' "$SIM_ERR" | sed '$d'); do
    sv_expected 23 "$s" $((final - s)) --reorder 0 >"also.$s.jsonl"
    also+=(--also "also.$s.jsonl")
  done
  kinesis_read_all chaos >got.jsonl
  [ -z "${SV_KEEP_DIR-}" ] || cp expected.jsonl got.jsonl "$SV_LOG" "$SIM_ERR" "$SV_KEEP_DIR/"
  run sv_compare expected.jsonl got.jsonl "${also[@]}"
  # the sim's faults fired (each once): a drop, a stall, a corrupt member
  faults=$(grep -cE ': fault ' "$SIM_ERR" || true)
  echo "# chaos: $n messages, $deaths kills ($ckpt_caught of ora-actors during a checkpoint), $faults sim faults, $(grep -c 'replay from' "$SIM_ERR") replays, $(grep -c 'snapshot of' "$SIM_ERR") snapshot(s); $output" >&3
  assert_success
  [ "$faults" -ge 3 ]
}

@test "chaos: a crash-looping stage makes the supervisor give up with the tally" {
  # nothing listens on the ORA port: ora-connect gives up (69) after one attempt
  PKI_DIR=${PKI_DIR:-}
  [ -n "$PKI_DIR" ] || pki_setup
  export SIM_PORT=$(free_port) SIM_AUTH_URL="https://127.0.0.1:$(free_port)/auth" KINESIS_ENDPOINT=http://127.0.0.1:9
  sv_real_env nowhere
  export ORA_STDOUT=1
  export ORA_CONNECT_ARGS="--max-attempts 1 --backoff-min 0.1 --backoff-max 0.1 --connect-timeout 1"
  export ORA_RESTART_MAX=3 ORA_RESTART_WINDOW=60 ORA_RESTART_DELAY_MAX=1
  sv_start
  sv_wait_exit 60
  [ "$sv_status" -eq 70 ]
  grep -q 'giving up: connect died 3 times in 60 s' "$SV_LOG"
  [ "$(sv_count 'supervise: tally: [0-9T:-]+Z connect exit 69$')" -eq 3 ]
  # the other stages were stopped, not left behind
  for s in deframe order actors put; do
    p=$(sv_stage_pid "$s")
    if kill -0 "$p" 2>/dev/null; then fail "stage $s (pid $p) still runs"; fi
  done
}

# ---- the supervisor itself, Kinesis, a stopped stage (issue 18)

@test "chaos: kill -9 of the supervisor mid-stream: no old process within 2 s, the next run replays from the checkpoint, nothing lost" {
  local n=${SV_CHAOS_MESSAGES:-24000} rate=2000
  export SV_ORDER_ARGS="-t 0"
  kinesalite_start
  export ORA_RESTART_DELAY_MAX=2
  chaos_start svkill 2 29 "$n" "$rate"
  sv_wait_checkpoint $((head0 + 2000)) 90
  groups=$(cat "$ORA_STATE_DIR/ora-supervise.groups")
  pids=$(awk '$1 == "stage" { print $3 }' <<<"$groups")
  [ "$(wc -w <<<"$pids")" -eq 5 ] || fail "groups: $groups"
  kill -KILL "$SV_PID"
  t=$(sv_wait_gone 2 $pids) || fail "old stages outlived the supervisor by more than 2 s"
  # nothing of the recorded process groups is left either
  sleep 0.5
  for p in $pids; do
    left=$(ps -o pid= -g "$p" 2>/dev/null | tr -d ' ' | while read -r q; do sv_gone "$q" || echo "$q"; done)
    [ -z "$left" ] || fail "group $p still has $left"
  done
  w=$(sv_checkpoint)
  echo "# supervisor killed at checkpoint $w; its stages gone after $t s" >&3
  # the same configuration again
  SV_LOG=$BATS_TEST_TMPDIR/sv2.log
  sv_start
  sv_wait_log "start connect" 20
  sv_wait_checkpoint $((w + 1)) 90
  grep -q "replay from offset $w requested" "$SIM_ERR" || fail "no replay from $w: $(grep -E 'replay from|snapshot of' "$SIM_ERR")"
  [ "$(grep -c 'snapshot of' "$SIM_ERR")" -eq 1 ] || fail "a second snapshot"
  chaos_drain
  chaos_compare svkill 29
  echo "# kill -9 of the supervisor: $output" >&3
  assert_success
  # As after a stage's crash, what is sent again is what had reached Kinesis
  # after the committed checkpoint: at most the outputs of a few seconds
  # (checkpoints every 0.5 s; the kill a moment after the last one).
  d=$(sed -nE '1s/.* ([0-9]+) duplicates.*/\1/p' <<<"$output")
  e=$(sed -nE '1s/^outputs: ([0-9]+) expected.*/\1/p' <<<"$output")
  bound=$((e * rate * 4 / n))
  (( d <= bound )) || fail "$d duplicates: more than the outputs of 4 s ($bound)"
}

@test "chaos: Kinesis down for several seconds: the checkpoint waits, everything is delivered afterwards" {
  local n=16000 port
  export SV_ORDER_ARGS="-t 0"
  port=$(free_port)
  sv_kinesalite_start "$port" "$BATS_TEST_TMPDIR/kdata"
  chaos_start outage 2 37 "$n"
  sv_wait_checkpoint $((head0 + 1000)) 90
  kill -TERM "$KINESALITE_PID"
  wait "$KINESALITE_PID" || true
  KINESALITE_PID=""
  sleep 1
  w1=$(sv_checkpoint)
  sleep 5
  w2=$(sv_checkpoint)
  [ "$w1" = "$w2" ] || fail "the checkpoint moved from $w1 to $w2 while Kinesis was down"
  sv_kinesalite_start "$port" "$BATS_TEST_TMPDIR/kdata"
  chaos_drain
  [ "$(sv_count 'died')" -eq 0 ] || fail "a stage died during the outage: $(grep -E 'died|error' "$SV_LOG" | head -5)"
  chaos_compare outage 37
  echo "# Kinesis down 6 s at checkpoint $w1: $(grep -c 'put: .*warn' "$SV_LOG") warnings from kinesis-put; $output" >&3
  assert_success
}

@test "chaos: a stage stopped (SIGSTOP) for 5 s and continued: no rewind, no restart, nothing lost" {
  local n=12000
  export SV_ORDER_ARGS="-t 0"
  kinesalite_start
  chaos_start stopped 1 41 "$n"
  sv_wait_checkpoint $((head0 + 1000)) 90
  p=$(sv_stage_pid actors)
  kill -STOP "$p"
  sv_wait_log "actors \(pid $p\) is stopped; the watchdog kills it after 60 s" 5
  sleep 5
  kill -CONT "$p"
  sv_wait_log "actors \(pid $p\) continues after [0-9]+ s stopped" 5
  chaos_drain
  [ "$(sv_count 'died|rewinding|restarting')" -eq 0 ] || fail "a rewind: $(grep -E 'died|rewinding' "$SV_LOG")"
  [ "$(sv_count 'supervise: start connect')" -eq 1 ]
  chaos_compare stopped 41
  echo "# ora-actors stopped 5 s: $output" >&3
  assert_success
}
