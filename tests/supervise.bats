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
  export ORA_PASS_ENV="SV_CTL SV_END SV_SLEEP"   # the stand-in's controls
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
  assert_output "ora-supervise: error: unknown option --bogus; try 'ora-supervise --help'"
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
  m() { echo "--metrics $1/metrics/$2.prom --metrics-interval 10"; }
  assert_line "connect: $FIXTURES/supervise/ora-connect --host ora.example.com --port 7443 --cert /c.pem --offering kambi --offering ub --checkpoint sd/checkpoint $(m sd connect)"
  assert_line "deframe: $FIXTURES/supervise/ora-deframe $(m sd deframe)"
  assert_line "actors: $FIXTURES/supervise/ora-actors --checkpoint sd/checkpoint --state-dir sd/actors $(m sd actors) --pending-ttl 60"
  assert_line "put: $FIXTURES/supervise/kinesis-put --stream probabilities --checkpoint sd/checkpoint $(m sd put)"
  assert_line "setting: ORA_HOST=ora.example.com"
  run ora-supervise -c conf --stdout --print
  assert_line "put: $FIXTURES/supervise/kinesis-put --stdout --checkpoint $ORA_STATE_DIR/checkpoint $(m "$ORA_STATE_DIR" put)"
  run ora-supervise --from cap.rec --print
  refute_line --partial "connect:"
  assert_line "deframe: $FIXTURES/supervise/ora-deframe -i cap.rec $(m "$ORA_STATE_DIR" deframe)"
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
  assert_output "--checkpoint $ORA_STATE_DIR/checkpoint --once --metrics $ORA_STATE_DIR/metrics/connect.prom --metrics-interval 10"
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
  assert_output "-i capture.rec --metrics $ORA_STATE_DIR/metrics/deframe.prom --metrics-interval 10"
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

# ---- when the supervisor itself dies (issue 18)

stage_pids() { local s; for s in connect deframe order actors put; do cat "$SV_CTL/pid.$s"; done; }

@test "kill -9 of the supervisor: no stage outlives it by 2 s, the lock is free, the next run resumes" {
  export SV_SLEEP=0.02
  touch "$SV_CTL/orphan.actors"   # a forked child: the guardian's to kill
  sv_start
  sv_wait_log 'start connect'
  until [ -s "$SV_CTL/out" ] && [ "$(wc -l <"$SV_CTL/out")" -ge 30 ]; do sleep 0.1; done
  pids="$(stage_pids) $(cat "$SV_CTL/orphan.actors.pid")"
  kill -KILL "$SV_PID"
  t=$(sv_wait_gone 2 $pids)
  echo "# stages and a stage's child gone $t s after kill -9 of the supervisor" >&3
  # the lock is released once the last holder (stages, guardian) is gone
  for ((i = 0; i < 30; i++)); do flock -n "$ORA_STATE_DIR/ora-supervise.lock" true && break; sleep 0.1; done
  run flock -n "$ORA_STATE_DIR/ora-supervise.lock" true
  assert_success
  w=$(cat "$ORA_STATE_DIR/checkpoint")
  SV_END=$((w + 20)) SV_LOG=$BATS_TEST_TMPDIR/sv2.log sv_start --once
  sv_wait_exit 30
  [ "$sv_status" -eq 0 ]
  all_present $((w + 20))
  # it started where the committed checkpoint was
  [ "$(sed -n 1p "$SV_CTL/out" )" = 1 ]
  grep -qx "$((w + 1))" "$SV_CTL/out"
}

@test "a new supervisor never runs beside old processes: it waits, kills the recorded groups, then starts" {
  export SV_SLEEP=0.02
  touch "$SV_CTL/orphan.put"
  sv_start
  sv_wait_log 'start connect'
  until [ -s "$SV_CTL/out" ] && [ "$(wc -l <"$SV_CTL/out")" -ge 20 ]; do sleep 0.1; done
  orphan=$(cat "$SV_CTL/orphan.put.pid")
  # without its guardian, the supervisor's death leaves the orphan (a child
  # of kinesis-put in its process group, holding the lock)
  guard=$(ps -o pid=,args= --ppid "$SV_PID" | awk '/guardian/ { print $1 }')
  [ -n "$guard" ] || fail "no guardian among the supervisor's children"
  kill -KILL "$guard" "$SV_PID"
  sv_wait_gone 3 $(stage_pids) >/dev/null
  if sv_gone "$orphan"; then fail "the orphan did not survive: the test cannot show anything"; fi
  run flock -n "$ORA_STATE_DIR/ora-supervise.lock" true
  assert_failure
  w=$(cat "$ORA_STATE_DIR/checkpoint")
  SV_LOG=$BATS_TEST_TMPDIR/sv2.log
  SV_END=$((w + 20)) sv_start --once
  sv_wait_exit 40
  [ "$sv_status" -eq 0 ]
  run cat "$SV_LOG"
  assert_output --partial "its processes still hold the lock; waiting up to 5 s"
  assert_output --regexp "killed the process groups left by the old supervisor: put\([0-9]+\)"
  sv_gone "$orphan" || fail "the orphan $orphan still runs"
  all_present $((w + 20))
}

@test "the lock names its holder: a second run says whose pid holds it and since when" {
  export SV_SLEEP=0.05
  sv_start
  sv_wait_log 'start connect'
  run ora-supervise --once
  assert_failure 75
  assert_output --regexp "held by ora-supervise pid $SV_PID, running since 20[0-9-]+T[0-9:]+Z"
}

@test "SIGSTOP shorter than the watchdog changes nothing; longer, the stage is killed and the pipeline rewinds" {
  # the watchdog counts from when it sees the stop (once a second): 6 s
  # leave room for a loaded machine between the stop and the continue
  export SV_SLEEP=0.02 ORA_WATCHDOG=6
  sv_start
  sv_wait_log 'start connect'
  p=$(sv_stage_pid deframe)
  kill -STOP "$p"
  sv_wait_log "deframe \(pid $p\) is stopped; the watchdog kills it after 6 s"
  sleep 1
  kill -CONT "$p"
  sv_wait_log "deframe \(pid $p\) continues after [0-9] s stopped"
  [ "$(sv_count 'died')" -eq 0 ]
  [ "$(sv_count 'start connect')" -eq 1 ]
  kill -STOP "$p"
  sv_wait_log "watchdog: deframe \(pid $p\) stopped for [0-9]+ s; killing it" 30
  sv_wait_log "deframe died \(signal KILL by the watchdog, stopped for [0-9]+ s\)"
  sv_wait_log 'restarting the pipeline'
  until [ "$(sv_count 'start connect')" -ge 2 ]; do sleep 0.1; done
  # it waited the watchdog's time, not less
  run grep -oE 'watchdog: deframe \(pid [0-9]+\) stopped for [0-9]+ s' "$SV_LOG"
  [ "$(grep -oE '[0-9]+ s$' <<<"$output" | cut -d' ' -f1)" -ge 6 ]
}

# ---- metrics and --status (issue 17)

@test "supervise.prom: valid (promtool), restarts per stage, state, last rewind; stages get --metrics in ORA_METRICS_DIR" {
  export SV_SLEEP=0.02 ORA_METRICS_DIR=$BATS_TEST_TMPDIR/metrics ORA_METRICS_INTERVAL=1
  sv_start
  sv_wait_log 'start connect'
  sleep 1.5
  f=$ORA_METRICS_DIR/supervise.prom
  run promtool check metrics <"$f"
  assert_success
  grep -qx 'ora_supervise_state{stage="supervise",state="running"} 1' "$f"
  grep -qx 'ora_supervise_restarts_total{stage="supervise",target="order"} 0' "$f"
  grep -qx 'ora_supervise_last_rewind_time_seconds{stage="supervise"} 0' "$f"
  grep -qx "ora_process_id{stage=\"supervise\"} $SV_PID" "$f"
  [ -s "$ORA_METRICS_DIR/deframe.prom" ]
  grep -q -- "--metrics $ORA_METRICS_DIR/order.prom --metrics-interval 1" "$SV_CTL/args.order"
  t0=$EPOCHSECONDS
  kill -KILL "$(sv_stage_pid order)"
  sv_wait_log 'restarting the pipeline'
  until [ "$(sv_count 'start connect')" -ge 2 ]; do sleep 0.1; done
  sleep 1.5
  run promtool check metrics <"$f"
  assert_success
  grep -qx 'ora_supervise_restarts_total{stage="supervise",target="order"} 1' "$f"
  r=$(sed -n 's/^ora_supervise_last_rewind_time_seconds{stage="supervise"} //p' "$f")
  [ "$r" -ge "$t0" ] || fail "last rewind $r before the kill at $t0"
  kill -TERM "$SV_PID"
  sv_wait_exit 30
  grep -qx 'ora_supervise_state{stage="supervise",state="stopped"} 1' "$f"
  grep -qx 'ora_supervise_giveups_total{stage="supervise"} 0' "$f"
}

@test "--status: a table of the stages; exit 0 when healthy, 75 when not progressing, 69 when not running" {
  export SV_SLEEP=0.02 ORA_METRICS_INTERVAL=1 ORA_RESTART_DELAY=30 ORA_RESTART_DELAY_MAX=30
  run ora-supervise --status
  assert_failure 69
  assert_output --partial "not running: no supervisor has run here"
  sv_start
  sv_wait_log 'start connect'
  until [ -s "$ORA_STATE_DIR/checkpoint" ] && [ -s "$ORA_STATE_DIR/metrics/put.prom" ]; do sleep 0.1; done
  run ora-supervise --status
  echo "$output" >&3
  assert_success
  assert_line --regexp "^ora-supervise pid $SV_PID, running since "
  assert_line --regexp '^checkpoint [0-9]+, committed [0-9]+s ago$'
  assert_line --regexp "^deframe +$(sv_stage_pid deframe) +[0-9]+s +0  [0-9.k]+ msg/s"
  assert_line --regexp "^put +$(sv_stage_pid put) +[0-9]+s +0  [0-9.k]+ rec/s"
  assert_line healthy
  # a death: the pipeline waits 30 s to restart, which is no progress
  kill -KILL "$(sv_stage_pid actors)"
  sv_wait_log 'restarting the pipeline in 30 s'
  sleep 1.2
  run ora-supervise --status
  assert_failure 75
  assert_line --regexp '^actors +- +- +1 '
  assert_line "not making progress: the pipeline is rewinding"
  kill -TERM "$SV_PID"
  sv_wait_exit 30
  run ora-supervise --status
  assert_failure 69
  assert_output --partial "not running: the last supervisor (pid $SV_PID"
}

# ---- cron that speaks (issue 14)

@test "--once-timeout: no progress gives up with exit 75 naming the cause, on stderr even with --log-dir" {
  echo 'unable to fetch a token: auth server https://x/auth: Failed to connect to x port 1: Connection refused' >"$SV_CTL/stall.connect"
  SV_LOG=$BATS_TEST_TMPDIR/err sv_start --once --once-timeout 2 --log-dir logs
  sv_wait_exit 30
  [ "$sv_status" -eq 75 ]
  run cat "$BATS_TEST_TMPDIR/err"
  assert_line --regexp '^ora-supervise: error: exit 75: giving up after 2 s without progress \(--once-timeout\): cannot reach the server: connection refused \(connect: warning: unable to fetch a token'
  assert_line --regexp '^ora-supervise: last from connect: connect: warning: unable to fetch'
  assert_line "ora-supervise: log: logs/ora-supervise.log"
  refute_output --partial 'lock'
  # ORA_ONCE_TIMEOUT is the same setting; a TLS failure is named as such
  echo 'unable to fetch a token: auth server https://x/auth not trusted: SSL certificate problem' >"$SV_CTL/stall.connect"
  ORA_ONCE_TIMEOUT=1 run ora-supervise --once
  assert_failure 75
  assert_output --partial 'without progress (--once-timeout): TLS'
}

@test "a failing run with --log-dir still tells stderr why: the reason, the tally, the last error" {
  echo 78 >"$SV_CTL/crash.put"
  SV_LOG=$BATS_TEST_TMPDIR/err sv_start --once --log-dir logs
  sv_wait_exit 20
  [ "$sv_status" -eq 78 ]
  run cat "$BATS_TEST_TMPDIR/err"
  assert_line 'ora-supervise: error: exit 78: giving up: put reports a usage or configuration error (exit 78); restarting cannot help'
  assert_line --regexp '^ora-supervise: tally: [0-9T:-]+Z put exit 78$'
  assert_line 'ora-supervise: last from put: put: error: crashing on purpose'
  # and a clean run prints nothing at all (cron mails only failures)
  rm -f "$SV_CTL/crash.put"
  SV_END=5 run ora-supervise --once --log-dir logs
  assert_success
  assert_output ""
}

@test "logs: the log file is 0640 in a 0750 directory; an existing log is narrowed" {
  export SV_END=3
  run ora-supervise --once --log-dir logs
  assert_success
  [ "$(stat -c %a logs)" = 750 ]
  [ "$(stat -c %a logs/ora-supervise.log)" = 640 ]
  mkdir -p l2 && touch l2/ora-supervise.log && chmod 666 l2/ora-supervise.log
  run ora-supervise --once --log-dir l2
  assert_success
  [ "$(stat -c %a l2/ora-supervise.log)" = 640 ]
}

# ---- secrets (issue 15)

@test "each stage gets only its environment: AWS_* to kinesis-put, the auth URL to ora-connect, never in argv" {
  export SV_END=5 ORA_AUTH_URL='https://user:pa55word@auth.example/auth?api_key=K3YK3Y'
  export AWS_SECRET_ACCESS_KEY=S3CR3TS3CR3T AWS_SESSION_TOKEN=T0K3NT0K3N ORA_PING_TIMEOUT=7 UNRELATED_SECRET=xyzzy
  export ORA_CONNECT_ARGS='--auth-url=https://u2:pw2pw2@h/x?k=v2v2v2'
  xfun() { echo xyzzy; }
  export -f xfun
  run ora-supervise --once
  assert_success
  for s in connect deframe order actors put; do
    e=$SV_CTL/env.$s
    [ -s "$e" ] || fail "no env.$s"
    grep -q '^ORA_LOG=info$' "$e" || fail "$s lacks ORA_LOG"
    grep -q '^ORA_PING_TIMEOUT=7$' "$e" || fail "$s lacks a stage tuning variable"
    if grep -q 'xyzzy' "$e"; then fail "$s has an unrelated variable"; fi
    if grep -q '^ORA_STATE_DIR=' "$e"; then fail "$s has a supervisor setting in its environment"; fi
    if [ "$s" != put ] && grep -qE 'S3CR3T|T0K3N' "$e"; then fail "$s has the AWS secrets"; fi
    if [ "$s" != connect ] && grep -q 'pa55word' "$e"; then fail "$s has the auth URL"; fi
  done
  grep -q '^AWS_SECRET_ACCESS_KEY=S3CR3TS3CR3T$' "$SV_CTL/env.put"
  grep -q '^ORA_AUTH_URL=https://user:pa55word@' "$SV_CTL/env.connect"
  if grep -q 'pa55word\|K3YK3Y' "$SV_CTL"/args.*; then fail "the auth URL is in an argv"; fi
  # the log redacts URLs' user information and query
  run ora-supervise --once
  if grep -qE 'pa55word|K3YK3Y|pw2pw2|v2v2v2|S3CR3T|T0K3N' <<<"$output"; then fail "a secret in the log: $output"; fi
  assert_output --partial '--auth-url=https://REDACTED@h/x?REDACTED'
  run ora-supervise --print
  if grep -qE 'pa55word|K3YK3Y|pw2pw2' <<<"$output"; then fail "a secret in --print: $output"; fi
  assert_line 'setting: ORA_AUTH_URL=https://REDACTED@auth.example/auth?REDACTED'
}

@test "configuration values are never glob-expanded (ORA_OFFERINGS=*)" {
  touch a-file another-file
  ORA_OFFERINGS='*,a*' run ora-supervise --print
  assert_success
  assert_line --partial "--offering \\* --offering a\\* --checkpoint"
  ORA_ACTORS_ARGS='--rules *' run ora-supervise --print
  assert_line --partial "--rules \\*"
}

@test "sv_compare: duplicates of expected records pass; a missing or an unexpected record fails" {
  a='{"PartitionKey":"1","Data":{"type":"t","v":1,"msg_flow":"realtime","msg_datetime":"x"}}'
  b='{"PartitionKey":"2","Data":{"type":"t","v":2.0,"msg_flow":"replay","msg_datetime":"y"}}'
  c='{"PartitionKey":"2","Data":{"type":"t","v":3,"msg_flow":"realtime","msg_datetime":"z"}}'
  printf '%s\n' "$a" "$b" >exp
  printf '%s\n' "$b" "$a" "$a" >got
  run sv_compare exp got
  assert_success
  assert_line --index 0 "outputs: 2 expected, 3 received, 0 missing, 1 duplicates (ratio 0.5000), 0 unexpected"
  printf '%s\n' "$a" "$b" "$c" >got
  run sv_compare exp got
  assert_failure
  assert_line --index 0 --partial "1 unexpected"
  printf '%s\n' "$a" >got
  run sv_compare exp got
  assert_failure
  assert_line --index 0 --partial "1 missing"
}

@test "sv_compare --also: records of an abandoned snapshot are tolerated, not required" {
  a='{"PartitionKey":"1","Data":{"type":"t","v":1,"msg_flow":"realtime"}}'
  b='{"PartitionKey":"2","Data":{"type":"t","v":2,"msg_flow":"realtime"}}'
  c='{"PartitionKey":"2","Data":{"type":"t","v":3,"msg_flow":"snapshot"}}'
  printf '%s\n' "$a" "$b" >exp
  printf '%s\n' "$c" >also
  printf '%s\n' "$a" "$b" "$c" >got
  run sv_compare exp got --also also
  assert_success
  assert_line --index 0 "outputs: 2 expected, 3 received, 0 missing, 0 duplicates (ratio 0.0000), 0 unexpected, 1 of an abandoned snapshot"
  printf '%s\n' "$a" "$c" >got
  run sv_compare exp got --also also
  assert_failure
}
