#!/usr/bin/env bats
# ora-order: routing, per-actor offset order, batch thresholds, CTRL order,
# bad input, EOF/SIGTERM flushing, exit codes.
load helper
load lib/order
load lib/man

setup_file() {
  # One shuffled 500k stream shared by the tests that need volume: each
  # actor's messages shuffled within its own groups of 100 arrivals.
  export BIG=$BATS_FILE_TMPDIR/big.rec
  python3 "$TOP/tests/fixtures/order/gen.py" 500000 --group 100 --events 200 --offers 5 --seed 7 |
    ORA_LOG=warn ora-rec pack -o "$BIG"
}

setup() {
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  kill_bg
}

# ---- usage ------------------------------------------------------------------

@test "-h prints a usage that matches the man SYNOPSIS; --version" {
  run ora-order -h
  assert_success
  assert_line --index 0 --partial "usage: ora-order"
  for o in -i -o -b -t --max-record --strict --version; do
    assert_output --partial -- "$o"
    grep -q -- "Fl ${o#-}" "$TOP/man/ora-order.1" || fail "man SYNOPSIS lacks $o"
  done
  run ora-order --version
  assert_success
  assert_output --regexp '^ora-order [0-9]'
}

@test "usage errors exit 64 with one line naming the problem" {
  while IFS='|' read -r args want; do
    run_split ora-order $args
    [ "$status" -eq 64 ] || fail "ora-order $args: status $status, want 64"
    [ "$(wc -l <<<"$stderr")" -eq 1 ] || fail "ora-order $args: stderr: $stderr"
    [[ $stderr == "ora-order: error: unable to "*"$want"* ]] || fail "ora-order $args: $stderr"
  done <<'EOF'
--bogus|--bogus
-b 0|--batch-size 0
-b 1000001|--batch-size 1000001
-b 12x|--batch-size 12x
-b -3|--batch-size -3
-t -1|--batch-timeout -1
-t 3600001|--batch-timeout 3600001
-t 1.5|--batch-timeout 1.5
--max-record 0|--max-record 0
-b|needs an argument
stray|unexpected argument stray
EOF
}

@test "bad ORA_BATCH_SIZE / ORA_BATCH_TIMEOUT exit 78 (configuration) naming the variable" {
  ORA_BATCH_SIZE=0 run_split ora-order < /dev/null
  assert_equal "$status" 78
  [[ $stderr == *ORA_BATCH_SIZE=0* ]]
  ORA_BATCH_TIMEOUT=soon run_split ora-order < /dev/null
  assert_equal "$status" 78
  [[ $stderr == *ORA_BATCH_TIMEOUT=soon* ]]
}

@test "missing input file exits 74" {
  run_split ora-order -i does-not-exist.rec
  assert_equal "$status" 74
  [[ $stderr == *"unable to open does-not-exist.rec"* ]]
}

# ---- routing ------------------------------------------------------------------

@test "every payload key of the reference messages is routed to its actor and kind" {
  grep '^{"offset"' "$FIXTURES/ora-messages.jsonl" | pack > in.rec
  ora-order -i in.rec -o out.rec
  tsv out.rec | awk -F'\t' '{ print $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 }' | sort -n > got.tsv
  grep -v '^#' "$OFIX/routing.tsv" | awk '{ print $0 "\t1" }' > want.tsv
  [ "$(wc -l < want.tsv)" -eq 18 ]
  diff want.tsv got.tsv
}

@test "each payload key takes its id from its own path (distinct ids, decoys)" {
  pack < "$OFIX/distinct.jsonl" > in.rec
  ora-order -i in.rec -o out.rec
  tsv out.rec | cut -f2-5 | sort -n > got.tsv
  diff "$OFIX/distinct.tsv" got.tsv
  # and the table covers every kind ora-order knows
  [ "$(cut -f2 "$OFIX/distinct.tsv" | sort -u | wc -l)" -eq 18 ]
}

@test "payloads are copied unchanged; the header offset comes from the message" {
  grep '^{"offset"' "$FIXTURES/ora-messages.jsonl" > msgs.jsonl
  pack < msgs.jsonl > in.rec
  ora-order -i in.rec | ORA_LOG=warn ora-rec unpack | sort > got.jsonl
  sort msgs.jsonl | diff - got.jsonl
  # a header offset that disagrees with the message is corrected
  echo '{"type":"MSG","offset":999,"conn":3,"flow":"replay","data":{"offset":5,"eventTagsUpdated":{"id":8,"tags":[]}}}' |
    pack --meta | ora-order | ORA_LOG=warn ora-rec unpack --meta > one.json
  assert_equal "$(jq -c '[.offset, .conn, .flow, .kind, .actor_id]' one.json)" '[5,3,"replay","eventTagsUpdated",8]'
}

@test "unknown payload keys and session messages pass with kind 0, no actor, counted" {
  pack < "$OFIX/unknown.jsonl" > in.rec
  run_split ora-order -i in.rec -o out.rec
  assert_success
  run tsv out.rec
  assert_equal "${#lines[@]}" 4
  for l in "${lines[@]}"; do
    [[ $l == MSG$'\t'*$'\t-\t-\t-\t1' ]] || fail "not routed to nothing: $l"
  done
  [[ $stderr == *"4 unknown"* ]]
  [[ $stderr != *warning* ]]
}

# ---- order and thresholds -------------------------------------------------------

@test "500k shuffled messages: each actor's offsets ascend, every offset once" {
  # the input is out of order (the check fails on it) ...
  run bash -c "ORA_LOG=warn ora-rec unpack --meta -i '$BIG' | python3 '$OFIX/check.py' 500000"
  assert_failure
  assert_output --partial "out of order"
  # ... and ora-order restores it with batches of 100 (no timeouts)
  run_split ora-order -b 100 -t 3600000 -i "$BIG" -o out.rec
  assert_success
  [[ $stderr =~ batches\ ([0-9]+)\ full ]] || fail "no batch count in: $stderr"
  [ "${BASH_REMATCH[1]}" -gt 1000 ] || fail "only ${BASH_REMATCH[1]} full batches"
  run bash -c "ORA_LOG=warn ora-rec unpack --meta -i out.rec | python3 '$OFIX/check.py' 500000"
  assert_success
  assert_output --partial "ascending per actor"
}

@test "batches smaller than the shuffle break the order (the check can fail)" {
  ora-order -b 30 -t 3600000 -i "$BIG" -o out.rec 2>/dev/null
  run bash -c "ORA_LOG=warn ora-rec unpack --meta -i out.rec | python3 '$OFIX/check.py' 500000"
  assert_failure
}

@test "500k messages at the default batch settings: nothing lost or duplicated" {
  run_split ora-order -i "$BIG" -o out.rec
  assert_success
  [[ $stderr == *"500000 msgs in"*"500000 records out"* ]]
  run bash -c "ORA_LOG=warn ora-rec unpack --meta -i out.rec | python3 '$OFIX/check.py' 500000 --no-order"
  assert_success
}

@test "size threshold: a full batch comes out before EOF, other actors stay pending" {
  { msg 3 eventStatusUpdated 7; msg 1 eventStatusUpdated 7; msg 10 betOfferStatusUpdated 7; } | pack > a.rec
  msg 2 eventStatusUpdated 7 | pack > b.rec
  bg_order -b 3 -t 3600000
  cat a.rec >&8
  cat b.rec >&8
  wait_records out.rec 3
  run tsv out.rec
  assert_equal "${#lines[@]}" 3
  assert_equal "$(tsv out.rec | cut -f2,4 | tr '\n\t' ' :')" "1:event 2:event 3:event "
  exec 8>&-
  wait "$ORDER_PID"
  assert_equal "$(tsv out.rec | cut -f2,4 | tr '\n\t' ' :')" "1:event 2:event 3:event 10:betOffer "
  grep -q "batches 1 full/0 timed/1 flushed" err.txt
}

@test "time threshold: a lone message comes out while the input is idle, before EOF" {
  { msg 5 eventStatusUpdated 9; msg 4 eventStatusUpdated 9; } | pack > a.rec
  bg_order -b 100 -t 30
  cat a.rec >&8
  wait_records out.rec 2
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "4 5 "
  exec 8>&-
  wait "$ORDER_PID"
  grep -q "batches 0 full/1 timed/0 flushed" err.txt
}

@test "ORA_BATCH_SIZE sets the batch size; the flag wins" {
  for i in 4 3 2 1; do msg $i eventStatusUpdated 1; done | pack > in.rec
  ORA_BATCH_SIZE=2 ORA_BATCH_TIMEOUT=3600000 run_split ora-order -i in.rec -o out.rec
  [[ $stderr == *"batches 2 full/0 timed/0 flushed"* ]]
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "3 4 1 2 "
  ORA_BATCH_SIZE=2 ORA_BATCH_TIMEOUT=3600000 run_split ora-order -b 4 -i in.rec -o out.rec
  [[ $stderr == *"batches 1 full/0 timed/0 flushed"* ]]
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 2 3 4 "
}

@test "CTRL records keep their place: everything before is released first" {
  {
    msg 3 eventStatusUpdated 1; msg 1 eventStatusUpdated 1; msg 5 betOfferStatusUpdated 1
  } | pack > p1.rec
  echo '{"ctrl":"flow","flow":"realtime","offset":5}' | pack --type ctrl > c1.rec
  { msg 4 eventStatusUpdated 1; msg 2 eventStatusUpdated 1; } | pack > p2.rec
  echo '{"ctrl":"connected","conn":2}' | pack --type ctrl > c2.rec
  { msg 7 eventStatusUpdated 1; msg 6 betOfferStatusUpdated 1; } | pack > p3.rec
  cat p1.rec c1.rec p2.rec c2.rec p3.rec > in.rec
  run_split ora-order -t 3600000 -i in.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f1,2 | tr '\n\t' ' :')" \
    "MSG:1 MSG:3 MSG:5 CTRL:5 MSG:2 MSG:4 CTRL:- MSG:7 MSG:6 "
  assert_equal "$(tsv out.rec | awk -F'\t' '$1 == "CTRL" { print $3 }' | tr '\n' ' ')" "flow connected "
  [[ $stderr == *"2 passed through"* ]]
}

@test "EOF releases everything pending, oldest batch first" {
  python3 "$OFIX/gen.py" 3000 --seed 2 --window 50 | pack > in.rec
  run_split ora-order -b 1000000 -t 3600000 -i in.rec -o out.rec
  assert_success
  [[ $stderr =~ batches\ 0\ full/0\ timed/([0-9]+)\ flushed ]] || fail "not all batches flushed at EOF: $stderr"
  [ "${BASH_REMATCH[1]}" -gt 100 ] || fail "only ${BASH_REMATCH[1]} batches flushed"
  run bash -c "ORA_LOG=warn ora-rec unpack --meta -i out.rec | python3 '$OFIX/check.py' 3000"
  assert_success
}

# ---- bad input --------------------------------------------------------------------

@test "unroutable messages are skipped with a warning naming offset or byte position" {
  {
    msg 1 eventStatusUpdated 1
    cat "$OFIX/bad.jsonl"
    msg 2 eventStatusUpdated 1
  } | pack > a.rec
  # payloads that are not JSON at all: text, truncated JSON, empty
  printf '%s\n' '{"type":"MSG","data_base64":"bm90IGpzb24="}' \
    "{\"type\":\"MSG\",\"data_base64\":\"$(printf '{"offset":9,"eventAdded":{' | base64 -w0)\"}" \
    '{"type":"MSG","data_base64":""}' | pack --meta > b.rec
  msg 3 eventStatusUpdated 1 | pack > c.rec
  cat a.rec b.rec c.rec > in.rec
  starts=($(python3 "$RECPY" starts in.rec | cut -d' ' -f1))
  run_split ora-order -i in.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 2 3 "
  [[ $stderr == *"12 bad"* ]] || fail "$stderr"
  [ "$(grep -c '^ora-order: warning: skipping message' <<<"$stderr")" -eq 12 ]
  for o in 201 202 203 204 205 206 207; do
    grep -q "^ora-order: warning: skipping message at offset $o: " <<<"$stderr" || fail "no warning for offset $o"
  done
  grep -q "at offset 201: payload without a valid actor id (eventAdded)" <<<"$stderr"
  # no offset: the record's byte position (records 8 and 9 of a.rec, then b.rec)
  for k in 8 9 11 12 13; do
    grep -q "^ora-order: warning: skipping message at input byte ${starts[$k]}: " <<<"$stderr" ||
      fail "no warning naming byte ${starts[$k]} (record $k)"
  done
  grep -q "input byte ${starts[11]}: malformed JSON" <<<"$stderr"
}

@test "--strict: an unroutable message exits 65 after writing what was pending" {
  { msg 2 eventStatusUpdated 1; msg 1 eventStatusUpdated 1; head -1 "$OFIX/bad.jsonl"; msg 3 eventStatusUpdated 1; } | pack > in.rec
  run_split ora-order --strict -t 3600000 -i in.rec -o out.rec
  assert_equal "$status" 65
  [[ $stderr == *"ora-order: error: unable to route message at offset 201: payload without a valid actor id"* ]]
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 2 "
}

@test "a damaged record is skipped with a warning; --strict exits 65" {
  for i in 1 2 3 4; do msg $i eventStatusUpdated 1; done | pack > in.rec
  at=$(python3 "$RECPY" starts in.rec | sed -n 2p | cut -d' ' -f1)
  python3 "$RECPY" flip in.rec $((at + 70))
  run_split ora-order -i in.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 3 4 "
  grep -q "^ora-order: warning: skipped [0-9]* bytes at input byte $at" <<<"$stderr" || fail "$stderr"
  run_split ora-order --strict -i in.rec -o out.rec
  assert_equal "$status" 65
  [[ $stderr == *"error: unable to read a record at input byte $at"* ]]
}

@test "a truncated last record is reported; the rest is written" {
  for i in 1 2; do msg $i eventStatusUpdated 1; done | pack > in.rec
  head -c -10 in.rec > cut.rec
  run_split ora-order -i cut.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 "
  [[ $stderr == *warning*"input byte"* ]]
}

@test "more than 20 bad messages: the warnings stop (as in every tool), the count goes on" {
  for i in $(seq 1 150); do echo '{"offset":'$i',"eventAdded":{}}'; done | pack > in.rec
  run_split ora-order -i in.rec -o out.rec
  assert_success
  [ "$(grep -c 'warning: skipping' <<<"$stderr")" -eq 20 ]
  [[ $stderr == *"at offset 20: "*"further ones are only counted: see the summary"*"150 bad"* ]]
}

# ---- I/O and signals ------------------------------------------------------------

@test "a failed write to stdout exits 74" {
  grep '^{"offset"' "$FIXTURES/ora-messages.jsonl" | pack > in.rec
  run_split ora-order -i in.rec -o /dev/full
  assert_equal "$status" 74
  [[ $stderr == *"ora-order: error: unable to write output: No space left on device"* ]]
  run_split bash -c 'ora-order < in.rec > /dev/full'
  assert_equal "$status" 74
}

@test "a closed output pipe exits 74, not by SIGPIPE" {
  python3 "$OFIX/gen.py" 20000 | pack > in.rec
  run bash -c 'ora-order -i in.rec 2>err.txt | head -c 100 > /dev/null; echo "${PIPESTATUS[0]}"'
  assert_output 74
  grep -q "unable to write output: Broken pipe" err.txt
}

@test "SIGTERM: pending batches are written and ora-order exits 0" {
  { msg 2 eventStatusUpdated 1; msg 1 eventStatusUpdated 1; echo '{"offset":3,"newKind":{}}'; } | pack > in.rec
  bg_order -t 3600000
  cat in.rec >&8
  wait_records out.rec 1      # the unknown message passed: the two before it were read
  kill -TERM "$ORDER_PID"
  st=0; wait "$ORDER_PID" || st=$?
  assert_equal "$st" 0
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "3 1 2 "
  grep -q "stopped by signal" err.txt
  grep -q "batches 0 full/0 timed/1 flushed" err.txt
}

@test "SIGUSR1 prints the summary and goes on" {
  bg_order
  msg 1 eventStatusUpdated 1 | pack >&8
  wait_records out.rec 1
  kill -USR1 "$ORDER_PID"
  for i in $(seq 400); do grep -q "summary:" err.txt && break; sleep 0.05; done
  grep -q "ora-order: summary: 1 msgs in" err.txt
  exec 8>&-
  st=0; wait "$ORDER_PID" || st=$?
  assert_equal "$st" 0
  [ "$(grep -c summary: err.txt)" -eq 2 ]
}

@test "man page EXAMPLES run" {
  ln -s "$TOP/tests" tests
  man_examples "$TOP/man/ora-order.1" > examples.sh
  [ "$(grep -c ora-order examples.sh)" -ge 2 ]
  run bash -euo pipefail examples.sh
  assert_success
  assert_output --partial '"kind":"betOfferAdded","actor_type":"betOffer","actor_id":5000001'
  [ "$(count_records ordered.rec)" -eq 28 ]
}

@test "SIGTERM with a record read in part: the part is reported and dropped, exit 0" {
  echo '{"offset":1,"newKind":{}}' | pack > u.rec
  msg 2 eventStatusUpdated 1 | pack > m.rec
  { cat u.rec; head -c 40 m.rec; } > in.rec   # one write: the reader gets it all at once
  bg_order -t 3600000
  cat in.rec >&8
  wait_records out.rec 1
  kill -TERM "$ORDER_PID"
  st=0; wait "$ORDER_PID" || st=$?
  assert_equal "$st" 0
  grep -q "warning: stopping: dropped 40 bytes of a partly read record at input byte $(stat -c %s u.rec)" err.txt ||
    fail "$(cat err.txt)"
  [ "$(count_records out.rec)" -eq 1 ]
}

@test "--max-record: a longer record is damaged input, skipped with a warning" {
  grep '^{"offset":9,' "$FIXTURES/ora-messages.jsonl" | pack > big.rec
  msg 1 eventStatusUpdated 1 | pack > small.rec
  cat small.rec big.rec small.rec > in.rec
  run_split ora-order --max-record 200 -i in.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 1 "
  [[ $stderr == *"warning: skipped"*"input byte $(stat -c %s small.rec)"* ]] || fail "$stderr"
  run_split ora-order --max-record 1K -i in.rec -o out.rec
  assert_equal "$(tsv out.rec | cut -f2 | tr '\n' ' ')" "1 1 9 "
}

@test "-t 0 keeps routing and releases every batch at once" {
  for i in 3 2 1; do msg $i eventStatusUpdated 1; done | pack > in.rec
  run_split ora-order -t 0 -i in.rec -o out.rec
  assert_success
  assert_equal "$(tsv out.rec | cut -f2,3 | tr '\n\t' ' :')" "3:eventStatusUpdated 2:eventStatusUpdated 1:eventStatusUpdated "
}

@test "offsets outside 0..2^53-1 are reported and skipped, for every kind; never passed on with that offset" {
  {
    msg 9007199254740991 eventStatusUpdated 1
    msg 9007199254740992 eventStatusUpdated 1
    msg 9223372036854775807 betOfferStatusUpdated 2
    msg -1 betOfferStatusUpdated 2
    echo '{"offset":9223372036854775807,"eventLiveStatsUpdated":{"eventId":1}}'
    echo '{"offset":1e300,"somethingNew":{}}'
    echo '{"offset":5,"somethingNew":{}}'
  } | pack > a.rec
  # a message without an offset of its own keeps the header's only when sound
  printf '%s\n' '{"type":"MSG","offset":9223372036854775807,"data":{"somethingNew":{}}}' \
    '{"type":"MSG","offset":-7,"data":{"somethingNew":{}}}' \
    '{"type":"MSG","offset":77,"data":{"somethingNew":{}}}' | python3 "$RECPY" encode > b.rec
  cat a.rec b.rec > in.rec
  for t in 0 20; do
    run_split ora-order -t $t -i in.rec -o out.rec
    assert_success
    assert_equal "$(tsv out.rec | cut -f2 | sort -n | tr '\n' ' ')" "5 77 9007199254740991 "
    [ "$(grep -c 'warning: skipping message at .*"offset" outside 0..2^53-1' <<<"$stderr")" -eq 7 ] || fail "$stderr"
    [[ $stderr == *"7 bad (7 with an offset out of range)"* ]] || fail "$stderr"
  done
  run_split ora-order --strict -i in.rec -o out.rec
  assert_failure 65
}

@test "--metrics FILE: the README's families, valid for promtool, written at the interval (idle too) and at exit" {
  { msg 3 eventStatusUpdated 1; msg 1 eventStatusUpdated 1; msg 5 betOfferStatusUpdated 2
    echo '{"offset":4,"somethingNew":{}}'; } | pack > in.rec
  bg_order -t 3600000 --metrics m.prom --metrics-interval 0.2
  cat in.rec >&8
  # while the input is open and idle: three messages held, the file rewritten
  local i
  for ((i = 0; i < 200; i++)); do
    grep -qx 'ora_order_pending{stage="order"} 3' m.prom 2>/dev/null && break
    sleep 0.1
  done
  grep -qx 'ora_order_pending{stage="order"} 3' m.prom || fail "$(cat m.prom)"
  promtool check metrics < m.prom
  exec 8>&-
  wait "$ORDER_PID"
  promtool check metrics < m.prom
  grep -qx 'ora_order_messages_total{stage="order",kind="eventStatusUpdated"} 2' m.prom
  grep -qx 'ora_order_messages_total{stage="order",kind="betOfferStatusUpdated"} 1' m.prom
  grep -qx 'ora_order_messages_total{stage="order",kind="unknown"} 1' m.prom
  grep -qx 'ora_order_messages_total{stage="order",kind="outcomeOddsUpdated"} 0' m.prom
  # 1 came out before 3, which arrived first: 3 was released out of arrival order
  grep -qx 'ora_order_reordered_total{stage="order"} 1' m.prom
  grep -qx 'ora_order_pending{stage="order"} 0' m.prom
  grep -q '^ora_build_info{stage="order",version="' m.prom
  grep -q '^ora_process_id{stage="order"} [0-9]' m.prom
  run_split ora-order --metrics-interval 0 < /dev/null
  assert_failure 64
}
