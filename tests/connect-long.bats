#!/usr/bin/env bats
# The "done means" run of issue 5 (about 90 s; only with ORA_LONG_TESTS=1):
#   ora-connect --checkpoint c | ora-deframe | ora-rec unpack
# against ora-sim generating 100k realtime messages with faults injected (a
# dropped connection, a corrupt member, a stall, a bad token, failing token
# requests) yields every message of the server's log at least once, and
# PONGs keep flowing while ora-deframe is stopped with SIGSTOP for 30 s.

load helper
load lib/sim
load lib/connect

setup() {
  [ "${ORA_LONG_TESTS:-0}" = 1 ] || skip "set ORA_LONG_TESTS=1 to run (about 90 s)"
  cd "$BATS_TEST_TMPDIR"
  BG=()
}

teardown() {
  local p
  for p in "${BG[@]}"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
  sim_stop || true
}

# Counter NAME from the summary ora-sim prints on SIGUSR1.
sim_counter() {
  local before
  before=$(grep -c "summary:" "$SIM_ERR")
  kill -USR1 "$SIM_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "summary:" "$SIM_ERR")" -gt "$before" ] && break
    sleep 0.05
  done
  grep "summary:" "$SIM_ERR" | tail -1 | grep -o "[0-9]* $1" | cut -d' ' -f1
}

@test "100k messages with faults and a 30 s SIGSTOP downstream: every message at least once, pongs flow" {
  local total=100000
  sim_start --rate 2000 --max-messages "$total" --events 200 --ping-interval 1 --pong-timeout 5 \
    --fault-once --drop-after-msgs 5000 --corrupt-after 10000 --stall-after 15000 \
    --invalid-token-after 20000 --auth-fail 1
  conn_init
  local n0
  n0=$(sed -n 's/.*head offset \([0-9]*\).*/\1/p' "$SIM_ERR" | head -1)
  echo 0 >ckpt
  mkfifo p1 p2
  ora-connect "${CONN[@]}" --checkpoint ckpt --ping-timeout 3 >p1 2>connect.err &
  local conn=$!
  ora-deframe <p1 >p2 2>deframe.err &
  local deframe=$!
  ora-rec unpack <p2 >msgs.jsonl 2>unpack.err &
  local unpack=$!
  BG+=($conn $deframe $unpack)

  # Every fault fires once: connections 1-4 end, the fifth stays.
  wait_grep connect.err 60 "connection 5: caught up"
  grep -q "HTTP 503" connect.err
  grep -q "connection 1: closed by the server\|connection 1: 127.0.0.1 port" connect.err
  grep -q "connection 2: undecodable stream" connect.err
  grep -q "connection 3: no SESSION_PING" connect.err
  grep -q "connection 4: the server refused our token (INVALID_TOKEN)" connect.err

  # Downstream stops for 30 s while realtime messages keep coming.
  local lines_before pongs_before pongs_after
  lines_before=$(wc -l <"$SIM_LOG")
  pongs_before=$(sim_counter pongs)
  kill -STOP "$deframe"
  sleep 30
  pongs_after=$(sim_counter pongs)
  local lines_during=$(($(wc -l <"$SIM_LOG") - lines_before))
  kill -USR1 "$conn"
  sleep 0.3
  kill -CONT "$deframe"
  echo "pongs during the stop: $((pongs_after - pongs_before)); messages generated meanwhile: $lines_during" >&3
  # what ora-connect guarantees: pongs go on and messages keep coming in
  # (how many depends on how busy the machine is)
  [ $((pongs_after - pongs_before)) -ge 1 ]
  [ "$lines_during" -ge 1 ]
  # Still the fifth connection: no reconnect while downstream was stopped.
  grep "summary:" connect.err | tail -1 | grep -q "^ora-connect: summary: 5 connections, 4 reconnects"
  grep "summary:" connect.err | tail -1 >&3

  # Let the sim finish, then stop the source: the pipeline drains.
  wait_lines "$SIM_LOG" $((n0 + total))
  wait_covered "$SIM_LOG" 300 cat msgs.jsonl
  kill -TERM "$conn"
  local rc=0
  wait "$conn" || rc=$?
  [ "$rc" -eq 0 ]
  wait "$deframe"
  wait "$unpack"
  run covers "$SIM_LOG" msgs.jsonl
  echo "$output" >&3
  assert_success
  [ "$(grep -c '"ctrl":"connected"' msgs.jsonl)" -eq 5 ] || grep -c connected msgs.jsonl >&3
  grep "summary:" connect.err | tail -1 >&3
}
