#!/usr/bin/env bats
# Clean stop: SIGTERM in the middle of a session drains the real pipeline
# (ora-connect stops, every stage finishes its input, ora-actors writes its
# last checkpoint, kinesis-put flushes and commits it): exit 0, the checkpoint
# is committed, and the next --once run resumes from it with nothing missing.

load lib/pipeline

@test "stop: SIGTERM mid-stream exits 0 with the checkpoint committed; --once resumes with nothing missing" {
  local n=20000
  export SV_ORDER_ARGS="-t 0" SV_CKPT_INTERVAL=60   # only the drain writes a checkpoint
  kinesalite_start
  kinesis_create_stream stop 2
  sim_start --seed 31 --rate 2500 --max-messages "$n" --reorder 0 --ping-interval 1
  sv_real_env stop
  head0=$(sv_sim_head0)
  final=$((head0 + n))
  sv_start
  # mid-stream: some realtime messages went through
  sv_wait_log 'caught up at offset' 30
  sleep 2
  kill -TERM "$SV_PID"
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  grep -q 'draining (SIGTERM)' "$SV_LOG"
  grep -q 'drained cleanly' "$SV_LOG"
  # the source first; the others end as their input ends (a stage may close
  # its output a moment before it exits, so their order is not pinned)
  run grep -oE 'supervise: (connect|deframe|order|actors|put) finished' "$SV_LOG"
  assert_line --index 0 'supervise: connect finished'
  [ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "$(printf 'supervise: %s finished\n' actors connect deframe order put | tr '\n' ' ')" ]
  w1=$(sv_checkpoint)
  echo "# stopped at checkpoint $w1 of $final" >&3
  [ "$w1" -gt "$head0" ]
  [ "$w1" -lt "$final" ]
  # the state ora-actors wrote for it is there
  [ -s "$ORA_STATE_DIR/actors/actors-$(printf '%020d' "$w1").state" ]
  # everything up to the checkpoint is already in Kinesis
  snap=$(sv_sim_snapshot)
  sv_expected 31 "$snap" $((w1 - snap)) --reorder 0 >expected1.jsonl
  kinesis_read_all stop >got1.jsonl
  run sv_compare expected1.jsonl got1.jsonl
  echo "# at the stop: $output" >&3
  assert_success

  # let the server finish the session, then catch up from cron
  for ((i = 0; i < 200; i++)); do
    [ "$(wc -l <"$SIM_LOG")" -ge "$final" ] && break
    sleep 0.1
  done
  SV_LOG=$BATS_TEST_TMPDIR/once.log sv_start --once
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  grep -q "replay from offset $w1 requested" "$SIM_ERR"
  [ "$(sv_checkpoint)" -eq "$final" ]
  [ "$(grep -c 'snapshot of' "$SIM_ERR")" -eq 1 ]
  sv_expected 31 "$snap" $((final - snap)) --reorder 0 >expected.jsonl
  kinesis_read_all stop >got.jsonl
  run sv_compare expected.jsonl got.jsonl
  echo "# after --once: $output" >&3
  assert_success
}

@test "stop: SIGTERM while the pipeline waits to restart exits 0 and leaves the checkpoint alone" {
  export SV_CTL=$BATS_TEST_TMPDIR/ctl ORA_BIN_DIR=$FIXTURES/supervise
  export ORA_STATE_DIR=$BATS_TEST_TMPDIR/state ORA_RESTART_DELAY=5 SV_SLEEP=0.05
  mkdir -p "$SV_CTL" "$ORA_STATE_DIR"
  echo 42 >"$ORA_STATE_DIR/checkpoint"
  sv_start
  sv_wait_log 'start connect'
  echo 3 >"$SV_CTL/die.order"
  sv_wait_log 'restarting the pipeline in 5 s'
  kill -TERM "$SV_PID"
  sv_wait_exit 10
  [ "$sv_status" -eq 0 ]
  grep -q 'stop (SIGTERM) while waiting to restart' "$SV_LOG"
  [ "$(sv_checkpoint)" -ge 42 ]
}
