#!/usr/bin/env bats
# End to end: scripts/ora-supervise runs the five real stages against ora-sim
# (TLS, client certificates) and kinesalite; what lands in Kinesis is read
# back with the AWS CLI and compared with the outputs the rules require,
# computed by the oracle written from design.md (tests/lib/supervise.bash
# sv_expected: ora-sim --dump | tests/tools/actors-expect.py), never by the
# binaries under test.

load lib/pipeline

setup() {
  cd "$BATS_TEST_TMPDIR"
  kinesalite_start
}

@test "e2e: a 100k-message session lands in Kinesis with every output the rules require" {
  local n=${SV_E2E_MESSAGES:-100000} reorder=${SV_E2E_REORDER:-0}
  export SV_ORDER_ARGS=${SV_ORDER_ARGS--t 0}
  kinesis_create_stream e2e 2
  sim_start --seed 11 --rate 20000 --max-messages "$n" --ping-interval 1 --reorder "$reorder"
  sv_real_env e2e
  sv_start
  head0=$(sv_sim_head0)
  final=$((head0 + n))
  sv_wait_checkpoint "$final" 150
  kill -TERM "$SV_PID"
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  grep -q 'drained cleanly' "$SV_LOG"
  [ "$(sv_checkpoint)" -eq "$final" ]
  [ "$(sv_count 'died')" -eq 0 ]
  snap=$(sv_sim_snapshot)
  [ -n "$snap" ]
  sv_expected 11 "$snap" $((final - snap)) --reorder "$reorder" >expected.jsonl
  kinesis_read_all e2e >got.jsonl
  [ -z "${SV_KEEP_DIR-}" ] || cp expected.jsonl got.jsonl "$SV_LOG" "$SIM_ERR" "$SIM_LOG" "$SV_KEEP_DIR/"
  run sv_compare expected.jsonl got.jsonl
  echo "# e2e ($n messages, snapshot at $snap): $output" >&3
  assert_success
  # every kind of output occurred
  for t in event_data bet_offer_opened bet_offer_closed in_game_odds_update; do
    grep -q "\"type\":\"$t\"" got.jsonl
  done
}

@test "e2e: every key keeps its order through Kinesis failing a fifth of the entries (fault stand-in)" {
  load lib/kinesis
  local n=8000
  export SV_ORDER_ARGS="-t 0"
  kinesis_fake_aws_env
  fault_start --fail-rate 0.2 --seed 5 --stream hot
  sim_start --seed 19 --rate 4000 --max-messages "$n" --reorder 0 --ping-interval 1
  sv_real_env hot
  export ORA_ENDPOINT_URL=$FAULT_ENDPOINT ORA_ORDER_ARGS="-t 0"
  head0=$(sv_sim_head0)
  final=$((head0 + n))
  sv_start
  sv_wait_checkpoint "$final" 150
  kill -TERM "$SV_PID"
  sv_wait_exit 60
  fault_stop || true
  [ "$sv_status" -eq 0 ]
  [ "$(sv_count 'died')" -eq 0 ]
  snap=$(sv_sim_snapshot)
  sv_expected 19 "$snap" $((final - snap)) --reorder 0 >expected.jsonl
  failed=$(jq -s 'map(.failed | length) | add' "$FAULT_DIR/requests.jsonl")
  [ "$failed" -gt 100 ] || fail "only $failed entries failed: the test shows nothing"
  # per key, what Kinesis accepted is exactly what the rules produce, in order
  run python3 - expected.jsonl "$FAULT_DIR/accepted.jsonl" <<'PY'
import collections, json, sys
def seqs(path):
    s = collections.defaultdict(list)
    for l in open(path):
        if l.strip():
            r = json.loads(l, parse_int=float)
            d = r["Data"]; d.pop("msg_datetime", None); d.pop("msg_flow", None)
            s[r["PartitionKey"]].append(json.dumps(d, sort_keys=True))
    return s
exp, got = seqs(sys.argv[1]), seqs(sys.argv[2])
hot = sum(1 for v in exp.values() if len(v) >= 3)
bad = [k for k in exp if exp[k] != got.get(k)] + [k for k in got if k not in exp]
print("%d keys, %d with 3 or more records, %d records; %d keys out of order or different"
      % (len(exp), hot, sum(map(len, exp.values())), len(bad)))
for k in bad[:3]:
    e, g = exp[k], got.get(k, [])
    i = next((j for j in range(min(len(e), len(g))) if e[j] != g[j]), min(len(e), len(g)))
    print("key %s: first difference at record %d of %d (got %d)" % (k, i, len(e), len(g)))
sys.exit(1 if bad or hot < 50 else 0)
PY
  echo "# hot keys, $failed entries failed: $output" >&3
  assert_success
}

@test "e2e: --stdout runs the pipeline without AWS; --once catches up and exits 0" {
  sim_start --seed 5 --rate 5000 --max-messages 5000 --ping-interval 1
  sv_real_env unused
  head0=$(sv_sim_head0)
  # wait until the generator is done, so that the catch-up reaches the end
  for ((i = 0; i < 100; i++)); do
    [ "$(wc -l <"$SIM_LOG")" -ge $((head0 + 5000)) ] && break
    sleep 0.1
  done
  sv_start --once --stdout
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  [ "$(sv_checkpoint)" -eq $((head0 + 5000)) ]
  snap=$(sv_sim_snapshot)
  [ "$snap" -eq $((head0 + 5000)) ]
  sv_expected 5 "$snap" 0 >expected.jsonl
  run sv_compare expected.jsonl "$SV_OUT"
  echo "# --once --stdout: $output" >&3
  assert_success
  # a second --once run replays from the checkpoint: nothing new
  SV_OUT=$BATS_TEST_TMPDIR/second.out SV_LOG=$BATS_TEST_TMPDIR/second.log sv_start --once --stdout
  sv_wait_exit 60
  [ "$sv_status" -eq 0 ]
  [ ! -s "$BATS_TEST_TMPDIR/second.out" ]
  grep -q 'connection 1: caught up' "$BATS_TEST_TMPDIR/second.log"
}

@test "e2e: the EXAMPLES of ora-supervise(1) run, --demo included (ora-sim, kinesalite, read back)" {
  export ORA_BIN_DIR=$ORA_BIN   # the tools under test (asan-test: build-asan/bin)
  load lib/man
  kinesalite_stop
  "$ORA_BIN/ora-sim" --dump --seed 2 --count 300 2>/dev/null | ora-rec wire 2>/dev/null >capture.rec
  man_examples "$TOP/man/ora-supervise.1" >examples.sh
  export ORA_ORDER_ARGS="-t 0"   # exactly comparable outputs (see lib/supervise.bash)
  [ "$(grep -c . examples.sh)" -ge 4 ]
  run bash -e examples.sh
  echo "$output" >"$BATS_TEST_TMPDIR/demo.out"
  assert_success
  # --print with the configuration file
  assert_line --partial "connect: $ORA_BIN/ora-connect --host ora.example.com --port 443 --offering kambi"
  # --from: the replayed file gave the outputs the oracle requires
  "$ORA_BIN/ora-sim" --dump --seed 2 --count 300 2>/dev/null | sv_oracle >expected.jsonl
  [ -s out.jsonl ]
  run sv_compare expected.jsonl out.jsonl --any-flow
  assert_success
  # the demo ran, drained, and read records back from its stream
  run cat "$BATS_TEST_TMPDIR/demo.out"
  assert_line --regexp '^ora-demo: [0-9]+ s, exit 0; committed checkpoint: offset [0-9]+$'
  assert_line --regexp '^Kinesis stream ora-demo holds [1-9][0-9]* records'
  assert_output --partial '"type":"bet_offer_opened"'
  # the progress line (printed every 10 s when not on a terminal)
  assert_line --regexp '^connect [0-9.kM-]+B/s  deframe [0-9.kM-]+/s  order [0-9.kM-]+/s  actors [0-9.kM-]+/s  put [0-9.kM-]+/s  \| checkpoint [0-9-]+ \| acknowledged by Kinesis [0-9.kM-]+'

  # and stopped its ora-sim and kinesalite
  dir=$(sed -nE 's/^logs, state and PKI: ([^ ]+) .*/\1/p' "$BATS_TEST_TMPDIR/demo.out")
  [ -d "$dir" ]
  run pgrep -f "$dir/pki"
  assert_failure
  grep -q 'drained cleanly' "$dir/ora-supervise.log"
  rm -rf "$dir"
}

@test "e2e: the EXAMPLES of ora-demo(1) run; its options are checked" {
  export ORA_BIN_DIR=$ORA_BIN   # the tools under test (asan-test: build-asan/bin)
  load lib/man
  kinesalite_stop
  run ora-demo --duration x
  assert_failure 64
  assert_output "ora-demo: error: --duration needs whole seconds, got x; try 'ora-demo --help'"
  run ora-demo --bogus
  assert_failure 64
  man_examples "$TOP/man/ora-demo.1" >examples.sh
  [ "$(grep -c . examples.sh)" -ge 1 ]
  run bash -e examples.sh
  assert_success
  assert_line --regexp '^ora-demo: [0-9]+ s, exit 0; committed checkpoint: offset [0-9]+$'
  assert_line --regexp '^  ora-deframe: summary: [0-9]+ messages'
  assert_line --regexp '^  kinesis-put: summary: [0-9]+ records in, [0-9]+ acknowledged'
  dir=$(sed -nE 's/^logs, state and PKI: ([^ ]+) .*/\1/p' <<<"$output")
  [ -d "$dir" ]
  run pgrep -f "$dir/pki"
  assert_failure
  rm -rf "$dir"
}
