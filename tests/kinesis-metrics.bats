#!/usr/bin/env bats
# kinesis-put --metrics: the families README "Monitoring" names for the put
# stage, checked by a real parser (promtool check metrics), with values that
# follow from what the fault stand-in did; a Kinesis that stops answering
# makes the oldest-unacknowledged age grow.

load helper
load lib/kinesis

setup() { kinesis_put_setup; }
teardown() { kinesis_put_teardown; }

# metric FILE NAME{LABELS}: the value of one series (labels as written)
metric() {
  awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}

@test "--metrics: valid Prometheus text (promtool), every family of the put stage, values that match the run" {
  kinesis_gen 300 11 100 | ora-rec pack --meta -o "$T/in.rec" 2>/dev/null
  fault_start --plan ok,500 --fail-first-try-every 100
  run_split kinesis-put --stream s --endpoint-url "$FAULT_ENDPOINT" --backoff 1..20 --linger 5 --max-records 50 \
    --concurrency 1 --checkpoint "$T/ck" --metrics "$T/m.prom" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  run promtool check metrics <"$T/m.prom"
  echo "$output"
  assert_success
  m=$T/m.prom
  for fam in ora_kinesis_records_total ora_kinesis_requests_total ora_kinesis_request_duration_seconds \
    ora_kinesis_oldest_unacked_age_seconds ora_kinesis_checkpoint_offset ora_kinesis_checkpoint_time_seconds \
    ora_pipeline_lag_seconds ora_build_info; do
    grep -q "^# TYPE $fam " "$m" || fail "no family $fam"
  done
  assert_equal "$(metric "$m" 'ora_kinesis_records_total{stage="put",result="acknowledged"}')" 300
  # the entries of the request answered 500, plus the first tries of records 99, 199, 299
  failed=$(jq -s '[.[] | if .status == 200 then (.failed | length) else (.entries | length) end] | add' \
    "$FAULT_DIR/requests.jsonl")
  [ "$failed" -gt 3 ] || fail "the faults did not fire"
  assert_equal "$(metric "$m" 'ora_kinesis_records_total{stage="put",result="retried"}')" "$failed"
  assert_equal "$(metric "$m" 'ora_kinesis_requests_total{stage="put",code="500"}')" 1
  requests=$(jq -s 'length' "$FAULT_DIR/requests.jsonl")
  assert_equal "$(metric "$m" 'ora_kinesis_request_duration_seconds_count{stage="put"}')" "$requests"
  assert_equal "$(metric "$m" 'ora_kinesis_checkpoint_offset{stage="put"}')" 299
  assert_equal "$(metric "$m" 'ora_kinesis_oldest_unacked_age_seconds{stage="put"}')" 0
  # every record had a receive time: one lag observation per acknowledgement
  assert_equal "$(metric "$m" 'ora_pipeline_lag_seconds_count{stage="put"}')" 300
  # kinesis_gen's receive times are in 2023: every lag is over the last bucket
  assert_equal "$(metric "$m" 'ora_pipeline_lag_seconds_bucket{stage="put",le="60"}')" 0
  now=$(date +%s)
  t=$(metric "$m" 'ora_kinesis_checkpoint_time_seconds{stage="put"}')
  python3 -c "import sys; sys.exit(0 if abs(float('$t') - $now) < 60 else 1)" || fail "commit time $t"
}

@test "a Kinesis that stops answering: the oldest unacknowledged age grows, the checkpoint does not move" {
  kinesis_gen 20 20 10 | ora-rec pack --meta -o "$T/in.rec" 2>/dev/null
  fault_start --plan ok --then stall
  mkfifo "$T/fifo"
  kinesis-put --stream s --endpoint-url "$FAULT_ENDPOINT" --linger 1 --max-records 10 --concurrency 1 \
    --timeout 60000 --checkpoint "$T/ck" --metrics "$T/m.prom" --metrics-interval 0.2 -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  exec 7>"$T/fifo"
  cat "$T/in.rec" >&7
  for i in $(seq 100); do [ "$(jq -s length "$FAULT_DIR/requests.jsonl" 2>/dev/null || echo 0)" -ge 1 ] && break; sleep 0.05; done
  for i in $(seq 100); do [ -s "$T/m.prom" ] && break; sleep 0.05; done
  sleep 0.6
  a=$(metric "$T/m.prom" 'ora_kinesis_oldest_unacked_age_seconds{stage="put"}')
  ck=$(metric "$T/m.prom" 'ora_kinesis_checkpoint_offset{stage="put"}')
  sleep 1.5
  b=$(metric "$T/m.prom" 'ora_kinesis_oldest_unacked_age_seconds{stage="put"}')
  python3 -c "import sys; a, b = float('$a'), float('$b'); sys.exit(0 if a > 0 and b >= a + 1 else 1)" ||
    fail "oldest age $a then $b"
  assert_equal "$ck" 9
  assert_equal "$(metric "$T/m.prom" 'ora_kinesis_checkpoint_offset{stage="put"}')" 9
  run promtool check metrics <"$T/m.prom"
  assert_success
  exec 7>&-
}
