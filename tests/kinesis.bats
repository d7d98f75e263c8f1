#!/usr/bin/env bats
# kinesis-put: usage, --stdout, limits, input damage, and real delivery into
# kinesalite read back with the AWS CLI (an independent client).
# KINESIS_IMPL=moto runs the same suite against moto_server's Kinesis
# (tests/kinesis-moto.bats does): two independent Kinesis implementations.

setup_file() {
  load helper
  load lib/kinesis
  load lib/moto
  if [ "${KINESIS_IMPL:-kinesalite}" = moto ]; then
    moto_start
    export KINESIS_ENDPOINT=$MOTO_ENDPOINT
    echo "$MOTO_PID" >"$BATS_FILE_TMPDIR/moto.pid"
  else
    kinesalite_start
  fi
}

teardown_file() {
  load lib/kinesis
  load lib/moto
  if [ -s "$BATS_FILE_TMPDIR/moto.pid" ]; then
    MOTO_PID=$(cat "$BATS_FILE_TMPDIR/moto.pid") moto_stop
  else
    kinesalite_stop
  fi
}

setup() {
  load helper
  load lib/kinesis
  load lib/man
  kinesis_fake_aws_env
  T=$BATS_TEST_TMPDIR
  cd "$T"
  # moto 5.2's Kinesis numbers a shard's records max+1 without a lock
  # (kinesis/models.py put_record): concurrent PutRecords to one shard
  # overwrite each other there, though each was answered with success.
  # Against moto, one request at a time.
  ONE=()
  [ "${KINESIS_IMPL:-}" = moto ] && ONE=(--concurrency 1)
  return 0
}

gen() { # gen N KEYS EVERY [PAD] -> in.rec, expected.jsonl
  kinesis_gen "$@" >meta.jsonl
  ora-rec pack --meta -i meta.jsonl -o in.rec 2>/dev/null
  kinesis_expected meta.jsonl >expected.jsonl
}

@test "100k records reach kinesalite exactly: keys, data, per-key order, checkpoint (AWS CLI read-back)" {
  # moto (Python) stores each record in a Python object: fewer there
  N=${KINESIS_TEST_RECORDS:-$([ "${KINESIS_IMPL:-}" = moto ] && echo 20000 || echo 100000)}
  kinesis_create_stream big 4
  gen "$N" 7919 $((N / 10))
  run_split kinesis-put "${ONE[@]}" --stream big --endpoint-url "$KINESIS_ENDPOINT" --checkpoint ck -i in.rec
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  [[ "$stderr" == *"$N records in, $N acknowledged"* ]]
  assert_equal "$(cat ck)" $((N - 1))
  kinesis_read_all big >got.jsonl
  run kinesis_check_delivery expected.jsonl got.jsonl --exact
  echo "$output"
  [ "$status" -eq 0 ]
  # identical bytes once sorted: keys and JSON data unchanged
  diff <(jq -c -S . expected.jsonl | sort) <(jq -c -S . got.jsonl | sort)
}

@test "a hot key keeps its order in kinesalite; oversize and bad keys dropped with their key named" {
  kinesis_create_stream hot 2
  kinesis_gen 600 3 200 >meta.jsonl
  {
    cat meta.jsonl
    printf '{"type":"OUT","key":"big-one","offset":900,"data":{"pad":"%s"}}\n' "$(head -c 3000 /dev/zero | tr '\0' x)"
    printf '{"type":"OUT","key":"%s","offset":901,"data":{"i":901}}\n' "$(head -c 257 /dev/zero | tr '\0' k)"
    printf '{"type":"CTRL","kind":"checkpoint","offset":901,"data":{"ctrl":"checkpoint","offset":901}}\n'
  } | ora-rec pack --meta -o in.rec 2>/dev/null
  kinesis_expected meta.jsonl >expected.jsonl
  run_split kinesis-put "${ONE[@]}" --stream hot --endpoint-url "$KINESIS_ENDPOINT" --max-record-bytes 2K \
    --checkpoint ck -i in.rec
  [ "$status" -eq 0 ] || { echo "$stderr"; false; }
  echo "$stderr"
  [[ "$stderr" == *"dropping record (key big-one, offset 900): 3017 bytes with its key, over the 2048-byte limit"* ]]
  [[ "$stderr" == *"offset 901): partition key has 257 characters (1..256)"* ]]
  [[ "$stderr" == *" 2 dropped"* ]]
  assert_equal "$(cat ck)" 901
  kinesis_read_all hot >got.jsonl
  run kinesis_check_delivery expected.jsonl got.jsonl --exact
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "a stream that does not exist: exit 78, the records go to the dead letter" {
  gen 3 3 0
  run_split kinesis-put --stream nosuch --endpoint-url "$KINESIS_ENDPOINT" --dead-letter dead.rec -i in.rec
  [ "$status" -eq 78 ]
  [[ "$stderr" == *"unable to put records to stream nosuch: HTTP 400 ResourceNotFoundException"* ]]
  assert_equal "$(ora-rec unpack -i dead.rec | wc -l)" 3
}

@test "--stdout writes exactly the records, in order, and commits the checkpoints" {
  gen 1000 17 250
  kinesis-put --stdout --checkpoint ck -i in.rec >out.jsonl 2>err
  run kinesis_check_delivery expected.jsonl out.jsonl --exact
  [ "$status" -eq 0 ]
  # with 17 keys and 1000 records, order is input order within each key
  diff <(jq -c 'select(.Data.k == "k3")' expected.jsonl) <(jq -c 'select(.Data.k == "k3")' out.jsonl)
  stderr=$(cat err)
  assert_equal "$(cat ck)" 999
  [[ "$stderr" == *"1000 records in, 1000 acknowledged"*"checkpoint 999"*"4 ctrl (0 ignored)"* ]]
}

@test "--stdout: other CTRL kinds and MSG records are counted and ignored; -o FILE; data newlines flattened" {
  printf '%s\n' '{"type":"CTRL","kind":"connected","conn":1,"data":{"ctrl":"connected","conn":1}}' \
    '{"type":"MSG","offset":5,"data":{"offset":5}}' \
    '{"type":"OUT","key":"a\"b","offset":1,"data":{"x":"1"}}' \
    '{"type":"CTRL","kind":"checkpoint","offset":1,"data":{"ctrl":"checkpoint","offset":1}}' |
    ora-rec pack --meta -o in.rec 2>/dev/null
  run_split kinesis-put --stdout -o out.jsonl -i in.rec
  [ "$status" -eq 0 ]
  assert_equal "$(cat out.jsonl)" '{"PartitionKey":"a\"b","Data":{"x":"1"}}'
  [[ "$stderr" == *"ignoring MSG records"* ]]
  [[ "$stderr" == *"2 ctrl (1 ignored)"* ]]
}

@test "--stdout to a full disk: exit 74, checkpoint not committed" {
  gen 10 3 10
  run_split kinesis-put --stdout --checkpoint ck -i in.rec -o /dev/full
  [ "$status" -eq 74 ]
  [[ "$stderr" == *"unable to write output: No space left on device"* ]]
  [ ! -e ck ]
}

@test "--oversize fail: exit 65 after delivering what came before" {
  {
    kinesis_gen 5 5 5
    printf '{"type":"OUT","key":"huge","offset":77,"data":"%s"}\n' "$(head -c 200 /dev/zero | tr '\0' y)"
    kinesis_gen 5 5 0
  } | ora-rec pack --meta -o in.rec 2>/dev/null
  run_split kinesis-put --stdout --oversize fail --max-record-bytes 100 --checkpoint ck -i in.rec
  [ "$status" -eq 65 ]
  [[ "$stderr" == *"unable to send record (key huge, offset 77): 206 bytes with its key, over the 100-byte limit (--oversize fail)"* ]]
  assert_equal "$(echo "$output" | wc -l)" 5
  assert_equal "$(cat ck)" 4
}

@test "damaged input: skipped with a warning; --strict exits 65; truncated input reported" {
  gen 50 5 0
  python3 -c '
import sys
b = bytearray(open("in.rec", "rb").read())
b[64 * 3 + 10] ^= 0xff   # somewhere in an early record
open("bad.rec", "wb").write(bytes(b))
open("trunc.rec", "wb").write(bytes(b[:len(b) - 7]))'
  run_split kinesis-put --stdout -i bad.rec
  [ "$status" -eq 0 ]
  [[ "$stderr" == *"skipped"*"bytes of input at byte"* ]]
  n=$(echo "$output" | wc -l)
  [ "$n" -ge 45 ] || fail "only $n records before the damage"
  [ "$n" -lt 50 ] || fail "$n records: the damaged ones were not skipped"
  run_split kinesis-put --stdout --strict -i bad.rec
  [ "$status" -eq 65 ]
  [[ "$stderr" == *"(--strict)"* ]]
  run_split kinesis-put --stdout -i trunc.rec
  [[ "$stderr" == *"truncated"* || "$stderr" == *"skipped"* ]]
}

@test "--latency-log: one line per acknowledged record with a receive time" {
  gen 100 10 0
  run_split kinesis-put --stdout --latency-log lat.txt -i in.rec -o /dev/null
  [ "$status" -eq 0 ]
  assert_equal "$(wc -l <lat.txt)" 100
  run awk 'NF != 3 || $3 < $2 { bad++ } END { print bad + 0 }' lat.txt
  assert_output 0
}

@test "checkpoint directory not writable: exit 74" {
  gen 10 3 10
  run_split kinesis-put --stdout --checkpoint /nonexistent/dir/ck -i in.rec -o /dev/null
  [ "$status" -eq 74 ]
  [[ "$stderr" == *"unable to commit checkpoint 9 to /nonexistent/dir/ck"* ]]
}

@test "usage errors exit 64 with one line" {
  for args in "" "--stdout --concurrency 0" "--stdout --max-records 501" "--stdout --oversize keep" \
    "--stdout --max-request-bytes 11M" "--stdout --backoff 5..1" "--stdout --linger x" "--stream s -o x" \
    "--stdout extra" "--stdout --bogus"; do
    # shellcheck disable=SC2086
    run_split kinesis-put $args </dev/null
    [ "$status" -eq 64 ] || { echo "args: $args -> $status"; false; }
    [[ "$stderr" == *kinesis-put:* ]]
  done
}

@test "--help matches the man page SYNOPSIS; --version" {
  run kinesis-put --help
  [ "$status" -eq 0 ]
  help=$output
  for opt in $(echo "$help" | grep -o -- '--[a-z-]*' | sort -u); do
    grep -q -- "^\.Op Fl Fl ${opt#--}\b\|^\.Fl Fl ${opt#--}\b\|^\.Op Fl Fl ${opt#--}$\|Fl Fl ${opt#--}" "$TOP/man/kinesis-put.1" ||
      { echo "$opt not in man page"; false; }
  done
  for opt in $(awk '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/' "$TOP/man/kinesis-put.1" | grep -o 'Fl Fl [a-z-]*' | awk '{print "--" $3}' | sort -u); do
    [[ "$help" == *"$opt"* ]] || { echo "$opt not in --help"; false; }
  done
  run kinesis-put --version
  [ "$status" -eq 0 ]
  [[ "$output" == "kinesis-put "* ]]
}

@test "kinesis-put(1) EXAMPLES run as written" {
  kinesis_create_stream probabilities 1
  man_examples "$TOP/man/kinesis-put.1" >examples.sh
  [ "$(grep -c kinesis-put examples.sh)" -ge 2 ]
  run bash -euo pipefail examples.sh
  assert_success
  assert_output --partial '{"PartitionKey":"e1","Data":{"type":"event_data"}}'
  assert_output --partial '42'
  assert_equal "$(cat ck)" 42
  kinesis_read_all probabilities >got.jsonl
  assert_equal "$(cat got.jsonl)" '{"PartitionKey":"e1","Data":{"type":"event_data"}}'
}
