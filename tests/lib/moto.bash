# tests/lib/moto.bash: moto_server (moto 5: Kinesis, STS, IAM and EC2
# instance metadata under /latest/...) for the credential suites and the
# kinesis suite's second Kinesis implementation. Load after helper.
#
#   moto_start                 starts moto_server on a free 127.0.0.1 port:
#                              MOTO_ENDPOINT, MOTO_PID. A missing moto_server
#                              fails the caller (never a skip).
#   moto_setup_iam             with auth still off: IAM user "kp" (keys in
#                              MOTO_AK/MOTO_SK, allowed everything) and role
#                              MOTO_ROLE_ARN (trusting anyone, allowed everything)
#   moto_auth_on               from now on moto verifies every SigV4 signature
#                              and the IAM policies (POST /moto-api/reset-auth 0)
#   moto_stop
#
# moto 5 verifies signatures only once auth is on (INITIAL_NO_AUTH_ACTION_COUNT,
# or /moto-api/reset-auth); its EC2 metadata answers any method on
# /latest/api/token (no IMDSv2 check) and serves fixed credentials
# (test-key / test-secret-key) that its own auth does not accept.

. "$(dirname "${BASH_SOURCE[0]}")/service.bash"

moto_start() {
  command -v moto_server >/dev/null ||
    { echo "moto_server is not installed: pip install 'moto[server]' (see scripts/deps)" >&2; return 1; }
  service_start moto_server 30 "" _moto_serve || return 1
  MOTO_PID=$SERVICE_PID
  export MOTO_ENDPOINT="http://127.0.0.1:$SERVICE_PORT" MOTO_PID
}

_moto_serve() {
  exec moto_server -H 127.0.0.1 -p "$1" >"${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/moto.$1.log" 2>&1
}

moto_stop() { service_stop MOTO_PID; }

# maws ARGS: the AWS CLI against moto, with the admin keys once they exist.
maws() {
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_KINESIS \
    AWS_ACCESS_KEY_ID="${MOTO_AK:-AKIDTEST}" AWS_SECRET_ACCESS_KEY="${MOTO_SK:-testsecret}" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    /usr/bin/aws --endpoint-url "$MOTO_ENDPOINT" --region us-east-1 --no-cli-pager --output json "$@"
}

moto_setup_iam() {
  local allow trust
  allow='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
  trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*","Federated":"*"},"Action":["sts:AssumeRole","sts:AssumeRoleWithWebIdentity"]}]}'
  maws iam create-user --user-name kp >/dev/null || return 1
  maws iam put-user-policy --user-name kp --policy-name all --policy-document "$allow" || return 1
  read -r MOTO_AK MOTO_SK < <(maws iam create-access-key --user-name kp \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text) || return 1
  MOTO_ROLE_ARN=$(maws iam create-role --role-name kp-role --assume-role-policy-document "$trust" \
    --query Role.Arn --output text) || return 1
  maws iam put-role-policy --role-name kp-role --policy-name all --policy-document "$allow" || return 1
  export MOTO_AK MOTO_SK MOTO_ROLE_ARN
}

moto_auth_on() {
  curl -sf -X POST -H "Content-Type: text/plain" --data 0 "$MOTO_ENDPOINT/moto-api/reset-auth" >/dev/null
}
