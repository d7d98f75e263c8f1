#!/usr/bin/env bats
# ora-connect against ora-sim (issue 5, item 8): sessions, replay, faults,
# certificates, a stalled downstream, --once, configuration errors.
# The long "done means" run is gated by ORA_LONG_TESTS=1 (tests/connect-long.bats).

load helper
load lib/sim
load lib/connect

setup_file() {
  pki_setup "$BATS_FILE_TMPDIR/pki"
}

setup() {
  cd "$BATS_TEST_TMPDIR"
  BG=()
}

teardown() {
  local p
  for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; done
  for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
  sim_stop || true
}

# The sim with its initial model only (no realtime messages): a finite log.
sim_fixed() {
  sim_start --rate 0 --events "${EVENTS:-40}" --ping-interval 0.2 "$@"
  conn_init
}

# connect_once [ARGS...]: ora-connect --once from checkpoint 0 (file ckpt)
# into out.rec, with run_split ($status, $output, $stderr); it must exit 0.
connect_once() {
  echo 0 >ckpt
  run_split ora-connect "${CONN[@]}" --checkpoint ckpt --once "$@" -o out.rec
  assert_success
}

# messages_match CHECK [ARGS...]: the messages of out.rec against ora-sim's
# log, by CHECK (tests/lib/connect.bash): exactly (each once, nothing else)
# or covers (each at least once); ARGS as CHECK takes them.
messages_match() {
  messages out.rec >msgs.jsonl
  run "$1" "$SIM_LOG" msgs.jsonl "${@:2}"
  assert_success
}

# refused MESSAGE ARGS...: ora-connect ARGS --once (run_split) exits 78,
# its stderr saying MESSAGE.
refused() {
  run_split ora-connect "${CONN[@]}" "${@:2}" --once
  assert_failure 78
  [[ $stderr == *"$1"* ]] || fail "$stderr"
}

# ---- sessions ---------------------------------------------------------------

@test "--once from checkpoint 0 gives exactly the messages of ora-sim --log, then exits 0" {
  sim_fixed
  connect_once
  [[ $stderr == *"caught up at offset"* ]]
  messages_match exactly
  # CTRL: connected first, replay from 0, caught_up, disconnected last.
  run ctrls out.rec
  assert_line --index 0 '{"ctrl":"connected","conn":1}'
  assert_line --index 1 '{"ctrl":"flow","flow":"replay","offset":0}'
  assert_line --index 2 --regexp '^\{"ctrl":"caught_up","offset":[0-9]+\}$'
  assert_line --index 3 '{"ctrl":"disconnected","conn":1,"reason":"caught_up"}'
  # The WIRE records carry the connection number and a receive time.
  run bash -c "ora-rec unpack --meta -i out.rec 2>/dev/null | jq -r 'select(.type==\"WIRE\") | \"\\(.conn) \\(.recv_ns > 1700000000000000000)\"' | sort -u"
  assert_output "1 true"
}

@test "frames go on inflated, one WIRE record flagged INFLATED each; --compressed gives the bytes as read" {
  sim_fixed
  echo 0 >ckpt
  ora-connect "${CONN[@]}" --checkpoint ckpt --once -o inf.rec 2>/dev/null
  ora-connect "${CONN[@]}" --checkpoint ckpt --once --compressed -o gz.rec 2>/dev/null
  # every WIRE record of the default form is one session or data message,
  # exactly the JSON the server framed (the independent decoder reads both)
  run bash -c "ora-rec unpack --meta -i inf.rec 2>/dev/null | jq -r 'select(.type==\"WIRE\") | .flags' | sort -u"
  assert_output 2
  ora-rec unpack --meta -i inf.rec 2>/dev/null | jq -r 'select(.type=="WIRE") | .data_base64' |
    while read -r b; do base64 -d <<<"$b" | jq -e 'type == "object"' >/dev/null || exit 1; done
  wire_decode inf.rec >inf.jsonl
  run exactly "$SIM_LOG" inf.jsonl
  assert_success
  # --compressed: WIRE records without flags, gzip members as read
  run bash -c "ora-rec unpack --meta -i gz.rec 2>/dev/null | jq -r 'select(.type==\"WIRE\") | (.flags // 0)' | sort -u"
  assert_output 0
  wire_decode gz.rec >gz.jsonl
  run exactly "$SIM_LOG" gz.jsonl
  assert_success
  # ora-deframe makes the same messages, flows and control records of both
  cmp <(ora-deframe <inf.rec 2>/dev/null | ora-rec unpack --meta | jq -c 'del(.recv_ns, .time)') \
      <(ora-deframe <gz.rec 2>/dev/null | ora-rec unpack --meta | jq -c 'del(.recv_ns, .time)')
}

@test "realtime session: messages flow until SIGTERM, which drains and exits 0" {
  sim_start --rate 2000 --max-messages 1500 --events 20 --ping-interval 0.2
  conn_init
  echo 0 >ckpt
  ora-connect "${CONN[@]}" --checkpoint ckpt -o out.rec 2>err &
  BG+=($!)
  local pid=$!
  # The log is complete once the model's start plus 1500 messages are there.
  local n0
  n0=$(sed -n 's/.*head offset \([0-9]*\).*/\1/p' "$SIM_ERR" | head -1)
  wait_lines "$SIM_LOG" $((n0 + 1500))
  wait_grep err 20 "realtime"
  # what the sim sent has arrived (no fixed delay: the machine may be busy)
  wait_covered "$SIM_LOG" 60 messages out.rec
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  messages_match exactly
  run ctrls out.rec
  assert_line --index -1 '{"ctrl":"disconnected","conn":1,"reason":"shutdown"}'
  grep -q "summary: 1 connections, 0 reconnects" err
  grep -Eq "[1-9][0-9]* pongs" err
}

@test "--metrics FILE: bytes, reconnects by cause, connection, ping age and flow; valid for promtool" {
  EVENTS=2 sim_start --rate 200 --ping-interval 0.2 --drop-after-msgs 300 --fault-once
  conn_init
  echo 0 >ckpt
  ora-connect "${CONN[@]}" --checkpoint ckpt --metrics m.prom --metrics-interval 0.2 -o out.rec 2>err &
  local pid=$!
  BG+=($pid)
  wait_grep err 60 "connection 2: connected"
  wait_grep err 60 "caught up"
  local i
  for ((i = 0; i < 200; i++)); do
    grep -qx 'ora_connect_connected{stage="connect"} 1' m.prom 2>/dev/null &&
      grep -qx 'ora_connect_flow{stage="connect",flow="realtime"} 1' m.prom &&
      grep -q '^ora_connect_last_ping_age_seconds{' m.prom && break
    sleep 0.1
  done
  cp m.prom live.prom
  promtool check metrics < live.prom
  grep -qx 'ora_connect_connected{stage="connect"} 1' live.prom
  grep -qx 'ora_connect_flow{stage="connect",flow="realtime"} 1' live.prom
  grep -qx 'ora_connect_flow{stage="connect",flow="snapshot"} 0' live.prom
  grep -Eqx 'ora_connect_last_ping_age_seconds\{stage="connect"\} [0-9.e+-]+' live.prom
  grep -Eqx 'ora_connect_received_bytes_total\{stage="connect"\} [1-9][0-9]*' live.prom
  # the one dropped connection, under its cause; no other cause
  [ "$(awk '/^ora_connect_reconnects_total/ { n += $2 } END { print n }' live.prom)" -eq 1 ]
  grep -Eqx 'ora_connect_reconnects_total\{stage="connect",cause="(eof|network|tls)"\} 1' live.prom
  kill -TERM "$pid"
  wait "$pid"
  promtool check metrics < m.prom
  grep -qx 'ora_connect_connected{stage="connect"} 0' m.prom
  [ "$(awk '/^ora_connect_received_bytes_total/ { print $2 }' m.prom)" -ge "$(awk '/^ora_connect_received_bytes_total/ { print $2 }' live.prom)" ]
}

@test "replay from a checkpoint W: every message after W, none at or before W" {
  sim_fixed
  local w
  w=$(jq -s 'map(.offset) | max / 2 | floor' "$SIM_LOG")
  echo "$w" >ckpt
  run_split ora-connect "${CONN[@]}" --checkpoint ckpt --once -o out.rec
  assert_success
  [[ $stderr == *"replay requested after offset $w"* ]]
  messages_match exactly "$w"
  run ctrls out.rec
  assert_line --index 1 "{\"ctrl\":\"flow\",\"flow\":\"replay\",\"offset\":$w}"
}

@test "no checkpoint file: snapshot, then replay to the head" {
  sim_fixed
  run_split ora-connect "${CONN[@]}" --checkpoint missing --once -o out.rec
  assert_success
  [[ $stderr == *"no checkpoint in missing yet"* ]]
  run ctrls out.rec
  assert_line --index 1 '{"ctrl":"flow","flow":"snapshot"}'
  wire_decode out.rec >frames.jsonl
  grep -q SESSION_SNAPSHOT_COMPLETED frames.jsonl
  grep -q SESSION_REPLAY_COMPLETED frames.jsonl
  messages out.rec >msgs.jsonl
  [ "$(grep -c '"offset"' msgs.jsonl)" -gt 10 ]
}

@test "OFFSET_TOO_OLD: asks for a snapshot on the same connection" {
  sim_fixed --offset-too-old
  echo 5 >ckpt
  run_split ora-connect "${CONN[@]}" --checkpoint ckpt --once -o out.rec
  assert_success
  [[ $stderr == *"OFFSET_TOO_OLD: the checkpoint is older than the server's log; asking for a snapshot"* ]]
  run ctrls out.rec
  assert_line --index 1 '{"ctrl":"flow","flow":"replay","offset":5}'
  assert_line --index 2 '{"ctrl":"flow","flow":"snapshot"}'
  refute_output --partial '"conn":2'
  wire_decode out.rec >frames.jsonl
  grep -q OFFSET_TOO_OLD frames.jsonl
  grep -q SESSION_SNAPSHOT_COMPLETED frames.jsonl
}

@test "INVALID_TOKEN: a new JWT on a new connection, nothing missing" {
  sim_fixed --reject-token --fault-once
  ORA_LOG=debug connect_once
  [[ $stderr == *"INVALID_TOKEN"*"reconnecting with a new one"* ]]
  [ "$(grep -c 'fetched a token' <<<"$stderr")" -eq 2 ]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"invalid_token"}'
  assert_line '{"ctrl":"connected","conn":2}'
  messages_match exactly
}

@test "INVALID_TOKEN in mid-stream: reconnects and replays, nothing missing" {
  EVENTS=60 sim_fixed --invalid-token-after 150 --fault-once
  connect_once
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"invalid_token"}'
  messages_match covers
}

@test "the secrets never reach the logs, even at debug level" {
  sim_fixed
  sim_token tok
  [ -s tok ]
  ORA_LOG=debug connect_once
  # Every JWT starts with base64url('{"'); none, nor the key, may be printed.
  [[ $stderr != *eyJ* ]]
  [[ $stderr != *"PRIVATE KEY"* ]]
  [[ $stderr != *"$(sed -n 2p "$PKI_DIR/client.key" | cut -c1-20)"* ]]
}

# ---- faults ------------------------------------------------------------------

@test "server drops the connection: reconnect with backoff, replay, nothing missing" {
  EVENTS=60 sim_fixed --drop-after-msgs 200 --fault-once
  connect_once
  [[ $stderr == *"connection 1: closed by the server"* || $stderr == *"connection 1: 127.0.0.1 port"* ]]
  [[ $stderr == *"reconnecting in"* ]]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"network"}'
  assert_line '{"ctrl":"connected","conn":2}'
  messages_match covers
}

@test "server cuts a gzip member in the middle: reconnect, nothing missing" {
  EVENTS=60 sim_fixed --drop-after-bytes 5000 --fault-once
  connect_once
  run ctrls out.rec
  assert_line '{"ctrl":"connected","conn":2}'
  messages_match covers
}

@test "corrupt gzip member: reported, reconnect, nothing missing" {
  EVENTS=60 sim_fixed --corrupt-after 100 --fault-once
  connect_once
  [[ $stderr == *"undecodable stream from the server"* ]]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"corrupt_stream"}'
  messages_match covers
}

@test "stale connection (no ping within --ping-timeout): reconnect, nothing missing" {
  EVENTS=60 sim_fixed --stall-after 100 --fault-once
  connect_once --ping-timeout 1
  [[ $stderr == *"no SESSION_PING for 1 s: stale connection"* ]]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"stale"}'
  messages_match covers
}

@test "token endpoint fails (HTTP 503) and the port refuses at first: retries until it works" {
  sim_fixed --auth-fail 2 --refuse-for 1
  connect_once
  [[ $stderr == *"HTTP 503"* ]]
  messages_match exactly
}

@test "--max-attempts: gives up with 69 when nothing listens" {
  local port
  port=$(free_port)
  run_split ora-connect --auth-url "https://127.0.0.1:$port/auth" --host 127.0.0.1 --port "$port" \
    --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem" \
    --offering offering-se --backoff-min 0.01 --backoff-max 0.02 --max-attempts 3
  assert_failure 69
  [ "$(grep -c 'unable to fetch a token' <<<"$stderr")" -eq 3 ]
  [[ $stderr == *"giving up after 3 failed attempts"* ]]
  [ -z "$output" ]
}

# ---- a slow downstream -------------------------------------------------------

@test "downstream stalled past --max-buffer: disconnect, drain, catch up, nothing lost" {
  # About 300 KB of stream against a 64 KB pipe and a 128 KB buffer.
  EVENTS=400 sim_fixed --level 1
  echo 0 >ckpt
  mkfifo pipe
  ora-connect "${CONN[@]}" --checkpoint ckpt --once --max-buffer 128K >pipe 2>err &
  local pid=$!
  BG+=($pid)
  exec 7<pipe                          # holds the read end open, reads nothing yet
  wait_grep err 20 "downstream stalled"
  cat <&7 >out.rec
  exec 7<&-
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"buffer_full"}'
  assert_line '{"ctrl":"connected","conn":2}'
  grep -q "waiting for downstream to take" err
  messages_match covers
}

@test "pings are answered while downstream is stopped (within the buffer)" {
  sim_start --rate 500 --events 20 --ping-interval 0.2 --pong-timeout 2
  conn_init
  mkfifo pipe
  cat pipe >out.rec &
  local reader=$!
  BG+=($reader)
  ora-connect "${CONN[@]}" --ping-timeout 3 >pipe 2>err &
  local pid=$!
  BG+=($pid)
  wait_grep err 20 "realtime"
  kill -STOP "$reader"
  sleep 5                       # 25 pings, 2 pong timeouts, 1.6 ping timeouts long
  kill -CONT "$reader"
  sleep 0.5
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  wait "$reader"
  grep -q "summary: 1 connections, 0 reconnects" err
  run grep -q "no pong within" "$SIM_ERR"
  assert_failure
  run ctrls out.rec
  assert_line --index -1 '{"ctrl":"disconnected","conn":1,"reason":"shutdown"}'
}

@test "SIGTERM while waiting to reconnect exits 0 at once" {
  local port
  port=$(free_port)
  ora-connect --auth-url "https://127.0.0.1:$port/auth" --host 127.0.0.1 --port "$port" \
    --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem" \
    --offering offering-se --backoff-min 60 --backoff-max 60 >out.rec 2>err &
  local pid=$!
  BG+=($pid)
  wait_grep err 10 "reconnecting in"
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  grep -q "summary: 0 connections" err
  [ ! -s out.rec ]
}

@test "SIGTERM drains a stalled downstream; a second one gives up with 75" {
  sim_start --rate 0 --events 400 --ping-interval 0.2   # ~300 KB of snapshot
  conn_init
  mkfifo pipe
  exec 7<>pipe                 # a reader that never reads: 64 KB of pipe, then our buffer
  ora-connect "${CONN[@]}" --checkpoint missing >pipe 2>err &
  local pid=$!
  BG+=($pid)
  wait_grep err 20 "realtime"
  kill -TERM "$pid"
  wait_grep err 10 "stopping: draining output"
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  exec 7<&-
  [ "$rc" -eq 75 ]
  grep -q "unable to drain output" err
}

@test "a closed stdout is an I/O error: exit 74" {
  sim_fixed
  echo 0 >ckpt
  run bash -c 'ora-connect "$@" --checkpoint ckpt --once 2>err | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"' _ "${CONN[@]}"
  assert_output 74
  grep -q "unable to write to stdout" err
}

# ---- certificates ------------------------------------------------------------

@test "--verify-name: the certificate's names and wildcards are accepted" {
  sim_fixed
  local name
  for name in localhost ora-sim.test x.ora-sim.test '*.ora-sim.test' 127.0.0.1; do
    run_split ora-connect "${CONN[@]}" --verify-name "$name" --once -o out.rec
    assert_success
  done
}

@test "--verify-name: a wrong host name is refused" {
  sim_fixed
  local name
  for name in '*.kambi.com' wrong.example a.b.ora-sim.test ora-sim.tes 127.0.0.2; do
    run_split ora-connect "${CONN[@]}" --verify-name "$name" --once --max-attempts 1 -o out.rec
    assert_failure 69
    [[ $stderr == *"server certificate does not match $name"* ]]
  done
}

@test "--verify-name: malformed patterns are usage errors" {
  sim_fixed
  local name
  for name in '*' '*.com' 'a*.ora-sim.test' 'x.*.test' '' 'a..b'; do
    run_split ora-connect "${CONN[@]}" --verify-name "$name" --once
    assert_failure 64
  done
}

@test "an untrusted server certificate is refused (token server and ORA server)" {
  sim_fixed
  # The token server, checked against a CA that did not sign it.
  run_split ora-connect "${CONN[@]}" --cacert "$PKI_DIR/untrusted-ca.pem" --once --max-attempts 1
  assert_failure 69
  [[ $stderr == *"auth server https://127.0.0.1:$SIM_AUTH_PORT/auth not trusted"* ]]
  # The ORA server: a TLS server whose certificate comes from the untrusted CA.
  local port
  port=$(free_port)
  openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$PKI_DIR/untrusted-client.pem" \
    -key "$PKI_DIR/untrusted-client.key" </dev/null >/dev/null 2>&1 &
  BG+=($!)
  wait_port "$port"
  run_split ora-connect "${CONN[@]}" --port "$port" --once --max-attempts 1
  assert_failure 69
  [[ $stderr == *"unable to connect to 127.0.0.1 port $port: server certificate not trusted"* ]]
}

@test "an untrusted client certificate refused by the servers is reported clearly" {
  sim_fixed
  cp "$PKI_DIR"/untrusted-client.* .
  # The token server refuses it...
  run_split ora-connect "${CONN[@]}" --cert untrusted-client.pem --key untrusted-client.key --once --max-attempts 1
  assert_failure 69
  [[ $stderr == *"refused our client certificate"* ]] || { echo "$stderr"; false; }
  # ...and so does the ORA server, given a valid token from a stand-in.
  sim_token tok
  local port
  port=$(free_port)
  python3 - "$port" "$PKI_DIR" tok <<'PY' &
import http.server, ssl, sys
port, pki, tok = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(tok))); self.end_headers()
        self.wfile.write(tok)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(pki + "/server.pem", pki + "/server.key")
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
  BG+=($!)
  wait_port "$port"
  run_split ora-connect "${CONN[@]}" --auth-url "https://127.0.0.1:$port/auth" \
    --cert untrusted-client.pem --key untrusted-client.key --once --max-attempts 1
  assert_failure 69
  [[ $stderr == *"127.0.0.1 port $SIM_PORT: the server refused our client certificate"* ]]
}

# ---- configuration -----------------------------------------------------------

@test "a key file readable by others is refused (78) unless --insecure-key-perms" {
  sim_fixed
  cp "$PKI_DIR/client.key" k.pem
  chmod 640 k.pem
  refused "unable to use private key k.pem: it is accessible by group or others (mode 0640)" --key k.pem
  run_split ora-connect "${CONN[@]}" --key k.pem --once --insecure-key-perms -o out.rec
  assert_success
}

@test "key files: refused when others may read them (0604), when owned by another user, when a symlink" {
  sim_fixed
  cp "$PKI_DIR/client.key" k.pem
  chmod 604 k.pem
  refused "unable to use private key k.pem: it is accessible by group or others (mode 0604)" --key k.pem
  chmod 600 k.pem
  ln -s k.pem link.pem
  refused "unable to use private key link.pem: it is a symbolic link" --key link.pem
  if [ "$(id -u)" -eq 0 ]; then
    # owned by another user: refused, even with --insecure-key-perms
    chown 65534 k.pem
    run_split ora-connect "${CONN[@]}" --key k.pem --once --insecure-key-perms
    assert_failure 78
    [[ $stderr == *"unable to use private key k.pem: it belongs to uid 65534, neither to us (uid 0) nor to root"* ]] ||
      fail "$stderr"
  fi
}

@test "the key is read once, at start: swapped for a symlink later, it is never read again" {
  EVENTS=2 sim_start --rate 200 --ping-interval 0.2 --drop-after-msgs 400 --fault-once
  conn_init
  cp "$PKI_DIR/client.key" k.pem
  chmod 600 k.pem
  strace -f -qq -e trace=open,openat -o trace ora-connect "${CONN[@]}" --key "$PWD/k.pem" >out.rec 2>err &
  local spid=$!
  BG+=($spid)
  wait_grep err 30 "connection 1: connected"
  # another valid key (of another certificate): a re-read would break the token request
  mv k.pem k.orig
  ln -s "$PKI_DIR/untrusted-client.key" k.pem
  wait_grep err 60 "connection 2: connected"
  kill -TERM "$(pgrep -P "$spid")"   # ora-connect, strace's child
  wait "$spid" || true
  [[ $(cat err) != *"unable to fetch a token"* ]] || fail "$(cat err)"
  [ "$(grep -c "open.*\"$PWD/k.pem\"" trace)" -eq 1 ] || fail "the key was opened more than once: $(grep k.pem trace)"
  grep -q "O_NOFOLLOW" <(grep "$PWD/k.pem" trace)
}

@test "unusable certificate, key or CA files exit 78 naming the file" {
  sim_fixed
  echo junk >bad.pem
  chmod 600 bad.pem
  refused "unable to load client certificate bad.pem" --cert bad.pem
  refused "unable to load private key bad.pem" --key bad.pem
  refused "unable to load CA file bad.pem" --cacert bad.pem
  refused "does not belong to certificate" --key "$PKI_DIR/server.key"
  refused "unable to use private key nonexistent.key: No such file" --key nonexistent.key
  # every file error names the OS's reason (issue 14: not "system lib")
  refused "unable to use client certificate nonexistent.pem: No such file or directory" --cert nonexistent.pem
  refused "unable to use CA file nonexistent.pem: No such file or directory" --cacert nonexistent.pem
  refused "unable to use CA file .: not a regular file" --cacert .
  [[ $stderr != *"system lib"* ]]
}

@test "INVALID_OFFERING and INVALID_PROTOCOL_VERSION... : exit 78 naming the code" {
  sim_fixed
  run_split ora-connect "${CONN[@]}" --offering no-such-offering --once -o out.rec
  assert_failure 78
  [[ $stderr == *"the server answered INVALID_OFFERING"* ]]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"session_error"}'
}

@test "a checkpoint file that is not an offset exits 78" {
  sim_fixed
  echo "12abc" >ckpt
  refused "unable to read checkpoint ckpt" --checkpoint ckpt
  : >ckpt
  run_split ora-connect "${CONN[@]}" --checkpoint ckpt --once
  assert_failure 78
  # one offset range in every stage: 0..2^53-1
  for w in 9007199254740992 9223372036854775807 -1; do
    echo "$w" >ckpt
    run_split ora-connect "${CONN[@]}" --checkpoint ckpt --once
    assert_failure 78
    [[ $stderr == *"not one decimal offset in 0..2^53-1"* ]] || fail "$w: $stderr"
  done
}

@test "usage errors exit 64 with one line; --help and --version exit 0" {
  run_split ora-connect --host x
  assert_failure 64
  [ "$(wc -l <<<"$stderr")" -eq 1 ]
  [[ $stderr == "ora-connect: error: unable to start: --auth-url is required; try 'ora-connect --help'" ]] || fail "$stderr"
  local base=(--auth-url https://x/ --host x --cert c --key k --cacert a --offering o)
  run_split ora-connect "${base[@]}" --port 0
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 70000
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 1 --ping-timeout -1
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 1 --max-buffer 10
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 1 --backoff-min 5 --backoff-max 1
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 1 extra
  assert_failure 64
  run_split ora-connect "${base[@]}" --port 1 --bogus
  assert_failure 64
  run_split ora-connect --auth-url https://x/ --host x --port 1 --cert c --key k --cacert a
  assert_failure 64
  [[ $stderr == *"at least one --offering"* ]]
  run ora-connect --help
  assert_success
  assert_line --index 0 --partial "usage: ora-connect --auth-url URL"
  run ora-connect --version
  assert_success
}

@test "--help names every option of the man page's SYNOPSIS" {
  local opt
  run ora-connect --help
  for opt in $(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$TOP/man/ora-connect.1" |
               sed -n 's/.*Fl Fl \([a-z-]*\).*/\1/p' | sort -u); do
    [[ $output == *"--$opt"* ]] || { echo "--$opt missing from --help"; return 1; }
  done
}

@test "--state-dir DIR (and ORA_STATE_DIR): the checkpoint is DIR/checkpoint unless one is named" {
  sim_fixed
  mkdir -p st other
  echo 5 >st/checkpoint
  echo 7 >other/checkpoint
  echo 9 >ckpt
  # from the flag, from the environment; --checkpoint and ORA_CHECKPOINT name another file
  for c in "--state-dir st:5" "--state-dir st/:5" "ORA_STATE_DIR=st:5" "--state-dir st --checkpoint ckpt:9" \
           "ORA_STATE_DIR=st ORA_CHECKPOINT=ckpt:9" "ORA_CHECKPOINT=ckpt --state-dir other:7" \
           "ORA_STATE_DIR=st --state-dir other:7"; do
    local args=${c%:*} want=${c##*:} envs=() flags=() a
    for a in $args; do [[ $a == ORA_* ]] && envs+=("$a") || flags+=("$a"); done
    run_split env "${envs[@]}" ora-connect "${CONN[@]}" "${flags[@]}" --once -o out.rec
    assert_success
    [[ $stderr == *"replay requested after offset $want"* ]] || fail "$c: $stderr"
    run ctrls out.rec
    assert_line "{\"ctrl\":\"flow\",\"flow\":\"replay\",\"offset\":$want}"
  done
  # a directory without a checkpoint yet: a snapshot
  run_split ora-connect "${CONN[@]}" --state-dir empty --once -o out.rec
  assert_success
  [[ $stderr == *"no checkpoint in empty/checkpoint yet"* ]] || fail "$stderr"
  run_split ora-connect "${CONN[@]}" --state-dir "" --once
  assert_failure 64
}

@test "options come from ORA_* environment variables; flags win" {
  sim_fixed
  echo 0 >ckpt
  ORA_AUTH_URL=$SIM_AUTH_URL ORA_HOST=127.0.0.1 ORA_PORT=1 ORA_CERT=$PKI_DIR/client.pem \
    ORA_KEY=$PKI_DIR/client.key ORA_CACERT=$PKI_DIR/ca.pem ORA_OFFERINGS=offering-se,offering-gb \
    ORA_CHECKPOINT=ckpt run_split ora-connect --port "$SIM_PORT" --once -o out.rec
  assert_success
  [[ $stderr == *"replay requested after offset 0"* ]]
  messages_match exactly
}

@test "the man page's EXAMPLES run" {
  sim_fixed
  load lib/man
  export ORA_AUTH_URL=$SIM_AUTH_URL ORA_HOST=127.0.0.1 ORA_PORT=$SIM_PORT \
    ORA_CERT=$PKI_DIR/client.pem ORA_KEY=$PKI_DIR/client.key ORA_CACERT=$PKI_DIR/ca.pem
  man_examples "$TOP/man/ora-connect.1" >examples.sh
  [ -s examples.sh ]
  run bash -e examples.sh
  assert_success
  [ -s messages.jsonl ]
  [ -s stream.rec ]
  [[ $output == *CTRL*connected* ]]
}

# ---- a scripted server (hostile or odd peers) --------------------------------

W='{"type":"SESSION_WELCOME","sessionWelcome":{}}'
I='{"type":"SESSION_INITIALIZED","sessionInitialized":{}}'
RC='{"type":"SESSION_REPLAY_COMPLETED","sessionReplayCompleted":{"offset":3}}'

fake_setup() {
  sim_fixed
  FPORT=$(free_port)
  fake_ora "$FPORT" cmds.jsonl script
  BG+=($FAKE_PID)
  wait_port "$FPORT"
}

@test "commands: one gzip member with one frame each; INITIALIZE, REPLAY and PONG as specified" {
  cat >script <<EOF
send $W
recv
send $I
recv
send {"offset":2,"eventDeleted":{"id":9}}
send {"type":"SESSION_PING","sessionPing":{"id":42}}
recv
send {"type":"SESSION_PING","sessionPing":{"id":"a\\"b"}}
recv
send $RC
sleep 1
EOF
  echo 1 >ckpt
  fake_setup
  run_split ora-connect "${CONN[@]}" --port "$FPORT" --max-attempts 3 --offering offering-gb --checkpoint ckpt --once -o out.rec
  assert_success
  run jq -c '[.members, .frames]' cmds.jsonl
  assert_output "$(printf '[1,1]\n[1,1]\n[1,1]\n[1,1]')"
  run jq -c '.cmd' cmds.jsonl
  assert_line --index 1 '{"type":"SESSION_REPLAY","sessionReplay":{"offset":1}}'
  assert_line --index 2 '{"type":"SESSION_PONG","sessionPong":{"id":42}}'
  assert_line --index 3 '{"type":"SESSION_PONG","sessionPong":{"id":"a\"b"}}'
  run jq -c 'select(.cmd.type == "SESSION_INITIALIZE") | .cmd.sessionInitialize | [.protocolVersion, .offerings, (.token | test("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"))]' cmds.jsonl
  assert_line --index 0 '["V1",["offering-se","offering-gb"],true]'
}

@test "INVALID_PROTOCOL_VERSION and unknown error codes exit 78 naming the code" {
  cat >script <<EOF
send $W
recv
send {"type":"SESSION_ERROR","sessionError":{"code":"INVALID_PROTOCOL_VERSION","message":"V1 only"}}
sleep 1
--
send $W
recv
send {"type":"SESSION_ERROR","sessionError":{"code":"BRAND_NEW_CODE"}}
sleep 1
EOF
  fake_setup
  run_split ora-connect "${CONN[@]}" --port "$FPORT" --max-attempts 3 --once -o out.rec
  assert_failure 78
  [[ $stderr == *"the server answered INVALID_PROTOCOL_VERSION (V1 only)"* ]]
  run_split ora-connect "${CONN[@]}" --port "$FPORT" --max-attempts 3 --once -o out.rec
  assert_failure 78
  [[ $stderr == *"the server answered BRAND_NEW_CODE"* ]]
}

@test "protocol violations and silent servers: reconnect, then carry on" {
  cat >script <<EOF
send $I
sleep 1
--
send $W
recv
sleep 3
--
send {"type":"SESSION_NONSENSE"}
send $W
recv
send $I
recv
send {"offset":3,"eventDeleted":{"id":9}}
send $RC
sleep 1
EOF
  fake_setup
  echo 0 >ckpt
  run_split ora-connect "${CONN[@]}" --port "$FPORT" --max-attempts 3 --checkpoint ckpt --once --ping-timeout 1 -o out.rec
  assert_success
  [[ $stderr == *"connection 1: unexpected SESSION_INITIALIZED: reconnecting"* ]]
  [[ $stderr == *"connection 2: no SESSION_PING for 1 s: stale connection"* ]]
  [[ $stderr == *"connection 3: unknown session message type ignored"* ]]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"protocol"}'
  assert_line '{"ctrl":"disconnected","conn":2,"reason":"stale"}'
  assert_line '{"ctrl":"caught_up","offset":3}'
  messages out.rec >msgs.jsonl
  grep -qx '{"offset":3,"eventDeleted":{"id":9}}' msgs.jsonl
}

@test "hostile streams (huge frame length, not gzip, a gzip bomb): reconnect, then carry on" {
  local huge junk bomb
  huge=$(python3 -c 'import base64,gzip,struct; print(base64.b64encode(gzip.compress(struct.pack(">I", 0x7fffffff) + b"{}")).decode())')
  junk=$(printf 'this is not gzip at all' | base64 -w0)
  bomb=$(python3 -c 'import base64,gzip,struct; n=15<<20; print(base64.b64encode(gzip.compress(struct.pack(">I", n) + b" " * n, 9)).decode())')
  {
    echo "send $W"; echo "raw $huge"; echo "sleep 1"; echo "--"
    echo "send $W"; echo "raw $junk"; echo "sleep 1"; echo "--"
    echo "send $W"; echo "raw $bomb"; echo "sleep 1"; echo "--"
    echo "send $W"; echo "recv"; echo "send $I"; echo "recv"; echo "send $RC"; echo "sleep 1"
  } >script
  fake_setup
  echo 0 >ckpt
  run_split ora-connect "${CONN[@]}" --port "$FPORT" --max-attempts 3 --checkpoint ckpt --once -o out.rec
  assert_success
  [ "$(grep -c 'undecodable stream from the server' <<<"$stderr")" -eq 3 ]
  run ctrls out.rec
  assert_line '{"ctrl":"disconnected","conn":1,"reason":"corrupt_stream"}'
  assert_line '{"ctrl":"disconnected","conn":2,"reason":"corrupt_stream"}'
  assert_line '{"ctrl":"disconnected","conn":3,"reason":"corrupt_stream"}'
  assert_line '{"ctrl":"caught_up","offset":3}'
}
