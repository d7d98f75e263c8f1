#!/usr/bin/env bats
# Where kinesis-put keeps the AWS secret and session token (issue 15):
# only in its two sodium_malloc'd copies (the refresh thread's and the
# sender's). Every buffer that held one on the way (the shared file, the
# SigV4 canonical request and headers, libcurl's request, cJSON's strings)
# is wiped before it is freed or grown. Checked by scanning the live
# process's memory (no core dump) once it has delivered and sits idle.

load helper
load lib/kinesis

setup() { kinesis_put_setup; }

teardown() {
  kinesis_put_teardown
  exec 7>&- 2>/dev/null
  return 0
}

@test "after delivering, the secret and the session token are in memory twice (the locked copies), not in the heap" {
  secret="sek-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # a long token: the buffers that carry it must grow while holding it
  token="tok-$(head -c 400 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '[default]\naws_access_key_id = AKIDTEST\naws_secret_access_key = %s\naws_session_token = %s\n' \
    "$secret" "$token" >"$T/credentials"
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  export AWS_SHARED_CREDENTIALS_FILE=$T/credentials
  fault_start --secret "$secret"
  kinesis_gen 200 13 50 | ora-rec pack --meta -o "$T/in.rec" 2>/dev/null
  mkfifo "$T/fifo"
  kinesis-put --stream s --endpoint-url "$FAULT_ENDPOINT" --concurrency 4 --max-records 20 --linger 1 \
    -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  exec 7>"$T/fifo"
  cat "$T/in.rec" >&7
  for i in $(seq 200); do [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -ge 200 ] && break; sleep 0.05; done
  [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -eq 200 ] || fail "not delivered: $(cat "$T/err")"
  # every request carried the token, signed
  run jq -s -c 'map([.ok, (.token | length)]) | unique' "$FAULT_DIR/auth.jsonl"
  assert_output "[[true,${#token}]]"
  sleep 0.3
  run python3 "$TOP/tests/tools/heap-scan.py" "$KP_PID" "$token" "$secret"
  echo "$output"
  assert_line "$token 2"
  assert_line "$secret 2"
}
