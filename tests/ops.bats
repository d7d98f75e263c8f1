#!/usr/bin/env bats
# Operating the pipeline: the README's settings table against the parser,
# the examples (systemd unit, logrotate, alerting rules) checked by the real
# tools, secrets kept where they belong in a real run, ora-connect as its own
# user, cron runs that name their cause, the README's hand-composed pipeline
# across Ctrl-C, and the stages' metrics read by --status.

load lib/pipeline

teardown() {
  [ -z "${COMPOSE_PGID-}" ] || kill -KILL -- "-$COMPOSE_PGID" 2>/dev/null || true
  pipeline_teardown
  if [ -n "${CU_USER-}" ]; then userdel "$CU_USER" 2>/dev/null || true; fi
  [ -z "${CU_DIR-}" ] || rm -rf "$CU_DIR"
}

# The ORA_* names in the first column of the README's "Configuration" table.
readme_settings() {
  awk '/^## Configuration/ { on = 1; next } /^## / { on = 0 } on && /^\| `ORA_/' "$TOP/README.md" |
    cut -d'|' -f2 | grep -oE 'ORA_[A-Z_]+' | sort -u
}

@test "ops: every setting in the README's table works the same in -c FILE, the environment and --set" {
  local bin=$ORA_BIN
  export ORA_BIN_DIR=$FIXTURES/supervise ORA_STATE_DIR=$BATS_TEST_TMPDIR/state
  for v in $(compgen -e ORA_); do [[ $v == ORA_BIN_DIR || $v == ORA_STATE_DIR || $v == ORA_LOG ]] || unset "$v"; done
  export ORA_LOG=info
  readme=$(readme_settings)
  [ "$(wc -l <<<"$readme")" -ge 30 ] || fail "the README's table was not found: $readme"
  parser=$(ora-supervise --print | sed -n 's/^setting: \(ORA_[A-Z_]*\)=.*/\1/p' | sort -u)
  [ "$readme" = "$parser" ] || fail "README and parser differ: $(diff <(echo "$readme") <(echo "$parser") | grep '^[<>]' | tr '\n' ' ')"
  # a value for each, and what it must do to the stage command lines
  declare -A val=(
    [ORA_AUTH_URL]=https://auth.example/t [ORA_HOST]=h.example [ORA_PORT]=7443 [ORA_CERT]=/c.pem
    [ORA_KEY]=/k.pem [ORA_CACERT]=/ca.pem [ORA_VERIFY_NAME]=v.example [ORA_OFFERINGS]=a,b
    [ORA_STREAM]=s1 [ORA_ENDPOINT_URL]=http://127.0.0.1:9 [ORA_STATE_DIR]=sd [ORA_CHECKPOINT]=ck
    [ORA_LOG_DIR]=ld [ORA_LOG]=warn [ORA_RESTART_MAX]=7 [ORA_RESTART_WINDOW]=70 [ORA_RESTART_DELAY]=2
    [ORA_RESTART_DELAY_MAX]=9 [ORA_HEALTHY_AFTER]=11 [ORA_DRAIN_TIMEOUT]=12 [ORA_WATCHDOG]=13
    [ORA_ONCE_TIMEOUT]=14 [ORA_BATCH_SIZE]=15 [ORA_BATCH_TIMEOUT]=16 [ORA_RULES]=/r.conf
    [ORA_CHECKPOINT_INTERVAL]=1.5 [ORA_METRICS_DIR]=md [ORA_METRICS_INTERVAL]=3 [ORA_STALE_AFTER]=17
    [ORA_CONNECT_USER]=nobody [ORA_PASS_ENV]=X_Y [ORA_BIN_DIR]=$bin [ORA_STDOUT]=1 [ORA_PROGRESS]=1
    [ORA_CONNECT_ARGS]=--c1 [ORA_DEFRAME_ARGS]=--d1 [ORA_ORDER_ARGS]=--o1 [ORA_ACTORS_ARGS]=--a1 [ORA_PUT_ARGS]=--p1)
  declare -A flag=(
    [ORA_HOST]='^connect: .* --host h\.example' [ORA_PORT]='^connect: .* --port 7443' [ORA_CERT]='^connect: .* --cert /c\.pem'
    [ORA_KEY]='^connect: .* --key /k\.pem' [ORA_CACERT]='^connect: .* --cacert /ca\.pem'
    [ORA_VERIFY_NAME]='^connect: .* --verify-name v\.example' [ORA_OFFERINGS]='^connect: .* --offering a --offering b'
    [ORA_STREAM]='^put: .* --stream s1' [ORA_ENDPOINT_URL]='^put: .* --endpoint-url http://127\.0\.0\.1:9'
    [ORA_STATE_DIR]='^actors: .* --state-dir sd/actors' [ORA_CHECKPOINT]='^put: .* --checkpoint ck'
    [ORA_BATCH_SIZE]='^order: .* --batch-size 15' [ORA_BATCH_TIMEOUT]='^order: .* --batch-timeout 16'
    [ORA_RULES]='^actors: .* --rules /r\.conf' [ORA_CHECKPOINT_INTERVAL]='^actors: .* --checkpoint-interval 1\.5'
    [ORA_METRICS_DIR]='^put: .* --metrics md/put\.prom' [ORA_METRICS_INTERVAL]='^deframe: .* --metrics-interval 3'
    [ORA_STDOUT]='^put: .* --stdout' [ORA_CONNECT_ARGS]='^connect: .* --c1$' [ORA_DEFRAME_ARGS]='^deframe: .* --d1$'
    [ORA_ORDER_ARGS]='^order: .* --o1$' [ORA_ACTORS_ARGS]='^actors: .* --a1$' [ORA_PUT_ARGS]='^put: .* --p1$'
    [ORA_BIN_DIR]="^connect: $bin/ora-connect ")
  base=$(ora-supervise --print)
  for s in $readme; do
    [ -n "${val[$s]-}" ] || fail "no test value for $s: add one to this test"
    v=${val[$s]}
    e=$(env "$s=$v" ora-supervise --print) || fail "$s=$v in the environment: exit $?"
    printf '%s=%s\n' "${s#ORA_}" "$v" >conf
    f=$(ora-supervise -c conf --print) || fail "$s=$v in -c FILE: exit $?"
    o=$(ora-supervise --set "$s=$v" --print) || fail "--set $s=$v: exit $?"
    [ "$e" = "$f" ] || fail "$s: the environment and -c FILE differ"
    [ "$e" = "$o" ] || fail "$s: the environment and --set differ"
    [ "$e" != "$base" ] || fail "$s=$v changes nothing"
    grep -qxF "setting: $s=$v" <<<"$e" || fail "$s=$v not shown by --print"
    if [ -n "${flag[$s]-}" ]; then
      grep -Eq -- "${flag[$s]}" <<<"$e" || fail "$s=$v: no line /${flag[$s]}/ in: $e"
    fi
  done
  # the auth URL is never a stage's option
  e=$(ORA_AUTH_URL=https://auth.example/t ora-supervise --print)
  if grep -E '^(connect|deframe|order|actors|put): ' <<<"$e" | grep -q 'auth.example'; then fail "the auth URL is in a command line"; fi
}

@test "ops: every option the supervisor gives a real stage is one that stage's --help names" {
  export ORA_BIN_DIR=$ORA_BIN
  run ora-supervise --print --set HOST=h --set PORT=1 --set CERT=c --set KEY=k --set CACERT=ca --set VERIFY_NAME=v \
    --set OFFERINGS=o --set STREAM=s --set ENDPOINT_URL=http://127.0.0.1:1 --set BATCH_SIZE=1 --set BATCH_TIMEOUT=1 \
    --set RULES=r --set CHECKPOINT_INTERVAL=1 --once
  assert_success
  declare -A bin=([connect]=ora-connect [deframe]=ora-deframe [order]=ora-order [actors]=ora-actors [put]=kinesis-put)
  for s in connect deframe order actors put; do
    line=$(grep "^$s: " <<<"$output")
    help=$("$ORA_BIN/${bin[$s]}" --help 2>&1)
    for o in $(grep -oE ' --[a-z-]+' <<<"$line"); do
      grep -q -- "$o\b" <<<"$help" || fail "${bin[$s]} --help does not name $o (the supervisor gives it)"
    done
  done
}

@test "ops: the alerting rules pass promtool check rules, and each alert fires when it must (promtool test rules)" {
  cp "$TOP/examples/ora-pipeline.rules.yml" "$FIXTURES/supervise/rules.test.yml" .
  run promtool check rules ora-pipeline.rules.yml
  assert_success
  assert_output --partial "SUCCESS: 6 rules found"
  run promtool test rules rules.test.yml
  echo "$output"
  assert_success
}

@test "ops: the systemd unit passes systemd-analyze verify and has the hardening settings" {
  command -v systemd-analyze >/dev/null || skip "no systemd-analyze here"
  sed "s|/usr/local/bin/ora-supervise|$TOP/scripts/ora-supervise|" "$TOP/examples/ora-pipeline.service" >ora-pipeline.service
  # it checks Documentation=man:ora-supervise(1) with man(1)
  mkdir -p mp/man1 && cp "$TOP"/man/*.1 mp/man1/
  export MANPATH=$BATS_TEST_TMPDIR/mp:
  run systemd-analyze verify ./ora-pipeline.service
  # it warns (and exits 0) on keys it cannot parse: nothing may be said
  assert_success
  assert_output ""
  for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes Restart=on-failure KillMode=mixed \
           'ReadWritePaths=/var/lib/ora /var/log/ora' CapabilityBoundingSet=; do
    grep -qx -- "$k" ora-pipeline.service || fail "the unit lacks $k"
  done
  # the state and log directories it names are the ones ora-supervise is given
  grep -q -- '--state-dir /var/lib/ora --log-dir /var/log/ora' ora-pipeline.service
  # a setting that systemd does not know fails the check (the check can fail)
  echo 'ProtectSystem=sometimes' >>ora-pipeline.service
  run systemd-analyze verify ./ora-pipeline.service
  refute_output ""
}

@test "ops: logrotate rotates a running supervisor's log; it goes on writing in the new file" {
  export SV_CTL=$BATS_TEST_TMPDIR/ctl ORA_BIN_DIR=$FIXTURES/supervise ORA_STATE_DIR=$BATS_TEST_TMPDIR/state
  export ORA_PASS_ENV="SV_CTL SV_END SV_SLEEP" SV_SLEEP=0.05
  mkdir -p "$SV_CTL"
  sed -e "s|/var/log/ora|$BATS_TEST_TMPDIR/logs|" -e 's|su ora ora|su root root|' \
    "$TOP/examples/ora-pipeline.logrotate" >rotate.conf
  run logrotate -d -s state.lr rotate.conf
  assert_success
  sv_start --log-dir logs
  for ((i = 0; i < 100; i++)); do grep -q 'start connect' logs/ora-supervise.log 2>/dev/null && break; sleep 0.1; done
  run logrotate -f -s state.lr rotate.conf
  assert_success
  [ -s logs/ora-supervise.log.1 ] || fail "nothing rotated: $(ls logs)"
  grep -q 'start connect' logs/ora-supervise.log.1
  kill -USR1 "$SV_PID"
  for ((i = 0; i < 100; i++)); do grep -q 'supervise: summary' logs/ora-supervise.log 2>/dev/null && break; sleep 0.1; done
  grep -q 'supervise: summary' logs/ora-supervise.log
  # copytruncate: the new file starts with the new lines, not with zeros
  [ "$(head -c 1 logs/ora-supervise.log | od -An -c | tr -d ' ')" != '\0' ]
  [ "$(stat -c %a logs/ora-supervise.log)" = 640 ]
}

# ---- a real run: where the secrets are (issue 15)

@test "ops: secrets of a real run appear in no argv (ps), no unrelated /proc/PID/environ, no log" {
  local pw=pa55w0rdXYZ key=K3YapiXYZ aws=S3cretAwsKeyXYZ tok=S3ssionT0kenXYZ
  kinesalite_start
  kinesis_create_stream sec 1
  sim_start --seed 3 --rate 500 --ping-interval 1
  sv_real_env sec
  export ORA_AUTH_URL="https://us3r:$pw@127.0.0.1:$SIM_AUTH_PORT/auth?api_key=$key"
  export AWS_SECRET_ACCESS_KEY=$aws AWS_SESSION_TOKEN=$tok
  export ORA_LOG_DIR=$BATS_TEST_TMPDIR/logs
  sv_start
  sv_wait_checkpoint 1 60
  declare -A spid
  for s in connect deframe order actors put; do
    spid[$s]=$(sed -nE "s/.* supervise: start $s \(pid ([0-9]+)\).*/\1/p" "$ORA_LOG_DIR/ora-supervise.log" | tail -1)
    [ -n "${spid[$s]}" ] || fail "no pid for $s"
  done
  for s in connect deframe order actors put; do
    p=${spid[$s]}
    args=$(ps -o args= -p "$p")
    [ -n "$args" ] || fail "$s (pid $p) is not running"
    for x in "$pw" "$key" "$aws" "$tok"; do
      if grep -qF -- "$x" <<<"$args" || tr '\0' '\n' <"/proc/$p/cmdline" | grep -qF -- "$x"; then fail "$s has a secret in its argv: $args"; fi
    done
    env=$(tr '\0' '\n' <"/proc/$p/environ")
    [ -n "$env" ] || fail "cannot read /proc/$p/environ (root only: the stages are not dumpable)"
    if [ "$s" != put ] && grep -qE "$aws|$tok" <<<"$env"; then fail "$s sees the AWS secrets"; fi
    if [ "$s" != connect ] && grep -qE "$pw|$key" <<<"$env"; then fail "$s sees the auth URL"; fi
  done
  tr '\0' '\n' <"/proc/${spid[put]}/environ" | grep -qx "AWS_SECRET_ACCESS_KEY=$aws"
  tr '\0' '\n' <"/proc/${spid[connect]}/environ" | grep -q "^ORA_AUTH_URL=https://us3r:$pw@"
  # no process started for the pipeline other than the supervisor sees them
  guard=$(ps -o pid=,args= --ppid "$SV_PID" | awk '/guardian/ { print $1 }')
  [ -n "$guard" ]
  if tr '\0' '\n' <"/proc/$guard/environ" | grep -qE "$aws|$tok|$pw"; then fail "the guardian sees secrets"; fi
  kill -TERM "$SV_PID"
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  for f in "$ORA_LOG_DIR/ora-supervise.log" "$SV_LOG" "$SV_OUT"; do
    if grep -qE "$pw|$key|$aws|$tok" "$f"; then fail "a secret in $f: $(grep -E "$pw|$key|$aws|$tok" "$f" | head -3)"; fi
  done
  [ "$(stat -c %a "$ORA_LOG_DIR/ora-supervise.log")" = 640 ]
  [ "$(stat -c %a "$ORA_LOG_DIR")" = 750 ]
  [ "$(stat -c %a "$ORA_STATE_DIR")" = 750 ]
}

@test "ops: ORA_CONNECT_USER: ora-connect runs as its own user, the only one that can read the key; nothing lost" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to create a user"
  CU_USER=orat$$
  useradd --system --no-create-home --shell /usr/sbin/nologin "$CU_USER" || skip "useradd failed"
  # a directory the user can traverse: the PKI with the key its own
  CU_DIR=$(mktemp -d /tmp/ora-cu.XXXXXX)
  chmod 755 "$CU_DIR"
  pki_setup "$CU_DIR/pki"
  chmod 755 "$CU_DIR/pki"
  chown "$CU_USER" "$CU_DIR/pki/client.key"
  chmod 600 "$CU_DIR/pki/client.key"
  chmod 644 "$CU_DIR/pki/client.pem" "$CU_DIR/pki/ca.pem"
  sim_start --seed 7 --rate 1000 --max-messages 3000 --reorder 0 --ping-interval 1
  sv_real_env unused
  export ORA_STDOUT=1 ORA_CONNECT_USER=$CU_USER ORA_ORDER_ARGS="-t 0"
  export ORA_CERT=$CU_DIR/pki/client.pem ORA_KEY=$CU_DIR/pki/client.key ORA_CACERT=$CU_DIR/pki/ca.pem
  head0=$(sv_sim_head0)
  sv_start
  sv_wait_checkpoint $((head0 + 1)) 60
  uid=$(id -u "$CU_USER")
  for s in connect deframe order actors put; do
    p=$(sv_stage_pid "$s")
    st=$(cat "/proc/$p/status")
    u=$(awk '/^Uid:/ { print $2 }' <<<"$st")
    if [ "$s" = connect ]; then [ "$u" = "$uid" ] || fail "connect runs as uid $u"
    else [ "$u" = 0 ] || fail "$s runs as uid $u"; fi
    grep -Eq '^CapEff:[[:space:]]+0+$' <<<"$st" || fail "$s has capabilities: $(grep CapEff <<<"$st")"
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' <<<"$st" || fail "$s may gain privileges"
  done
  # a stage without capabilities, even as root, cannot read the key
  run setpriv --inh-caps=-all --bounding-set=-all -- cat "$ORA_KEY"
  assert_failure
  assert_output --partial "Permission denied"
  kill -TERM "$SV_PID"
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  # everything up to the committed checkpoint came out
  w=$(sv_checkpoint)
  snap=$(sv_sim_snapshot)
  sv_expected 7 "$snap" $((w - snap)) --reorder 0 >expected.jsonl
  run sv_compare expected.jsonl "$SV_OUT"
  echo "# ORA_CONNECT_USER: $output" >&3
  assert_success
}

# ---- cron: the cause of a run that cannot make progress (issue 14)

once_env() {
  PKI_DIR=${PKI_DIR:-}
  [ -n "$PKI_DIR" ] || pki_setup
  sv_real_env unused
  export ORA_STDOUT=1 ORA_LOG_DIR=$BATS_TEST_TMPDIR/logs ORA_ONCE_TIMEOUT=3
}

@test "ops: --once against a server that refuses: exit 75 after --once-timeout, 'connection refused' on stderr" {
  export SIM_PORT=$(free_port) SIM_AUTH_URL="https://127.0.0.1:$(free_port)/auth"
  once_env
  run_split ora-supervise --once
  [ "$status" -eq 75 ] || fail "exit $status: $stderr"
  [[ $stderr == *"giving up after 3 s without progress (--once-timeout): cannot reach the server: connection refused"* ]] ||
    fail "stderr: $stderr"
  [[ $stderr != *lock* ]] || fail "the lock is blamed: $stderr"
  # the next run is not told about a lock: the first one is gone
  run_split ora-supervise --once
  [ "$status" -eq 75 ]
  [[ $stderr != *"held by"* ]] || fail "$stderr"
}

@test "ops: --once with a CA that does not trust the server: exit 75 naming TLS" {
  sim_start --seed 1 --rate 100 --ping-interval 1
  once_env
  export ORA_CACERT=$PKI_DIR/untrusted-ca.pem
  run_split ora-supervise --once
  [ "$status" -eq 75 ] || fail "exit $status: $stderr"
  [[ $stderr == *"without progress (--once-timeout): TLS"* ]] || fail "stderr: $stderr"
}

@test "ops: --once while the token endpoint fails: exit 75 naming auth" {
  sim_start --seed 1 --rate 100 --ping-interval 1 --auth-fail 100000
  once_env
  run_split ora-supervise --once
  [ "$status" -eq 75 ] || fail "exit $status: $stderr"
  [[ $stderr == *"without progress (--once-timeout): auth"* ]] || fail "stderr: $stderr"
}

# ---- the README's hand-composed live pipeline (issue 14 item 3)

# The README's composition, from "ORA_AUTH_URL=" to "out.jsonl", with the
# simulator's ports and this test's PKI.
readme_composition() {
  awk '/^## Composing stages by hand/ { on = 1 } on && /^ORA_AUTH_URL=/ { p = 1 } p { print } p && /out\.jsonl/ { exit }' \
    "$TOP/README.md" |
    sed -e "s|127.0.0.1:7001|127.0.0.1:$SIM_AUTH_PORT|" -e "s|--port 7000|--port $SIM_PORT|" -e "s|pki/|$PKI_DIR/|g"
}

@test "ops: the README's live composition loses nothing across SIGINT to its process group" {
  for t in ora-connect ora-actors kinesis-put; do
    "$ORA_BIN/$t" --help 2>&1 | grep -q -- --state-dir || skip "$t has no --state-dir yet (issue 14 item 3)"
  done
  sim_start --seed 13 --rate 1500 --max-messages 12000 --reorder 0 --ping-interval 1
  readme_composition >compose.sh
  grep -q -- '--state-dir state' compose.sh
  grep -q 'out.jsonl' compose.sh
  head0=$(sv_sim_head0)
  final=$((head0 + 12000))
  # the composition sees no setting of the harness (ORA_BIN stays: sv_expected runs ora-sim from it)
  for v in $(compgen -e ORA_); do [[ $v == ORA_LOG || $v == ORA_BIN ]] || unset "$v"; done
  export ORA_BATCH_TIMEOUT=0   # arrival order: outputs exactly comparable (README "Durability")
  # run 1, stopped with SIGINT to the whole process group mid-stream
  setsid bash compose.sh 2>run1.err &
  COMPOSE_PGID=$!
  # mid-stream: a checkpoint committed (so run 2 replays instead of taking
  # a new snapshot) and realtime outputs after it
  for ((i = 0; i < 900; i++)); do
    [ -s state/checkpoint ] && [ -s out.jsonl ] && [ "$(wc -l <out.jsonl)" -ge 500 ] && break
    sleep 0.1
  done
  [ -s state/checkpoint ] || fail "run 1 committed no checkpoint in 90 s: $(tail -5 run1.err)"
  sleep 1
  kill -INT -- "-$COMPOSE_PGID"
  for ((i = 0; i < 300; i++)); do kill -0 "$COMPOSE_PGID" 2>/dev/null || break; sleep 0.1; done
  wait "$COMPOSE_PGID" || true
  COMPOSE_PGID=""
  w1=$(cat state/checkpoint 2>/dev/null || echo none)
  n1=$(wc -l <out.jsonl)
  # run 2 until the session's end is committed
  for ((i = 0; i < 300; i++)); do [ "$(wc -l <"$SIM_LOG")" -ge "$final" ] && break; sleep 0.1; done
  setsid bash compose.sh 2>run2.err &
  COMPOSE_PGID=$!
  for ((i = 0; i < 600; i++)); do [ "$(cat state/checkpoint 2>/dev/null || echo 0)" -ge "$final" ] && break; sleep 0.1; done
  kill -INT -- "-$COMPOSE_PGID"
  wait "$COMPOSE_PGID" || true
  COMPOSE_PGID=""
  [ "$(cat state/checkpoint)" -ge "$final" ] || fail "run 2 did not reach $final: $(tail -5 run2.err)"
  snap=$(sv_sim_snapshot)
  sv_expected 13 "$snap" $((final - snap)) --reorder 0 >expected.jsonl
  run sv_compare expected.jsonl out.jsonl
  echo "# README composition: stopped at checkpoint $w1 after $n1 outputs; $output" >&3
  assert_success
}

# ---- the stages' own metrics, read by --status (issue 17)

@test "ops: a real run exposes valid metrics for every stage and the supervisor; --status answers" {
  for t in ora-connect ora-deframe ora-order ora-actors kinesis-put; do
    "$ORA_BIN/$t" --help 2>&1 | grep -q -- --metrics || skip "$t has no --metrics yet (issue 17)"
  done
  kinesalite_start
  kinesis_create_stream met 1
  sim_start --seed 5 --rate 1000 --ping-interval 1
  sv_real_env met
  export ORA_METRICS_INTERVAL=1
  sv_start
  sv_wait_checkpoint 1 60
  for s in connect deframe order actors put supervise; do
    for ((i = 0; i < 50; i++)); do [ -s "$ORA_STATE_DIR/metrics/$s.prom" ] && break; sleep 0.1; done
  done
  sleep 2
  for s in connect deframe order actors put supervise; do
    f=$ORA_STATE_DIR/metrics/$s.prom
    [ -s "$f" ] || fail "no $f"
    run promtool check metrics <"$f"
    [ "$status" -eq 0 ] || fail "$s.prom: $output"
    grep -q "stage=\"$s\"" "$f"
  done
  grep -q '^ora_connect_connected{stage="connect"} 1$' "$ORA_STATE_DIR/metrics/connect.prom"
  run ora-supervise --status
  echo "$output" >&3
  assert_success
  assert_line --regexp "^connect +[0-9]+ +[0-9]+s +0  [0-9.]+[kM]? B/s +connected, flow (replay|realtime)"
  assert_line --regexp '^put +[0-9]+ .* rec/s +oldest unacked'
}
