#!/usr/bin/env bats
# Conventions every tool shares (doc/design.md §5): one version, one style of
# option error, configuration errors from the environment exit 78.
load helper

TOOLS=(ora-connect ora-deframe ora-order ora-actors kinesis-put ora-rec ora-sim)

setup() {
  cd "$BATS_TEST_TMPDIR"
}

# Waits up to 10 s until process $1 runs program $2 (after its exec).
wait_comm() {
  local i
  for ((i = 0; i < 200; i++)); do
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] && return 0
    sleep 0.05
  done
  fail "process $1 never ran $2"
}

# The version the Makefile sets, as every tool must print it.
make_version() {
  sed -n 's/^VERSION := //p' "$TOP/Makefile"
}

@test "cli: every tool and the supervisor print the Makefile's version" {
  local v t
  v=$(make_version)
  [ -n "$v" ] || fail "no VERSION in the Makefile"
  for t in "${TOOLS[@]}"; do
    run_split "$t" --version
    [ "$status" -eq 0 ] || fail "$t --version exited $status"
    [[ $output =~ ^$t\ ${v//./\\.}( \(git [0-9a-f]+(-dirty)?\))?$ ]] || fail "$t --version: '$output'"
  done
  run_split ora-supervise --version
  [ "$status" -eq 0 ] || fail "ora-supervise --version exited $status"
  [[ $output == "ora-supervise $v"* ]] || fail "ora-supervise --version: '$output'"
}

@test "cli: an unknown option is one line naming it, with the way to help, exit 64" {
  local t
  for t in "${TOOLS[@]}"; do
    run_split "$t" --no-such-option
    [ "$status" -eq 64 ] || fail "$t: exit $status"
    [ -z "$output" ] || fail "$t wrote to stdout: $output"
    [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "$t: more than one line: $stderr"
    [[ $stderr == "$t: error: "*"--no-such-option"*"; try '$t --help'" ]] || fail "$t: '$stderr'"
  done
}

@test "cli: a missing option argument is one line, exit 64" {
  local t
  for t in ora-deframe ora-order ora-actors kinesis-put; do
    run_split "$t" -i
    [ "$status" -eq 64 ] || fail "$t: exit $status"
    [[ $stderr == "$t: error: "*"-i needs an argument; try '$t --help'" ]] || fail "$t: '$stderr'"
  done
  run_split ora-rec pack -i
  [ "$status" -eq 64 ] || fail "ora-rec: exit $status"
  [[ $stderr == "ora-rec: error: "*"-i needs an argument; try 'ora-rec --help'" ]] || fail "ora-rec: '$stderr'"
}

@test "cli: a bad ORA_LOG is a configuration error (78) in every tool" {
  local t
  for t in "${TOOLS[@]}"; do
    ORA_LOG=loud run_split "$t" --version
    [ "$status" -eq 78 ] || fail "$t: exit $status"
    [[ $stderr == "$t: error: unable to use ORA_LOG 'loud'"* ]] || fail "$t: '$stderr'"
  done
}

@test "cli: bad numbers in the environment exit 78, the same numbers as flags exit 64" {
  local spec t var flag
  for spec in "ora-order ORA_BATCH_SIZE --batch-size" "ora-deframe ORA_MAX_MESSAGE --max-message" \
              "ora-actors ORA_CHECKPOINT_INTERVAL --checkpoint-interval" \
              "ora-connect ORA_MAX_BUFFER --max-buffer"; do
    read -r t var flag <<<"$spec"
    run env "$var=zero" "$t" </dev/null
    [ "$status" -eq 78 ] || fail "$t with $var=zero: exit $status"
    run "$t" "$flag" zero </dev/null
    [ "$status" -eq 64 ] || fail "$t $flag zero: exit $status"
  done
}

@test "cli: core dumps are off unless ORA_ALLOW_CORE=1" {
  # ora-rec pack blocks on its stdin, so its limits can be read while it runs.
  ora-rec pack < <(sleep 30) >/dev/null &
  local p=$!
  wait_comm "$p" ora-rec
  # the name changes at exec, the limit a little later in main (slowly
  # under a sanitizer): wait for it, up to 10 s
  for ((i = 0; i < 100; i++)); do
    grep -qE '^Max core file size +0 +0 ' "/proc/$p/limits" && break
    sleep 0.1
  done
  run grep -E '^Max core file size +0 +0 ' "/proc/$p/limits"
  assert_success
  kill "$p"
  # (a sanitizer's runtime turns core dumps off itself unless told not to)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0 \
    ORA_ALLOW_CORE=1 bash -c 'ulimit -c unlimited; exec ora-rec pack' < <(sleep 30) >/dev/null &
  p=$!
  wait_comm "$p" ora-rec
  run grep -E '^Max core file size +unlimited' "/proc/$p/limits"
  assert_success
  kill "$p"
}
