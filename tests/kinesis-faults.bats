#!/usr/bin/env bats
# kinesis-put against the fault stand-in (tests/tools/kinesis-fault.py):
# partial failures, throttling, 5xx, hang-ups, slow answers, credential
# errors, the checkpoint never ahead of acknowledgements, give-up with a
# dead letter, credential/endpoint resolution, signals.

load helper
load lib/kinesis

setup() {
  kinesis_put_setup
  # small backoff so retries are quick
  KP=(kinesis-put --stream s --backoff 1..20 --linger 5)
}

teardown() { kinesis_put_teardown; }

# Python over requests.jsonl: an entry (key, i) is sent again only after it failed.
only_failed_retried() {
  python3 - "$FAULT_DIR/requests.jsonl" <<'PY'
import json, sys
state = {}  # (key, i) -> "ok" | "failed" | "pending"
sent = retried = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    for idx, (k, i) in enumerate(r["entries"]):
        key = (k, i)
        sent += 1
        if key in state:
            retried += 1
            if state[key] == "ok":
                print("entry %s resent after it was accepted (request %d)" % (key, r["n"]))
                sys.exit(1)
        ok = r["status"] == 200 and idx not in r["failed"]
        state[key] = "ok" if ok else "failed"
print("sent %d entries, %d retries, all of previously failed entries" % (sent, retried))
PY
}

@test "partial failures: only failed entries are retried, nothing lost, no duplicates, per-key order" {
  kinesis_gen_input 3000 37 500
  fault_start --fail-rate 0.3 --seed 7
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  echo "$output"; [ "$status" -eq 0 ]
  run only_failed_retried
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$output" != *" 0 retries"* ]]
  assert_equal "$(cat "$T/ck")" 2999
  [[ "$stderr" == *"not accepted"*"retrying them"* ]]
  [[ "$stderr" == *"summary:"*"3000 acknowledged"* ]]
  [ ! -s "$FAULT_DIR/violations.log" ]
}

@test "whole-request failures (throttle, 500, 503, hangup) are retried with every entry kept" {
  kinesis_gen_input 1200 50 300
  fault_start --plan throttle,500,ok,503,hangup,partial:0.5,throttle,ok,500,500,500,ok
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" --max-records 100 -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  echo "$output"; [ "$status" -eq 0 ]
  run only_failed_retried
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$stderr" == *"ProvisionedThroughputExceededException"* ]]
  [[ "$stderr" =~ summary:.*\ ([1-9][0-9]*)\ throttled ]]
  assert_equal "$(cat "$T/ck")" 1199
}

@test "slow answers past --timeout: resent, at least once, per-key order kept" {
  kinesis_gen_input 400 20 100
  fault_start --plan slow:2,ok,slow:2
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --timeout 500 --checkpoint "$T/ck" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl"
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$stderr" == *"timed out"* || "$stderr" == *"Timeout"* ]]
  assert_equal "$(cat "$T/ck")" 399
}

@test "checkpoint is not committed while Kinesis holds the answer, then it is" {
  kinesis_gen_input 600 10 100
  touch "$T/gate"
  fault_start --plan gate,gate,gate,gate,gate,gate,gate,gate --then gate --gate "$T/gate" --checkpoint "$T/ck"
  "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" -i "$T/in.rec" 2>"$T/err" &
  KP_PID=$!
  # requests arrive and wait at the gate
  for i in $(seq 100); do [ -s "$FAULT_DIR/auth.jsonl" ] && break; sleep 0.05; done
  [ -s "$FAULT_DIR/auth.jsonl" ]
  sleep 0.3
  [ ! -e "$T/ck" ]
  rm "$T/gate"
  wait "$KP_PID"; KP_PID=
  assert_equal "$(cat "$T/ck")" 599
  [ ! -s "$FAULT_DIR/violations.log" ] || { cat "$FAULT_DIR/violations.log"; false; }
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  [ "$status" -eq 0 ]
}

@test "checkpoint watched continuously under random failures never runs ahead of acks" {
  kinesis_gen_input 2000 15 50
  fault_start --fail-rate 0.4 --seed 3 --checkpoint "$T/ck"
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" --concurrency 4 -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  sleep 0.05
  [ ! -s "$FAULT_DIR/violations.log" ] || { head "$FAULT_DIR/violations.log"; false; }
  assert_equal "$(cat "$T/ck")" 1999
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  [ "$status" -eq 0 ]
}

@test "--max-retries: gives up with 75, undelivered records in --dead-letter, checkpoint only for acked" {
  kinesis_gen_input 300 300 100
  # first request accepted (100 records), then everything fails
  fault_start --plan ok --then 500
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --max-records 100 --concurrency 1 \
    --max-retries 2 --dead-letter "$T/dead.rec" --checkpoint "$T/ck" -i "$T/in.rec"
  [ "$status" -eq 75 ]
  [[ "$stderr" == *"giving up"* ]]
  [[ "$stderr" == *"wrote 200 undelivered records to $T/dead.rec"* ]]
  assert_equal "$(cat "$T/ck")" 99
  ora-rec unpack --meta -i "$T/dead.rec" >"$T/dead.jsonl"
  run jq -s -c 'map(.offset) | [length, min, max]' "$T/dead.jsonl"
  assert_output "[200,100,299]"
  # dead letters are OUT records with their keys and data intact
  jq -c '{PartitionKey: .key, Data: .data}' "$T/dead.jsonl" >"$T/dead-got.jsonl"
  tail -n 200 "$T/expected.jsonl" >"$T/dead-exp.jsonl"
  run kinesis_check_delivery "$T/dead-exp.jsonl" "$T/dead-got.jsonl" --exact
  [ "$status" -eq 0 ]
}

@test "expired token: reported plainly, no secrets in the message; never gives up by default" {
  kinesis_gen_input 10 5 0
  fault_start --then expired --secret sek-SECRET-key
  export AWS_SESSION_TOKEN=tok-SECRET-token AWS_SECRET_ACCESS_KEY=sek-SECRET-key
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --max-retries 1 -i "$T/in.rec"
  [ "$status" -eq 75 ]
  echo "$stderr"
  [[ "$stderr" == *"AWS rejected the credentials (HTTP 400 ExpiredTokenException: The security token included in the request is expired; credentials from environment)"* ]]
  [[ "$stderr" != *SECRET* ]]
  # default: keeps retrying and repeating the reason
  "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec" 2>"$T/err" &
  KP_PID=$!
  for i in $(seq 200); do [ "$(grep -c ExpiredTokenException "$T/err")" -ge 2 ] && break; sleep 0.05; done
  [ "$(grep -c ExpiredTokenException "$T/err")" -ge 2 ]
  kill -0 "$KP_PID"
}

@test "wrong secret: the stand-in's signature check answers 403, reported as a credential error" {
  kinesis_gen_input 5 5 0
  fault_start --secret other
  run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --max-retries 0 -i "$T/in.rec"
  [ "$status" -eq 75 ]
  [[ "$stderr" == *"AWS rejected the credentials (HTTP 403 InvalidSignatureException"* ]]
}

@test "stream not found: exit 78 with the stream named" {
  kinesis_gen_input 5 5 0
  fault_start --stream real
  run_split kinesis-put --stream nosuch --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"unable to put records to stream nosuch: HTTP 400 ResourceNotFoundException"* ]]
}

@test "signatures verify with a session token; the token is signed and sent" {
  kinesis_gen_input 20 5 0
  fault_start
  AWS_SESSION_TOKEN=the-token run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ]
  run jq -s -c 'map([.ok, .access_key, .region, .token]) | unique' "$FAULT_DIR/auth.jsonl"
  assert_output '[[true,"AKIDTEST","us-east-1","the-token"]]'
}

@test "profile resolution: AWS_PROFILE from credentials and config files; --profile beats env keys" {
  kinesis_gen_input 5 5 0
  fault_start --secret profsecret
  cat >"$T/credentials" <<EOF
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = wrong

[prod]
aws_access_key_id = AKIDPROD
aws_secret_access_key = profsecret
aws_session_token = prodtoken
EOF
  cat >"$T/config" <<EOF
[default]
region = us-west-2
[profile prod]
region = eu-west-1
  nested = ignored
[profile cfgonly]
aws_access_key_id = AKIDCFG
aws_secret_access_key = profsecret
region = ap-south-1
EOF
  export AWS_SHARED_CREDENTIALS_FILE=$T/credentials AWS_CONFIG_FILE=$T/config
  unset AWS_REGION AWS_DEFAULT_REGION
  # env keys win over AWS_PROFILE (as in the AWS CLI) ...
  AWS_PROFILE=prod AWS_SECRET_ACCESS_KEY=profsecret run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ]
  # ... but not over an explicit --profile
  run_split "${KP[@]}" --profile prod --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_PROFILE=cfgonly run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  AWS_PROFILE=prod AWS_REGION=ca-central-1 run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 0 ]
  run jq -s -c 'map([.ok, .access_key, .region, .token]) | unique' "$FAULT_DIR/auth.jsonl"
  assert_output '[[true,"AKIDCFG","ap-south-1",null],[true,"AKIDPROD","ca-central-1","prodtoken"],[true,"AKIDPROD","eu-west-1","prodtoken"],[true,"AKIDTEST","eu-west-1",null]]'
  # a named profile that exists nowhere, and one needing an unsupported provider
  AWS_PROFILE=nosuch run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"unable to configure AWS access: profile nosuch not found in $T/credentials or $T/config"* ]]
  printf '[profile role]\nregion = eu-west-1\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = prod\nmfa_serial = arn:aws:iam::1:mfa/u\n' >>"$T/config"
  AWS_PROFILE=role run_split "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"profile role needs an MFA code (mfa_serial)"* ]]
}

@test "endpoint resolution: --endpoint-url > AWS_ENDPOINT_URL_KINESIS > AWS_ENDPOINT_URL > config" {
  kinesis_gen_input 5 5 0
  fault_start
  dead="http://127.0.0.1:$(free_port)"
  printf '[default]\nendpoint_url = %s\n' "$dead" >"$T/config"
  export AWS_CONFIG_FILE=$T/config
  KQ=("${KP[@]}" --max-retries 0 -i "$T/in.rec")
  AWS_ENDPOINT_URL=$dead AWS_ENDPOINT_URL_KINESIS=$dead run_split "${KQ[@]}" --endpoint-url "$FAULT_ENDPOINT"
  [ "$status" -eq 0 ]
  AWS_ENDPOINT_URL=$dead AWS_ENDPOINT_URL_KINESIS=$FAULT_ENDPOINT run_split "${KQ[@]}"
  [ "$status" -eq 0 ]
  AWS_ENDPOINT_URL=$FAULT_ENDPOINT run_split "${KQ[@]}"
  [ "$status" -eq 0 ]
  printf '[default]\nendpoint_url = %s\n' "$FAULT_ENDPOINT" >"$T/config"
  run_split "${KQ[@]}"
  [ "$status" -eq 0 ]
  assert_equal "$(wc -l <"$FAULT_DIR/accepted.jsonl")" 20
  # the config endpoint loses to the environment: the dead one is tried
  AWS_ENDPOINT_URL=$dead run_split "${KQ[@]}"
  [ "$status" -eq 75 ]
  [[ "$stderr" == *"failed: "*"onnect"* ]]
  run_split "${KQ[@]}" --endpoint-url ftp://x
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"invalid endpoint URL 'ftp://x' (from --endpoint-url)"* ]]
}

@test "missing credentials or region: exit 78 with what to set" {
  kinesis_gen_input 2 2 0
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  run_split kinesis-put --stream s -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"* ]]
  AWS_ACCESS_KEY_ID=x run_split kinesis-put --stream s -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"* ]]
  unset AWS_REGION AWS_DEFAULT_REGION
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y run_split kinesis-put --stream s -i "$T/in.rec"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"no AWS region"* ]]
}

@test "SIGUSR1 prints the stats line; SIGTERM drains what was read and exits 0" {
  kinesis_gen_input 200 10 200
  touch "$T/gate"
  fault_start --then gate --gate "$T/gate"
  mkfifo "$T/fifo"
  "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  exec 7>"$T/fifo"
  cat "$T/in.rec" >&7
  for i in $(seq 100); do [ -s "$FAULT_DIR/auth.jsonl" ] && break; sleep 0.05; done
  kill -USR1 "$KP_PID"
  for i in $(seq 100); do grep -q "summary:" "$T/err" && break; sleep 0.05; done
  run grep summary: "$T/err"
  [[ "$output" == *"200 records in"*"requests"*"retries"*"throttled"*"in flight"*"pending"*"oldest"*"checkpoint none"* ]]
  kill -TERM "$KP_PID"
  rm "$T/gate"
  wait "$KP_PID"; KP_PID=
  exec 7>&-
  assert_equal "$(cat "$T/ck")" 199
  [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -eq 200 ]
}

@test "a record cut short in a pipe does not stall acknowledgements or the checkpoint" {
  kinesis_gen_input 51 5 50   # 50 records, checkpoint 49, one more record
  fault_start
  mkfifo "$T/fifo"
  "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT" --checkpoint "$T/ck" -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  exec 7>"$T/fifo"
  size=$(stat -c %s "$T/in.rec")
  head -c $((size - 20)) "$T/in.rec" >&7
  for i in $(seq 100); do [ -s "$T/ck" ] && break; sleep 0.05; done
  assert_equal "$(cat "$T/ck")" 49
  assert_equal "$(wc -l <"$FAULT_DIR/accepted.jsonl")" 50
  tail -c 20 "$T/in.rec" >&7
  exec 7>&-
  wait "$KP_PID"; KP_PID=
  assert_equal "$(wc -l <"$FAULT_DIR/accepted.jsonl")" 51
  run kinesis_check_delivery "$T/expected.jsonl" "$FAULT_DIR/accepted.jsonl" --exact
  [ "$status" -eq 0 ]
}
