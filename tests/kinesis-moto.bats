#!/usr/bin/env bats
# The kinesis-put end-to-end suite (tests/kinesis.bats) against moto_server's
# Kinesis instead of kinesalite, read back with the AWS CLI: what lands must
# not depend on which implementation of Kinesis took it. A missing
# moto_server fails this suite.

setup() {
  load helper
}

@test "tests/kinesis.bats passes against moto's Kinesis" {
  command -v moto_server || fail "moto_server is not installed (scripts/deps says how)"
  run env KINESIS_IMPL=moto bats "$TOP/tests/kinesis.bats"
  echo "$output"
  assert_success
  [[ "$output" != *"not ok"* ]] || fail "a test failed against moto"
  [[ "$output" == *"ok 1 100k records reach"* ]] || fail "the suite did not run"
}
