# tests/lib/sim.bash: run ora-sim (the local ORA server) from bats suites.
#   load helper
#   load lib/sim
#
# pki_setup [DIR]
#     Makes the throwaway test PKI with scripts/gen-test-pki, once per suite
#     (default DIR: $BATS_FILE_TMPDIR/pki; an existing complete DIR is reused).
#     Exports PKI_DIR; the files are $PKI_DIR/ca.pem, server.pem/.key,
#     client.pem/.key, untrusted-client.pem/.key (from untrusted-ca.pem).
#     The server certificate names localhost, 127.0.0.1, ora-sim.test and
#     *.ora-sim.test.
# sim_start [ora-sim options...]
#     Starts ora-sim in the background on free ports of 127.0.0.1 with the
#     test PKI (runs pki_setup when PKI_DIR is unset) and --log, and waits
#     (up to 10 s) until it has bound its ports. Exports SIM_PID, SIM_PORT
#     (ORA TLS port), SIM_AUTH_PORT, SIM_AUTH_URL (https://127.0.0.1:N/auth),
#     SIM_LOG (its --log: every generated data message, offset order; its
#     line N is offset N), SIM_ERR (its stderr, at ORA_LOG=info or debug),
#     SIM_DIR. The first SIM_ERR line names the initial "head offset N".
#     Returns 1, printing its stderr, when it exits or does not get ready.
#     Default --rate 2000 (give --rate 0 for a fixed model, --max-messages N
#     for a finite log); ora-sim's own defaults otherwise (--ping-interval
#     10). With --refuse-for S the ORA port refuses connections for S s.
# sim_stop
#     SIGTERM, then waits for the exit (SIGKILL after 5 s). Returns ora-sim's
#     exit status when it was started by this shell, else 0. Safe to call
#     twice and when nothing runs (call it from teardown).
# sim_token [FILE]
#     Fetches a JWT from SIM_AUTH_URL with the client certificate (curl);
#     prints it, or writes it to FILE.
# sim_client [ora-client.py options...]
#     Runs tests/tools/ora-client.py against SIM_PORT with the client
#     certificate (see its --help): an independent session client that
#     prints the data messages it receives as JSON lines.
# Call sim_start directly (not under `run`, which would lose the exports).
# sim_client and sim_token are exported: they work under run_split too.

export SIM_CLIENT_PY=$TOP/tests/tools/ora-client.py

pki_setup() {
  local dir=${1:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/pki}
  "$TOP/scripts/gen-test-pki" "$dir" || return 1
  export PKI_DIR=$dir
}

sim_start() {
  [ -n "${PKI_DIR:-}" ] && [ -s "$PKI_DIR/ca.pem" ] || pki_setup || return 1
  SIM_DIR=$(mktemp -d "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}}/sim.XXXXXX")
  SIM_LOG=$SIM_DIR/sim.log
  SIM_ERR=$SIM_DIR/sim.err
  local pf=$SIM_DIR/ports
  # its info lines are what tests grep for: at least info, debug when asked
  local lvl=info
  [ "${ORA_LOG:-}" = debug ] && lvl=debug
  ORA_LOG=$lvl "$ORA_BIN/ora-sim" --cert "$PKI_DIR/server.pem" --key "$PKI_DIR/server.key" \
    --cacert "$PKI_DIR/ca.pem" --port 0 --auth-port 0 --port-file "$pf" \
    --log "$SIM_LOG" --rate 2000 "$@" </dev/null >"$SIM_DIR/sim.out" 2>"$SIM_ERR" 3>&- &
  SIM_PID=$!
  SIM_STARTED_BY=$BASHPID
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$pf" ] && break
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
      echo "ora-sim exited before it was ready:" >&2
      cat "$SIM_ERR" >&2
      return 1
    fi
    sleep 0.05
  done
  if [ ! -s "$pf" ]; then
    echo "ora-sim did not get ready within 10s:" >&2
    cat "$SIM_ERR" >&2
    return 1
  fi
  SIM_PORT=$(sed -n 's/^port=//p' "$pf")
  SIM_AUTH_PORT=$(sed -n 's/^auth_port=//p' "$pf")
  SIM_AUTH_URL=https://127.0.0.1:$SIM_AUTH_PORT/auth
  export SIM_PID SIM_PORT SIM_AUTH_PORT SIM_AUTH_URL SIM_LOG SIM_ERR SIM_DIR
}

sim_stop() {
  local pid=${SIM_PID:-} rc=0 i
  [ -n "$pid" ] || return 0
  SIM_PID=
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    case $(ps -o stat= -p "$pid" 2>/dev/null) in Z*) break ;; esac
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "ora-sim $pid did not stop on SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
    rc=137
  fi
  if [ "${SIM_STARTED_BY:-}" = "$BASHPID" ]; then
    wait "$pid" 2>/dev/null
    rc=$?
  fi
  return $rc
}

sim_token() {
  local out
  out=$(curl -sS --fail --cacert "$PKI_DIR/ca.pem" --cert "$PKI_DIR/client.pem" \
    --key "$PKI_DIR/client.key" "$SIM_AUTH_URL") || return 1
  if [ -n "${1:-}" ]; then printf '%s' "$out" >"$1"; else printf '%s\n' "$out"; fi
}

sim_client() {
  python3 "$SIM_CLIENT_PY" --port "$SIM_PORT" --cacert "$PKI_DIR/ca.pem" \
    --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key" "$@"
}

# sim_client and sim_token also work under run_split (bash -c).
export -f sim_client sim_token
