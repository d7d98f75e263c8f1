#!/usr/bin/env bats
# Every stage confines itself (lib/sandbox.h: no_new_privs, Landlock,
# seccomp) once it has opened what it needs. A probe preloaded into the
# running stage (tests/shim/sbprobe.c) tries, after the confinement, to
# open a file outside the stage's allowance and one inside it, to run a
# program and to connect to TCP ports; /proc shows the state of the
# running process. Each test runs over all five stages (the table in
# stage_cmd), each with its files in $T/allowed.
#
# A build with a sanitizer installs no seccomp filter (sandbox.h): the
# stage says so at level debug ("no seccomp filter"), and only Landlock's
# part is asserted there.

STAGES="ora-deframe ora-order ora-actors kinesis-put ora-connect"

setup() {
  load helper
  load lib/sim
  SHIM=$ORA_BUILD/shim/sbprobe.so
  [ -f "$SHIM" ] || fail "no $SHIM (make all builds it)"
  T=$BATS_TEST_TMPDIR
  mkdir -p "$T/allowed" "$T/outside"
  echo secret >"$T/outside/secret"
  echo fine >"$T/allowed/inside"
  [ -n "${PKI_DIR:-}" ] || pki_setup >/dev/null
  unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE HTTPS_PROXY https_proxy HTTP_PROXY http_proxy \
    ALL_PROXY all_proxy AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=not-a-secret AWS_EC2_METADATA_DISABLED=true
  # nothing listens on either: PORT is the one kinesis-put and ora-connect
  # are told about (allowed), OTHER is not
  PORT=$(free_port)
  OTHER=$(free_port)
  [ "$PORT" != "$OTHER" ] || OTHER=$((PORT + 1))
}

teardown() {
  exec 8>&- 2>/dev/null || true
  [ -z "${PID:-}" ] || kill -KILL "$PID" 2>/dev/null || true
}

# stage_cmd NAME: CMD, the command line of stage NAME, its files in
# $T/allowed; NET=1 for the stages that may connect.
stage_cmd() {
  local a=$T/allowed
  NET=0
  case $1 in
  ora-deframe | ora-order) CMD=("$1" --metrics "$a/m.prom") ;;
  ora-actors) CMD=(ora-actors --state-dir "$a/state" --metrics "$a/m.prom") ;;
  kinesis-put)
    NET=1
    CMD=(kinesis-put --stream s --region us-east-1 --endpoint-url "http://127.0.0.1:$PORT"
         --checkpoint "$a/ckpt" --metrics "$a/m.prom") ;;
  ora-connect)
    NET=1
    CMD=(ora-connect --auth-url "https://127.0.0.1:$PORT/token" --host 127.0.0.1 --port "$PORT"
         --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem"
         --offering offering-se --backoff-min 0.05 --backoff-max 0.2 --checkpoint "$a/ckpt"
         --metrics "$a/m.prom") ;;
  *) fail "no stage $1" ;;
  esac
}

# start_probed NAME [VAR=VALUE...]: starts stage NAME with the probe, its
# input a FIFO held open on fd 8 (so it keeps running), and waits until the
# probe is done. Diagnostics at level debug (the allowance). Sets PID, PROBE (the probe's report), ERR (its stderr) and
# SECCOMP (0 in a sanitizer build).
start_probed() {
  local name=$1 i
  shift
  stage_cmd "$name"
  PROBE=$T/probe.$name ERR=$T/err.$name
  rm -f "$PROBE" "$T/in.$name"
  mkfifo "$T/in.$name"
  env ORA_LOG=debug "$@" SBPROBE_OUT="$PROBE" SBPROBE_OPEN="$T/outside/secret:$T/allowed/inside" \
    SBPROBE_EXEC="$T/allowed/no-such-program" SBPROBE_CONNECT="$OTHER:$PORT" LD_PRELOAD="$SHIM" \
    "${CMD[@]}" <"$T/in.$name" >"$T/out.$name" 2>"$ERR" &
  PID=$!
  exec 8>"$T/in.$name"
  for ((i = 0; i < 400; i++)); do
    grep -qx done "$PROBE" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  grep -qx done "$PROBE" 2>/dev/null || fail "$name: the probe did not run: $(cat "$ERR")"
  SECCOMP=1
  if grep -q "no seccomp filter" "$ERR"; then SECCOMP=0; fi
}

# stop_probed NAME: ends the input (a TERM for ora-connect, which reads
# none) and checks that the stage ends well, its work unhindered.
stop_probed() {
  exec 8>&-
  [ "$1" != ora-connect ] || kill -TERM "$PID"
  local st=0
  wait "$PID" || st=$?
  PID=
  [ "$st" -eq 0 ] || fail "$1 exited $st: $(cat "$ERR")"
}

# probe_says WHAT ARG: the result the probe reported for WHAT ARG.
probe_says() {
  awk -v w="$1" -v a="$2" '$1 == w && $2 == a { print $3 }' "$PROBE"
}

# status_field FIELD: the running stage's /proc/PID/status field.
status_field() {
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$PID/status"
}

@test "confined: outside its allowance a file is refused (EACCES), inside it opens; NoNewPrivs 1, Seccomp 2" {
  for s in $STAGES; do
    start_probed "$s"
    [ "$(probe_says open "$T/outside/secret")" = EACCES ] || fail "$s opened a file outside: $(cat "$PROBE")"
    [ "$(probe_says open "$T/allowed/inside")" = ok ] || fail "$s could not open its own file: $(cat "$PROBE")"
    [ "$(status_field NoNewPrivs)" = 1 ] || fail "$s: NoNewPrivs $(status_field NoNewPrivs)"
    [ "$(status_field Seccomp)" = $((SECCOMP * 2)) ] || fail "$s: Seccomp $(status_field Seccomp)"
    grep -q "debug: sandbox: .*write.* $T/allowed" "$ERR" || fail "$s logged no allowance: $(cat "$ERR")"
    stop_probed "$s"
  done
}

@test "confined: execve fails with EPERM; TCP connects only to the stage's own ports" {
  for s in $STAGES; do
    start_probed "$s"
    if [ "$SECCOMP" = 1 ]; then
      [ "$(probe_says exec "$T/allowed/no-such-program")" = EPERM ] || fail "$s: $(cat "$PROBE")"
    fi
    other=$(probe_says connect "$OTHER") own=$(probe_says connect "$PORT")
    if [ "$NET" = 1 ]; then
      [ "$other" = EACCES ] || fail "$s connected to a port it does not use: $(cat "$PROBE")"
      [ "$own" = ECONNREFUSED ] || fail "$s could not connect to its own port: $(cat "$PROBE")"
    else
      # no sockets at all (seccomp: EPERM), or no TCP port (Landlock: EACCES)
      [[ "$other $own" =~ ^(EPERM|EACCES)\ (EPERM|EACCES)$ ]] || fail "$s may connect: $(cat "$PROBE")"
    fi
    stop_probed "$s"
  done
}

@test "ORA_SANDBOX=off lifts the confinement" {
  read -r nnp0 < <(awk '$1 == "NoNewPrivs:" { print $2 }' /proc/self/status)
  for s in $STAGES; do
    start_probed "$s" ORA_SANDBOX=off
    [ "$(probe_says open "$T/outside/secret")" = ok ] || fail "$s: $(cat "$PROBE")"
    [ "$(probe_says exec "$T/allowed/no-such-program")" = ENOENT ] || fail "$s: $(cat "$PROBE")"
    [ "$(probe_says connect "$OTHER")" = ECONNREFUSED ] || fail "$s: $(cat "$PROBE")"
    [ "$(status_field NoNewPrivs)" = "$nnp0" ] || fail "$s: NoNewPrivs $(status_field NoNewPrivs)"
    [ "$(status_field Seccomp)" = 0 ] || fail "$s: Seccomp $(status_field Seccomp)"
    grep -q "debug: sandbox: off" "$ERR" || fail "$s: $(cat "$ERR")"
    stop_probed "$s"
  done
}
