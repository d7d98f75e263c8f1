#!/usr/bin/env bats
# kinesis-put's credential chain against moto_server, with moto verifying
# every SigV4 signature and IAM policy (auth on after set-up): each provider's
# credentials must sign a PutRecords that moto's Kinesis accepts, read back
# with the AWS CLI. Where moto cannot play the part (short-lived
# credentials, an IMDSv2 that insists on its token, ECS container
# credentials), the fault stand-in issues credentials and checks them.
# A missing moto_server fails this suite.

setup_file() {
  load helper
  load lib/kinesis
  load lib/moto
  # a second moto without auth: moto 5 with auth on fails (HTTP 500) on an
  # unsigned AssumeRoleWithWebIdentity, and its own EC2 metadata hands out
  # keys its auth does not know
  moto_start
  MOTO2=$MOTO_ENDPOINT MOTO2_PID=$MOTO_PID
  maws kinesis create-stream --stream-name s --shard-count 1 >/dev/null
  moto_start
  moto_setup_iam
  maws kinesis create-stream --stream-name s --shard-count 1 >/dev/null
  moto_auth_on
  echo "MOTO_ENDPOINT=$MOTO_ENDPOINT MOTO_PID=$MOTO_PID MOTO_AK=$MOTO_AK MOTO_SK=$MOTO_SK MOTO_ROLE_ARN=$MOTO_ROLE_ARN" \
    "MOTO2=$MOTO2 MOTO2_PID=$MOTO2_PID" >"$BATS_FILE_TMPDIR/moto.env"
}

teardown_file() {
  load lib/moto
  # shellcheck disable=SC1091
  . "$BATS_FILE_TMPDIR/moto.env"
  moto_stop
  MOTO_PID=$MOTO2_PID moto_stop
}

setup() {
  load helper
  load lib/kinesis
  load lib/moto
  # shellcheck disable=SC1091
  . "$BATS_FILE_TMPDIR/moto.env"
  export MOTO_ENDPOINT MOTO_AK MOTO_SK MOTO_ROLE_ARN
  T=$BATS_TEST_TMPDIR
  cd "$T"
  # nothing from the machine: every test says where its credentials come from
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
    AWS_EC2_METADATA_SERVICE_ENDPOINT AWS_EC2_METADATA_V1_DISABLED AWS_ENDPOINT_URL_KINESIS AWS_ENDPOINT_URL_STS \
    AWS_CA_BUNDLE HTTPS_PROXY https_proxy NO_PROXY no_proxy
  export AWS_REGION=us-east-1 AWS_CONFIG_FILE=$T/config AWS_SHARED_CREDENTIALS_FILE=$T/credentials
  export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL=$MOTO_ENDPOINT
  : >"$T/config"
  : >"$T/credentials"
  # one record per test, its key naming the test, so the read-back can find it
  KEY="t$BATS_TEST_NUMBER-$RANDOM"
  printf '{"type":"OUT","key":"%s","offset":1,"data":{"test":"%s"}}\n' "$KEY" "$KEY" | ora-rec pack --meta -o in.rec
  KP=(kinesis-put --stream s --backoff 10..200 --linger 1 --timeout 5000 -i in.rec)
}

teardown() { kinesis_put_teardown; }

# kp_ok [ARGS...]: kinesis-put ARGS --max-retries 0 (run_split) exits 0;
# otherwise its stderr is shown and the test fails.
kp_ok() {
  run_split "${KP[@]}" "$@" --max-retries 0
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
}

# landed [ENDPOINT]: the record of this test is in moto's stream (AWS CLI read-back).
landed() {
  MOTO_ENDPOINT=${1:-$MOTO_ENDPOINT} kinesis_read_all_as_admin >"$T/got.jsonl" || return 1
  grep -q "\"PartitionKey\":\"$KEY\"" "$T/got.jsonl" || { echo "record $KEY not in the stream"; return 1; }
}

kinesis_read_all_as_admin() {
  local it
  it=$(maws kinesis get-shard-iterator --stream-name s --shard-id shardId-000000000000 \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text) || return 1
  maws kinesis get-records --shard-iterator "$it" --limit 10000 |
    jq -c '.Records[] | {PartitionKey, Data: (.Data | @base64d | fromjson)}'
}

@test "moto checks signatures: the IAM user's keys are accepted, a wrong secret is refused" {
  AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=$MOTO_SK kp_ok
  [[ "$stderr" == *"credentials: environment, do not expire"* ]]
  run landed
  assert_success
  AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=not-the-secret run_split "${KP[@]}" --max-retries 0
  [ "$status" -eq 75 ]
  [[ "$stderr" == *"AWS rejected the credentials (HTTP 403"*"credentials from environment"* ]]
  [[ "$stderr" != *not-the-secret* ]]
}

@test "web identity (EKS IRSA): AssumeRoleWithWebIdentity at moto's STS, its credentials sign the PutRecords" {
  echo "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6b3JhOnB1dCJ9.c2ln" >"$T/token"
  # (the moto without auth: see setup_file)
  AWS_ENDPOINT_URL=$MOTO2 AWS_WEB_IDENTITY_TOKEN_FILE=$T/token AWS_ROLE_ARN=$MOTO_ROLE_ARN AWS_ROLE_SESSION_NAME=irsa \
    kp_ok
  [[ "$stderr" == *"credentials: web identity, role $MOTO_ROLE_ARN, expire in "*" min"* ]]
  [[ "$stderr" != *eyJhbGci* ]]
  run landed "$MOTO2"
  assert_success
  # the token file is read at every fetch: a missing one is a configuration error
  AWS_WEB_IDENTITY_TOKEN_FILE=$T/nosuch AWS_ROLE_ARN=$MOTO_ROLE_ARN run_split "${KP[@]}"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"cannot read web identity token file $T/nosuch"* ]]
}

@test "assume-role profiles, chained (role from role from static keys), with external_id, session name, duration" {
  printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$MOTO_AK" "$MOTO_SK" >"$T/credentials"
  cat >"$T/config" <<EOF
[profile first]
role_arn = $MOTO_ROLE_ARN
source_profile = base
external_id = ext-123
[profile second]
role_arn = $MOTO_ROLE_ARN
source_profile = first
role_session_name = chained-session
duration_seconds = 900
[profile web]
role_arn = $MOTO_ROLE_ARN
web_identity_token_file = $T/token
[profile envsrc]
role_arn = $MOTO_ROLE_ARN
credential_source = Environment
[profile loop]
role_arn = $MOTO_ROLE_ARN
source_profile = loop2
[profile loop2]
role_arn = $MOTO_ROLE_ARN
source_profile = loop
EOF
  kp_ok --profile second
  [[ "$stderr" == *"credentials: profile second: assume role $MOTO_ROLE_ARN from profile first: assume role $MOTO_ROLE_ARN from profile base in $T/credentials, expire in 15 min"* ]]
  run landed
  assert_success
  echo "a.b.c" >"$T/token"
  AWS_ENDPOINT_URL=$MOTO2 AWS_PROFILE=web kp_ok
  [[ "$stderr" == *"credentials: profile web: web identity, role $MOTO_ROLE_ARN"* ]]
  AWS_ACCESS_KEY_ID=$MOTO_AK AWS_SECRET_ACCESS_KEY=$MOTO_SK kp_ok --profile envsrc
  [[ "$stderr" == *"assume role $MOTO_ROLE_ARN from Environment"* ]]
  run_split "${KP[@]}" --profile loop
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"source_profile chain too long"* ]]
}

@test "the STS calls carry what the profile says (AssumeRole parameters seen at moto)" {
  printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$MOTO_AK" "$MOTO_SK" >"$T/credentials"
  printf '[profile r]\nrole_arn = %s\nsource_profile = base\nexternal_id = ext-9\nrole_session_name = sess-9\nduration_seconds = 1800\n' \
    "$MOTO_ROLE_ARN" >"$T/config"
  fault_start --stream s
  # STS at the stand-in is not STS: point STS at a capture server instead
  port=$(free_port)
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        b = self.rfile.read(int(self.headers["Content-Length"]))
        open(sys.argv[2], "ab").write(b + b"\n")
        self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port" "$T/sts.log" &
  CAP=$!
  wait_port "$port"
  AWS_ENDPOINT_URL_STS=http://127.0.0.1:$port run_split "${KP[@]}" --profile r
  kill "$CAP"; wait "$CAP" 2>/dev/null || true
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"STS http://127.0.0.1:$port: HTTP 403"* ]]
  run cat "$T/sts.log"
  assert_output --partial "Action=AssumeRole&"
  assert_output --partial "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fkp-role"
  assert_output --partial "RoleSessionName=sess-9"
  assert_output --partial "DurationSeconds=1800"
  assert_output --partial "ExternalId=ext-9"
}

@test "credential_process: good output signs; bad output and a failing process exit 78; a hang is killed at the time limit" {
  cat >"$T/good" <<EOF
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$MOTO_AK" "$MOTO_SK"
EOF
  printf '#!/bin/sh\necho "{\\"Version\\": 2, \\"AccessKeyId\\": \\"x\\"}"\n' >"$T/bad"
  printf '#!/bin/sh\necho oops >&2\nexit 3\n' >"$T/fails"
  printf '#!/bin/sh\nexec sleep 30\n' >"$T/hangs"
  chmod +x "$T/good" "$T/bad" "$T/fails" "$T/hangs"
  # arguments are split as a shell would, but no shell runs ($HOME stays literal)
  cat >"$T/config" <<EOF
[profile good]
credential_process = "$T/good" --flag 'two words' \$HOME
[profile bad]
credential_process = $T/bad
[profile fails]
credential_process = $T/fails
[profile hangs]
credential_process = $T/hangs
EOF
  kp_ok --profile good
  [[ "$stderr" == *"credentials: profile good: credential_process, do not expire"* ]]
  run landed
  assert_success
  run_split "${KP[@]}" --profile bad
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"credential_process $T/bad: unusable output: \"Version\" is not 1"* ]]
  run_split "${KP[@]}" --profile fails
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"credential_process $T/fails exited with status 3"* ]]
  # a hang: killed after --timeout, reported, retried while the records wait
  "${KP[@]}" --profile hangs --timeout 500 2>"$T/err" &
  KP_PID=$!
  for i in $(seq 100); do grep -q "timed out" "$T/err" && break; sleep 0.1; done
  run grep -c "credential_process $T/hangs timed out after 0.5 s (killed)" "$T/err"
  assert_success
  grep -q "records wait" "$T/err" || fail "no word of the waiting records: $(cat "$T/err")"
  kill -0 "$KP_PID" || fail "kinesis-put gave up on a hanging process"
  run pgrep -f "sleep 30" -P "$KP_PID"
  assert_failure
}

@test "container credentials (ECS): full URI on loopback with a token file; other http hosts refused" {
  # moto has no container endpoint, and its auth refuses the temporary
  # credentials of its own STS when another process presents them
  # (InvalidClientTokenId): the stand-in issues them and checks the signature
  fault_start --stream s --issue-creds 3600 --auth-token "Bearer ecs-token"
  echo "Bearer ecs-token" >"$T/ecs-token"
  AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAULT_ENDPOINT/creds AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$T/ecs-token \
    kp_ok --endpoint-url "$FAULT_ENDPOINT"
  [[ "$stderr" == *"credentials: container credentials ($FAULT_ENDPOINT/creds, token file), expire in 60 min"* ]]
  run jq -s -c 'map([.ok, .access_key]) | unique' "$FAULT_DIR/auth.jsonl"
  assert_output '[[true,"ASIASTANDIN1"]]'
  [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -eq 1 ]
  run jq -r 'select(.what == "container") | .auth' "$FAULT_DIR/creds.jsonl"
  assert_output "Bearer ecs-token"
  AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.1.2.3/creds run_split "${KP[@]}"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://10.1.2.3/creds' is not allowed"* ]]
  # a wrong token: the endpoint says 401, a configuration error
  AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAULT_ENDPOINT/creds AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-tok \
    run_split "${KP[@]}"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"HTTP 401"* ]]
  [[ "$stderr" != *wrong-tok* ]]
}

@test "EC2 instance metadata: moto's IMDS (v2 token, role, credentials, region) against moto's Kinesis" {
  # moto's own IMDS serves fixed keys its auth does not know: the moto without auth
  unset AWS_REGION
  AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$MOTO2 AWS_ENDPOINT_URL=$MOTO2 \
    kp_ok
  [[ "$stderr" == *"credentials: EC2 instance metadata ($MOTO2, IMDSv2, role default-role), expire in "* ]]
  run landed "$MOTO2"
  assert_success
}

@test "IMDSv2 token required; v1 only with AWS_EC2_METADATA_V1_DISABLED=false; AWS_EC2_METADATA_DISABLED honoured" {
  fault_start --stream s --issue-creds 3600 --imds v2
  unset AWS_REGION
  AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAULT_ENDPOINT \
    kp_ok --endpoint-url "$FAULT_ENDPOINT"
  [[ "$stderr" == *"credentials: EC2 instance metadata ($FAULT_ENDPOINT, IMDSv2, role kp-role)"* ]]
  run jq -s -c 'map([.ok, .access_key]) | unique' "$FAULT_DIR/auth.jsonl"
  assert_output '[[true,"ASIASTANDIN1"]]' 
  # every metadata GET carried the token; the region came from placement/region
  run jq -s -c 'map(select(.method == "GET")) | map(.imds_token != null) | unique' "$FAULT_DIR/creds.jsonl"
  assert_output "[true]"
  run jq -r 'select(.what == "imds-region") | .code' "$FAULT_DIR/creds.jsonl"
  assert_output 200
  fault_stop
  FAULT_DIR=$T/v1
  fault_start --stream s --issue-creds 3600 --imds v1
  export AWS_REGION=us-east-1
  # v1 is not used by default: no credentials, the records wait (killed after 3 s)
  AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAULT_ENDPOINT \
    run_split timeout -s KILL 3 "${KP[@]}" --endpoint-url "$FAULT_ENDPOINT"
  [ "$status" -eq 137 ]
  [[ "$stderr" == *"token request answered HTTP 405; retrying in"*"records wait"* ]]
  run jq -r 'select(.method == "GET") | .path' "$FAULT_DIR/creds.jsonl"
  assert_output ""
  AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_V1_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAULT_ENDPOINT \
    kp_ok --endpoint-url "$FAULT_ENDPOINT"
  [[ "$stderr" == *", IMDSv1, role kp-role)"* ]] || { echo "$stderr"; false; }
  # disabled: no metadata at all, a configuration error naming the variable
  AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAULT_ENDPOINT run_split "${KP[@]}"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"no AWS credentials"*"AWS_EC2_METADATA_DISABLED"* ]]
}

@test "refresh across expiry: short-lived credentials renewed before they lapse, an expired token retried, nothing lost" {
  # credentials that live 4 s: refreshed halfway; the stand-in refuses expired ones
  fault_start --stream s --issue-creds 4 --checkpoint "$T/ck"
  kinesis_gen 300 7 30 >meta.jsonl
  ora-rec pack --meta -i meta.jsonl -o many.rec 2>/dev/null
  kinesis_expected meta.jsonl >expected.jsonl
  mkfifo "$T/fifo"
  AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAULT_ENDPOINT/creds kinesis-put --stream s --endpoint-url "$FAULT_ENDPOINT" \
    --backoff 10..200 --linger 1 --max-retries 20 --checkpoint "$T/ck" -i "$T/fifo" 2>"$T/err" &
  KP_PID=$!
  # 300 records over ~12 s: across at least two expiries
  python3 -c '
import sys, time
d = open(sys.argv[1], "rb").read()
out = open(sys.argv[2], "wb")
n = len(d)
for k in range(12):
    out.write(d[n * k // 12 : n * (k + 1) // 12]); out.flush(); time.sleep(1)' many.rec "$T/fifo"
  wait "$KP_PID"; st=$?; KP_PID=
  [ "$st" -eq 0 ] || { cat "$T/err"; false; }
  run kinesis_check_delivery expected.jsonl "$FAULT_DIR/accepted.jsonl" --exact
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(jq -s 'map(select(.what == "container")) | length' "$FAULT_DIR/creds.jsonl")" -ge 3 ] || fail "not refreshed"
  [ "$(grep -c "credentials: container credentials" "$T/err")" -ge 3 ]
  # each refresh came before the credentials it replaced expired (they live 4 s, refreshed at 2 s)
  run jq -s -r '[.[] | select(.what == "container") | .t] | [range(1; length) as $i | .[$i] - .[$i - 1]] | max' \
    "$FAULT_DIR/creds.jsonl"
  python3 -c "import sys; sys.exit(0 if float('$output') < 4 else 1)" || fail "a refresh came $output s after the previous one"
  # refreshed ahead of expiry, not after a rejection (one late request allowed, for a busy machine)
  expired=$(jq -s 'map(select(.action == "expired-creds")) | length' "$FAULT_DIR/requests.jsonl")
  [ "$expired" -le 1 ] || fail "$expired requests were signed with expired credentials"
  assert_equal "$(cat "$T/ck")" 299
  [ ! -s "$FAULT_DIR/violations.log" ]
}

@test "an ExpiredTokenException triggers a refresh and a retry that is not counted against --max-retries" {
  fault_start --stream s --issue-creds 3600 --expired-first 1
  AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAULT_ENDPOINT/creds \
    kp_ok --endpoint-url "$FAULT_ENDPOINT"
  [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -eq 1 ]
  [[ "$stderr" == *"ExpiredTokenException"* ]]
  # fetched twice: at start, and at once after the rejection
  [ "$(jq -s 'map(select(.what == "container")) | length' "$FAULT_DIR/creds.jsonl")" -eq 2 ]
}

@test "SSO profiles: a clear error pointing to aws sso login and credential_process" {
  printf '[profile sso]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = r\n' >"$T/config"
  run_split "${KP[@]}" --profile sso
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"profile sso uses AWS IAM Identity Center (sso_start_url)"*"aws sso login --profile sso"*"credential_process"* ]]
}

@test "--show-credentials-source names the provider, region and endpoints, and fetches nothing" {
  printf '[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = SECRETBASE\n' >"$T/credentials"
  printf '[profile r]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\nregion = eu-west-3\n' >"$T/config"
  unset AWS_REGION AWS_ENDPOINT_URL
  run_split kinesis-put --show-credentials-source --profile r
  [ "$status" -eq 0 ]
  assert_line "credentials: profile r: assume role arn:aws:iam::1:role/x from profile base in $T/credentials"
  assert_line "region: eu-west-3 (from profile r)"
  assert_line "endpoint: https://kinesis.eu-west-3.amazonaws.com (from default)"
  assert_line "sts: https://sts.eu-west-3.amazonaws.com"
  [[ "$output" != *SECRETBASE* ]]
  AWS_ENDPOINT_URL_STS=http://127.0.0.1:9/sts AWS_REGION=us-west-1 run_split kinesis-put --show-credentials-source --profile r
  assert_line "sts: http://127.0.0.1:9/sts"
  assert_line "region: us-west-1 (from AWS_REGION)"
}

@test "plain http only to loopback: other http endpoints refused unless --allow-insecure-endpoint; STS too" {
  AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b run_split "${KP[@]}" --endpoint-url http://192.0.2.1:4567 \
    --timeout 300 --max-retries 0
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"refusing plain http endpoint 'http://192.0.2.1:4567' (from --endpoint-url)"* ]]
  AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b run_split "${KP[@]}" --endpoint-url http://192.0.2.1:4567 \
    --allow-insecure-endpoint --timeout 300 --max-retries 0
  [ "$status" -eq 75 ]
  for ok in http://127.0.0.1:9 http://localhost:9 "http://[::1]:9" http://127.9.9.9:9; do
    AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b run_split kinesis-put --show-credentials-source --endpoint-url "$ok"
    [ "$status" -eq 0 ] || fail "$ok refused: $stderr"
  done
  echo t >"$T/token"
  AWS_WEB_IDENTITY_TOKEN_FILE=$T/token AWS_ROLE_ARN=arn:aws:iam::1:role/x AWS_ENDPOINT_URL_STS=http://sts.example.com \
    run_split "${KP[@]}"
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"refusing plain http STS endpoint 'http://sts.example.com'"* ]]
}

@test "HTTPS: AWS_CA_BUNDLE and the profile's ca_bundle are trusted; HTTPS_PROXY is used unless NO_PROXY" {
  scripts/gen-test-pki "$T/pki" >/dev/null 2>&1 || "$TOP/scripts/gen-test-pki" "$T/pki"
  fault_start --stream s --tls "$T/pki/server.pem" "$T/pki/server.key"
  ep=${FAULT_ENDPOINT/http:/https:}
  export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=testsecret
  # an unknown CA: the request fails (and is retried: it is the network's fault)
  AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt run_split "${KP[@]}" --endpoint-url "$ep" --max-retries 0
  [ "$status" -eq 75 ]
  [[ "$stderr" == *"certificate"* ]]
  AWS_CA_BUNDLE=$T/pki/ca.pem kp_ok --endpoint-url "$ep"
  printf '[default]\nca_bundle = %s\n' "$T/pki/ca.pem" >"$T/config"
  kp_ok --endpoint-url "$ep"
  # a CONNECT proxy that logs where it connects
  port=$(free_port)
  python3 -c '
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(16)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(c):
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d: return
        req += d
    line = req.split(b"\r\n")[0].decode()
    open(sys.argv[2], "a").write(line + "\n")
    host, port = line.split()[1].rsplit(":", 1)
    u = socket.create_connection((host, int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
    pipe(c, u)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()' "$port" "$T/proxy.log" &
  PX=$!
  wait_port "$port"
  HTTPS_PROXY=http://127.0.0.1:$port AWS_CA_BUNDLE=$T/pki/ca.pem run_split "${KP[@]}" --endpoint-url "$ep" --max-retries 0
  st1=$status
  HTTPS_PROXY=http://127.0.0.1:$port NO_PROXY=127.0.0.1 AWS_CA_BUNDLE=$T/pki/ca.pem \
    run_split "${KP[@]}" --endpoint-url "$ep" --max-retries 0
  st2=$status
  kill "$PX"; wait "$PX" 2>/dev/null || true
  [ "$st1/$st2" = 0/0 ] || fail "exit $st1 / $st2"
  run cat "$T/proxy.log"
  assert_output "CONNECT 127.0.0.1:${FAULT_ENDPOINT##*:} HTTP/1.1"
  [ "$(wc -l <"$FAULT_DIR/accepted.jsonl")" -eq 4 ]
}
