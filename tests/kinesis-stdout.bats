#!/usr/bin/env bats
# kinesis-put --stdout: one line per record, whatever line breaks the data
# holds (a data newline or carriage return becomes a space).

setup() {
  load helper
  T=$BATS_TEST_TMPDIR
  cd "$T"
}

@test "--stdout: newlines and carriage returns in the data become spaces, one line per record" {
  d1=$(printf '{\r\n  "x": 1,\n  "y": "a"\r}' | base64 -w0)
  d2=$(printf '{"z":\n\n2}' | base64 -w0)
  printf '%s\n' "{\"type\":\"OUT\",\"key\":\"k1\",\"offset\":1,\"data_base64\":\"$d1\"}" \
    "{\"type\":\"OUT\",\"key\":\"k2\",\"offset\":2,\"data_base64\":\"$d2\"}" |
    ora-rec pack --meta -o in.rec
  run_split kinesis-put --stdout -i in.rec -o out.jsonl
  [ "$status" -eq 0 ] || fail "kinesis-put: $stderr"
  [ "$(wc -l < out.jsonl)" -eq 2 ] || fail "not one line per record: $(cat -A out.jsonl)"
  assert_equal "$(sed -n 1p out.jsonl)" '{"PartitionKey":"k1","Data":{    "x": 1,   "y": "a" }}'
  assert_equal "$(sed -n 2p out.jsonl)" '{"PartitionKey":"k2","Data":{"z":  2}}'
}
