#!/usr/bin/env bats
# The EXAMPLES of ora-rec(1) and ora-records(5) run as written.
load helper
load lib/man

setup() {
  cd "$BATS_TEST_TMPDIR"
  grep '^{"offset"' "$FIXTURES/ora-messages.jsonl" > msgs.jsonl
}

@test "ora-rec(1) EXAMPLES run and succeed" {
  man_examples "$TOP/man/ora-rec.1" > examples.sh
  [ "$(grep -c ora-rec examples.sh)" -ge 6 ]
  run bash -euo pipefail examples.sh
  assert_success
  assert_output --partial "records"
  assert_output --partial '"kind":"eventAdded"'
  assert_output --partial "offsets 1..18"
  [ -s msgs.wire ]
}

@test "ora-records(5) EXAMPLES run and succeed" {
  ora-rec pack -i msgs.jsonl -o capture.rec
  man_examples "$TOP/man/ora-records.5" > examples.sh
  run bash -euo pipefail examples.sh
  assert_success
  assert_output --partial "offset=9 time="
  assert_output --partial '"betOfferAdded"'
}
