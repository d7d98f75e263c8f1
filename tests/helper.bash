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

. "$TOP/tests/lib/net.bash"   # free_port, wait_port

# Runs a command with stdin from $1; keeps stderr apart in $stderr.
# Usage: run_split cmd args...  (sets $status, $output=stdout, $stderr)
run_split() {
  local errf="$BATS_TEST_TMPDIR/stderr.$$"
  run bash -c '"$@" 2>"'"$errf"'"' _ "$@"
  stderr=$(cat "$errf")
}
