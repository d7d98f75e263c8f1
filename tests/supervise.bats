#!/usr/bin/env bats
# scripts/ora-supervise: the supervisor core, with stand-in stages
# (tests/fixtures/supervise/stage) instead of the real tools.

load helper
load lib/supervise

setup() {
  export SV_CTL=$BATS_TEST_TMPDIR/ctl
  mkdir -p "$SV_CTL"
  export ORA_BIN_DIR=$FIXTURES/supervise
  export ORA_STATE_DIR=$BATS_TEST_TMPDIR/state
  export ORA_RESTART_DELAY_MAX=2
  unset SV_END SV_SLEEP ORA_LOG_DIR ORA_CHECKPOINT ORA_STDOUT
  cd "$BATS_TEST_TMPDIR"
}

teardown() { sv_stop; }

# Every number 1..$1 is in the output of the stand-in kinesis-put.
all_present() {
  local missing
  missing=$(comm -23 <(seq 1 "$1" | sort) <(sort -u "$SV_CTL/out"))
  [[ -z $missing ]] || { echo "missing: $(echo $missing | head -c 300)" >&2; return 1; }
}

@test "--help prints the usage and exits 0; --version" {
  run ora-supervise --help
  assert_success
  assert_line --index 0 --partial "usage: ora-supervise [-c FILE]"
  assert_output --partial "--once"
  run ora-supervise --version
  assert_success
  assert_output --regexp '^ora-supervise [0-9]'
}

@test "bad usage exits 64 with one error line" {
  run ora-supervise --bogus
  assert_failure 64
  assert_line --index 0 "ora-supervise: error: unknown option --bogus"
  run ora-supervise --duration abc
  assert_failure 64
  run ora-supervise extra-arg
  assert_failure 64
  run ora-supervise -c
  assert_failure 64
}

@test "configuration: file over environment, options over file; bad files exit 78" {
  cat >conf <<'EOF'
# a comment
ORA_HOST=ora.example.com
PORT=7443
ORA_OFFERINGS="kambi,ub"
ORA_STREAM='probabilities'   # trailing comment
ORA_ACTORS_ARGS=--pending-ttl 60
EOF
  ORA_HOST=ignored ORA_CERT=/c.pem run ora-supervise -c conf --state-dir sd --print
  assert_success
  assert_line --partial "connect: $FIXTURES/supervise/ora-connect --host ora.example.com --port 7443 --cert /c.pem --offering kambi --offering ub --checkpoint sd/checkpoint"
  assert_line "deframe: $FIXTURES/supervise/ora-deframe"
  assert_line "actors: $FIXTURES/supervise/ora-actors --checkpoint sd/checkpoint --state-dir sd/actors --pending-ttl 60"
  assert_line "put: $FIXTURES/supervise/kinesis-put --stream probabilities --checkpoint sd/checkpoint"
  run ora-supervise -c conf --stdout --print
  assert_line "put: $FIXTURES/supervise/kinesis-put --stdout --checkpoint $ORA_STATE_DIR/checkpoint"
  run ora-supervise --from cap.rec --print
  refute_line --partial "connect:"
  assert_line "deframe: $FIXTURES/supervise/ora-deframe -i cap.rec"
  echo 'NO_SUCH_KEY=1' >bad
  run ora-supervise -c bad --print
  assert_failure 78
  assert_output --partial "unknown setting NO_SUCH_KEY"
  echo 'just words' >bad
  run ora-supervise -c bad --print
  assert_failure 78
  assert_output --partial "bad:1: expected KEY=value"
  run ora-supervise -c missing.conf --print
  assert_failure 78
  ORA_RESTART_MAX=x run ora-supervise --print
  assert_failure 78
  ORA_BIN_DIR=/nonexistent run ora-supervise --once
  assert_failure 78
  assert_output --partial "unable to find stage"
}

@test "--once: consumers start first, every line arrives, exit 0, checkpoint at the end" {
  export SV_END=40
  sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  run grep -oE 'supervise: start [a-z]+' "$SV_LOG"
  assert_output "$(printf 'supervise: start %s\n' put actors order deframe connect)"
  all_present 40
  [ "$(cat "$ORA_STATE_DIR/checkpoint")" = 40 ]
  # drained in pipeline order
  # the source first; the others end as their input ends (a stage may close
  # its output a moment before it exits, so their order is not pinned)
  run grep -oE 'supervise: (connect|deframe|order|actors|put) finished' "$SV_LOG"
  assert_line --index 0 'supervise: connect finished'
  [ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "$(printf 'supervise: %s finished\n' actors connect deframe order put | tr '\n' ' ')" ]
  grep -q 'drained cleanly' "$SV_LOG"
  # stages get their own descriptors only, and their own process group
  run cat "$SV_CTL/args.connect"
  assert_output "--checkpoint $ORA_STATE_DIR/checkpoint --once"
}

@test "stage stderr is logged line by line with time and stage name" {
  export SV_END=5
  sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  run grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z order: order: info: started pid [0-9]+$' "$SV_LOG"
  assert_success
  run grep -E '^[0-9T:.-]+Z supervise: start put \(pid [0-9]+\)' "$SV_LOG"
  assert_success
  run grep -E '^[0-9T:.-]+Z put: put: summary: 5 lines$' "$SV_LOG"
  assert_success
  # and into a log directory instead of stderr
  SV_LOG=$BATS_TEST_TMPDIR/sv2.log
  sv_start --once --log-dir logs
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  [ ! -s "$SV_LOG" ]
  grep -Eq 'Z connect: connect: info: caught up at 5$' logs/ora-supervise.log
}

@test "kill -9 of a stage: the pipeline rewinds to the checkpoint, nothing lost, neighbours never see EOF" {
  export SV_END=150 SV_SLEEP=0.01
  sv_start --once
  for s in deframe actors put order; do
    sv_wait_log "start connect"
    sleep 0.3
    kill -KILL "$(sv_stage_pid $s)"
    sv_wait_log "$s died \(signal KILL\)"
    until [ "$(sv_count 'start connect')" -gt "$(sv_count 'died')" ]; do sleep 0.1; done
  done
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  all_present 150
  [ "$(sv_count 'rewinding to the committed checkpoint')" -eq 4 ]
  [ "$(grep -c . "$SV_CTL/starts")" -eq 25 ]
  # only the final drain let stages see end of input
  [ "$(sv_count 'put: put: info: end of input')" -eq 1 ]
  [ "$(sv_count 'order: order: info: end of input')" -eq 1 ]
  run cat "$SV_CTL/out"
  echo "duplicates: $(( $(wc -l <"$SV_CTL/out") - 150 ))" >&3
}

@test "a crash loop: restart delays grow and are capped, then it gives up with the tally, exit 70" {
  echo 3 >"$SV_CTL/crash.order"
  export ORA_RESTART_MAX=4 ORA_RESTART_WINDOW=60 ORA_RESTART_DELAY_MAX=2
  sv_start
  sv_wait_exit 40
  [ "$sv_status" -eq 70 ]
  run grep -oE 'restarting the pipeline in [0-9]+ s' "$SV_LOG"
  assert_output "$(printf 'restarting the pipeline in %s s\n' 1 2 2)"
  grep -q 'giving up: order died 4 times in 60 s' "$SV_LOG"
  grep -Eq 'supervise: summary: mode run, [0-9]+ s, 4 start\(s\) of the pipeline, 4 death\(s\), connect 0, deframe 0, order 4, actors 0, put 0; checkpoint none$' "$SV_LOG"
  [ "$(sv_count 'supervise: tally: [0-9T:-]+Z order exit 3$')" -eq 4 ]
  grep -q 'tally: 4 death' "$SV_LOG"
  # every stage was stopped
  for s in connect deframe order actors put; do
    if kill -0 "$(cat "$SV_CTL/pid.$s")" 2>/dev/null; then fail "stage $s still runs"; fi
  done
}

@test "the restart delay resets after a healthy run" {
  export SV_SLEEP=0.05 ORA_HEALTHY_AFTER=2 ORA_RESTART_DELAY_MAX=8
  sv_start
  sv_wait_log 'start connect'
  echo 5 >"$SV_CTL/die.deframe"
  sv_wait_log 'restarting the pipeline in 1 s \(deframe: 1 quick'
  until [ "$(sv_count 'start connect')" -ge 2 ]; do sleep 0.1; done
  echo 5 >"$SV_CTL/die.deframe"          # dies again at once: a quick death
  sv_wait_log 'restarting the pipeline in 2 s \(deframe: 2 quick'
  until [ "$(sv_count 'start connect')" -ge 3 ]; do sleep 0.1; done
  sleep 2.5                               # healthy for longer than ORA_HEALTHY_AFTER
  echo 5 >"$SV_CTL/die.deframe"
  sv_wait_log 'deframe died \(exit 5\) after [2-9] s'
  sv_wait_log 'restarting the pipeline in 1 s \(deframe: 1 quick death\(s\) in a row\)$' 10
  [ "$(sv_count 'restarting the pipeline in 1 s')" -eq 2 ]
}

@test "death by SIGPIPE is a failure: logged, counted, the pipeline rewinds" {
  export SV_END=30
  touch "$SV_CTL/sigpipe.actors"
  sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  grep -q 'actors died (signal PIPE)' "$SV_LOG"
  grep -q 'rewinding to the committed checkpoint' "$SV_LOG"
  all_present 30
}

@test "a stage exiting 0 while the pipeline runs is a death too" {
  export SV_SLEEP=0.05
  echo 0 >"$SV_CTL/die.actors"
  sv_start
  sv_wait_log 'actors died \(exit 0\)'
  sv_wait_log 'restarting the pipeline'
}

@test "a usage or configuration error of a stage stops at once with exit 78" {
  echo 78 >"$SV_CTL/crash.put"
  sv_start
  sv_wait_exit 20
  [ "$sv_status" -eq 78 ]
  grep -q 'giving up: put reports a usage or configuration error (exit 78)' "$SV_LOG"
  [ "$(sv_count 'supervise: start put')" -eq 1 ]
}

@test "--once takes a lock: a second run on the same state directory exits 75" {
  export SV_SLEEP=0.05
  sv_start --once
  sv_wait_log 'start connect'
  run ora-supervise --once
  assert_failure 75
  assert_output --partial "another ora-supervise runs on this state directory"
  # a different state directory is fine
  SV_END=3 run ora-supervise --once --state-dir other
  assert_success
}

@test "SIGTERM drains: exit 0, checkpoint committed, the next --once resumes with nothing missing" {
  export SV_SLEEP=0.01
  sv_start
  sv_wait_log 'start connect'
  until [ -s "$SV_CTL/out" ] && [ "$(wc -l <"$SV_CTL/out")" -ge 40 ]; do sleep 0.1; done
  kill -TERM "$SV_PID"
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  grep -q 'draining (SIGTERM)' "$SV_LOG"
  # the source first; the others end as their input ends (a stage may close
  # its output a moment before it exits, so their order is not pinned)
  run grep -oE 'supervise: (connect|deframe|order|actors|put) finished' "$SV_LOG"
  assert_line --index 0 'supervise: connect finished'
  [ "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" = "$(printf 'supervise: %s finished\n' actors connect deframe order put | tr '\n' ' ')" ]
  w=$(cat "$ORA_STATE_DIR/checkpoint")
  [ "$w" -eq "$(tail -1 "$SV_CTL/out")" ]
  all_present "$w"
  SV_END=$((w + 25)) SV_LOG=$BATS_TEST_TMPDIR/sv2.log sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  all_present $((w + 25))
  [ "$(wc -l <"$SV_CTL/out")" -eq $((w + 25)) ]
}

@test "drain timeout: a source ignoring SIGTERM is killed, exit 75" {
  touch "$SV_CTL/ignoreterm.connect"
  export SV_SLEEP=0.05 ORA_DRAIN_TIMEOUT=1
  sv_start
  sv_wait_log 'start connect'
  sleep 0.3
  kill -TERM "$SV_PID"
  sv_wait_exit 20
  [ "$sv_status" -eq 75 ]
  grep -q 'drain timeout (1 s): killing what remains: connect deframe order actors put' "$SV_LOG"
  run kill -0 "$(cat "$SV_CTL/pid.connect")"
  assert_failure
}

@test "drain timeout: a stage that never exits on EOF is killed" {
  touch "$SV_CTL/hang.put"
  export SV_END=5 ORA_DRAIN_TIMEOUT=1
  sv_start --once
  sv_wait_exit 20
  [ "$sv_status" -eq 75 ]
  grep -q 'drain timeout (1 s): killing what remains: put' "$SV_LOG"
  grep -q 'actors finished (exit 0)' "$SV_LOG"
}

@test "a stage failing while draining: the run exits with its status and the tally" {
  export SV_END=20
  echo 74 >"$SV_CTL/faileof.actors"
  sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 74 ]
  grep -q 'actors failed while draining (exit 74)' "$SV_LOG"
  grep -q 'put finished (exit 0)' "$SV_LOG"
  grep -Eq 'tally: [0-9T:-]+Z actors exit 74' "$SV_LOG"
}

@test "--from FILE: the downstream stages run on a captured file and drain" {
  seq 1 25 >capture.rec
  sv_start --from capture.rec
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  all_present 25
  [ ! -e "$SV_CTL/pid.connect" ]
  run cat "$SV_CTL/args.deframe"
  assert_output "-i capture.rec"
  run ora-supervise --from missing.rec
  assert_failure 78
}

@test "SIGUSR1 asks every stage for its summary" {
  export SV_SLEEP=0.05
  sv_start
  sv_wait_log 'start connect'
  sleep 0.3
  kill -USR1 "$SV_PID"
  sv_wait_log 'supervise: summary: mode run, [0-9]+ s, 1 start\(s\) of the pipeline, 0 death\(s\), connect 0, deframe 0, order 0, actors 0, put 0; checkpoint [0-9]+; pipeline running'
  sv_wait_log 'deframe: deframe: summary: [0-9]+ lines'
  sv_wait_log 'connect: connect: summary: [0-9]+ lines'
}
