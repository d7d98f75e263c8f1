#!/usr/bin/env bats
# kinesis-put's durability promises, each made to fail deterministically
# when the code is wrong (issue 20): the checkpoint never ahead of the
# acknowledgements, the number of tries under --max-retries, the syscall
# order of a checkpoint commit, the second SIGTERM, a malformed request, the
# dead letter appended; a Kinesis outage (kinesalite stopped and restarted
# on its port, issue 18); --state-dir and ORA_STREAM (issue 14).

load helper
load lib/kinesis

setup() {
  kinesis_put_setup
  KP=(kinesis-put --stream s --backoff 1..20 --linger 5)
}

teardown() {
  fault_stop
  if [ -n "${KP_PID:-}" ]; then # two SIGTERMs stop it at once; a broken one is killed
    kill "$KP_PID" 2>/dev/null; sleep 0.1; kill "$KP_PID" 2>/dev/null
    for i in $(seq 40); do kill -0 "$KP_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$KP_PID" 2>/dev/null; wait "$KP_PID" 2>/dev/null
  fi
  kinesalite_stop
  return 0
}

# tries I: how many requests carried record I
tries() {
  jq -s --argjson i "$1" '[.[] | select(.n >= 0) | .entries[] | select(.[1] == $i)] | length' "$FAULT_DIR/requests.jsonl"
}

@test "the last record before each checkpoint is acknowledged last: the checkpoint file never runs ahead (checked on every request)" {
  kinesis_gen_input 1000 9 50
  # every 50th record fails its first try: each checkpoint waits for that retry
  fault_start --fail-first-try-every 50 --checkpoint "$T/ck"
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" --concurrency 4 --max-records 20 \
    -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [ ! -s "$FAULT_DIR/violations.log" ] || { head -3 "$FAULT_DIR/violations.log"; false; }
  assert_equal "$(cat "$T/ck")" 999
  # the fault fired: record 49 was tried twice
  assert_equal "$(tries 49)" 2
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  [ "$status" -eq 0 ]
}

@test "--max-retries N: a record is tried N+1 times, then the run stops (75) with the rest in the dead letter" {
  kinesis_gen_input 20 20 0
  for n in 0 1 3; do
    FAULT_DIR=$T/f$n
    fault_start --always-fail 7
    run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --max-retries "$n" --dead-letter "$T/dead$n.rec" \
      -i "$T/in.rec"
    [ "$status" -eq 75 ] || { echo "$stderr"; false; }
    assert_equal "$(tries 7)" $((n + 1))
    [[ "$stderr" == *"offset 7) after $((n + 1)) attempts: giving up (--max-retries $n)"* ]]
    run ora-rec unpack --meta -i "$T/dead$n.rec"
    assert_output --partial '"offset":7'
    fault_stop
  done
}

@test "the checkpoint commit: write, fsync of the temporary file, rename, fsync of the directory (strace)" {
  # LeakSanitizer cannot run under ptrace (asan-test)
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
  kinesis_gen_input 10 3 5
  mkdir "$T/st"
  strace -f -e trace=openat,write,fsync,fdatasync,rename,renameat,renameat2,close -o "$T/trace" \
    kinesis-put --stdout --checkpoint "$T/st/ck" -i "$T/in.rec" -o /dev/null
  assert_equal "$(cat "$T/st/ck")" 9
  # the calls on the checkpoint's temporary file and its directory, in order, per commit
  python3 - "$T/trace" "$T/st" >"$T/order" <<'PY'
import re, sys
fds, out = {}, []
for line in open(sys.argv[1]):
    line = re.sub(r"^\d+\s+", "", line.strip())
    m = re.match(r'openat\(AT_FDCWD, "([^"]+)",.*\) = (\d+)', line)
    if m and "O_PATH" not in line:  # O_PATH: the sandbox naming the directory, no I/O
        path, fd = m.group(1), m.group(2)
        if path.startswith(sys.argv[2]):
            kind = "tmp" if ".tmp." in path else "dir" if path == sys.argv[2] else "other"
            fds[fd] = kind
            out.append("open " + kind)
        continue
    m = re.match(r"(write|fsync|fdatasync|close)\((\d+)", line)
    if m and m.group(2) in fds:
        out.append(m.group(1) + " " + fds[m.group(2)])
        if m.group(1) == "close":
            del fds[m.group(2)]
        continue
    if re.match(r"rename(at2?)?\(", line) and sys.argv[2] in line:
        out.append("rename")
print("\n".join(out))
PY
  run cat "$T/order"
  # two commits (checkpoints 4 and 9), each the same sequence
  one=$'open tmp\nwrite tmp\nfsync tmp\nclose tmp\nrename\nopen dir\nfsync dir\nclose dir'
  assert_output "$one"$'\n'"$one"
}

@test "a second SIGTERM stops at once: exit 75, what was held goes to the dead letter, the checkpoint stays" {
  kinesis_gen_input 100 10 50
  touch "$T/gate"
  fault_start --then gate --gate "$T/gate"
  "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" --dead-letter "$T/dead.rec" \
    -i "$T/in.rec" 2>"$T/err" &
  KP_PID=$!
  for i in $(seq 100); do [ -s "$FAULT_DIR/auth.jsonl" ] && break; sleep 0.05; done
  kill -TERM "$KP_PID"
  for i in $(seq 100); do grep -q "signal again" "$T/err" && break; sleep 0.05; done
  kill -TERM "$KP_PID"
  # at once: while Kinesis still holds the request (the gate stays shut)
  for i in $(seq 200); do kill -0 "$KP_PID" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$KP_PID" 2>/dev/null && fail "still running 10 s after the second SIGTERM"
  wait "$KP_PID" && st=0 || st=$?
  KP_PID=
  rm "$T/gate"
  [ "$st" -eq 75 ] || { cat "$T/err"; false; }
  grep -q "stopped with 100 records undelivered" "$T/err"
  assert_equal "$(ora-rec unpack -i "$T/dead.rec" | wc -l)" 100
  [ ! -e "$T/ck" ]
}

@test "a request Kinesis rejects as malformed: exit 70, records to the dead letter, which is appended to" {
  kinesis_gen_input 5 5 0
  printf '{"type":"OUT","key":"old","offset":99,"data":{"i":99}}\n' | ora-rec pack --meta -o "$T/dead.rec" 2>/dev/null
  fault_start --then validation
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --dead-letter "$T/dead.rec" -i "$T/in.rec"
  [ "$status" -eq 70 ]
  [[ "$stderr" == *"unable to put records to stream s: HTTP 400 ValidationException"* ]]
  ora-rec unpack --meta -i "$T/dead.rec" >"$T/dead.jsonl" 2>/dev/null
  assert_equal "$(wc -l <"$T/dead.jsonl")" 6
  run head -1 "$T/dead.jsonl"
  assert_output --partial '"key":"old"'
}

@test "Kinesis down for seconds (kinesalite stopped, restarted on its port with its data): records wait, checkpoint stays, all delivered" {
  KINESALITE_PATH=$T/kdata kinesalite_start
  port=${KINESIS_ENDPOINT##*:}
  kinesis_create_stream s 2
  kinesis_gen_input 600 13 100
  mkfifo "$T/fifo"
  kinesis-put --stream s --endpoint-url "$KINESIS_ENDPOINT" --checkpoint "$T/ck" --backoff 50..500 --linger 5 \
    --timeout 2000 -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  exec 7>"$T/fifo"
  size=$(stat -c %s "$T/in.rec")
  head -c $((size / 3)) "$T/in.rec" >&7
  for i in $(seq 200); do [ -s "$T/ck" ] && break; sleep 0.05; done
  [ -s "$T/ck" ] || fail "no checkpoint before the outage: $(cat "$T/err")"
  kinesalite_stop
  before=$(cat "$T/ck")
  # the rest arrives while Kinesis is down
  tail -c +$((size / 3 + 1)) "$T/in.rec" >&7
  exec 7>&-
  sleep 4
  assert_equal "$(cat "$T/ck")" "$before"
  kill -0 "$KP_PID" || fail "kinesis-put gave up while Kinesis was down: $(cat "$T/err")"
  KINESALITE_PATH=$T/kdata KINESALITE_PORT=$port kinesalite_start
  wait "$KP_PID" && st=0 || st=$?
  KP_PID=
  [ "$st" -eq 0 ] || { cat "$T/err"; false; }
  assert_equal "$(cat "$T/ck")" 599
  grep -q "onnect" "$T/err"
  run grep -c "dead letter\|giving up" "$T/err"
  assert_output 0
  kinesis_read_all s >"$T/got.jsonl"
  run kinesis_check_delivery "$T/expected.jsonl" "$T/got.jsonl"
  echo "$output"; [ "$status" -eq 0 ]
}

@test "--state-dir DIR: the checkpoint is DIR/checkpoint (also ORA_STATE_DIR); --checkpoint wins; ORA_STREAM names the stream" {
  kinesis_gen_input 10 3 10
  kinesis-put --stdout --state-dir "$T/state" -i "$T/in.rec" -o /dev/null
  assert_equal "$(cat "$T/state/checkpoint")" 9
  assert_equal "$(stat -c %a "$T/state")" 700
  ORA_STATE_DIR=$T/env kinesis-put --stdout -i "$T/in.rec" -o /dev/null
  assert_equal "$(cat "$T/env/checkpoint")" 9
  ORA_STATE_DIR=$T/env2 kinesis-put --stdout --checkpoint "$T/ck" -i "$T/in.rec" -o /dev/null
  assert_equal "$(cat "$T/ck")" 9
  [ ! -e "$T/env2/checkpoint" ]
  # a flag beats the environment: --state-dir over ORA_CHECKPOINT
  ORA_CHECKPOINT=$T/envck kinesis-put --stdout --state-dir "$T/s3" -i "$T/in.rec" -o /dev/null
  assert_equal "$(cat "$T/s3/checkpoint")" 9
  [ ! -e "$T/envck" ]
  fault_start --stream from-env
  ORA_STREAM=from-env run_split kinesis-put --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  ORA_STREAM=from-env ORA_KINESIS_STREAM=nosuch run_split kinesis-put --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 78 ]
  assert_equal "$(wc -l <"$FAULT_DIR/accepted.jsonl")" 10
}
