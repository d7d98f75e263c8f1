# tests/helper.bash: loaded by every suite (load helper).
# ORA_BIN points at the tools under test (bin/ or build-asan/bin/).
bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load.bash
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load.bash
bats_load_library bats-file 2>/dev/null || load /usr/lib/bats/bats-file/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
ORA_BIN=${ORA_BIN:-$TOP/bin}
ORA_BUILD=${ORA_BUILD:-$TOP/build}
FIXTURES=$TOP/tests/fixtures
SHARED=${ORA_SHARED:-$TOP/../shared}
export PATH="$ORA_BIN:$TOP/scripts:$PATH"
export ORA_LOG=${ORA_LOG_TEST:-info}

# A free TCP port on 127.0.0.1 (racy in theory; tests bind at once).
free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# Waits up to $2 seconds (default 10) for 127.0.0.1:$1 to accept.
wait_port() {
  local port=$1 t=${2:-10} i
  for ((i = 0; i < t * 20; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $port did not open within ${t}s" >&2
  return 1
}

# Runs a command with stdin from $1; keeps stderr apart in $stderr.
# Usage: run_split cmd args...  (sets $status, $output=stdout, $stderr)
run_split() {
  local errf="$BATS_TEST_TMPDIR/stderr.$$"
  run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
  stderr=$(cat "$errf")
}
