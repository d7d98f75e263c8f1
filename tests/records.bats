#!/usr/bin/env bats
# The record format and its reader through ora-rec (issue 2, item 7): golden
# files, pack|unpack identity, one flipped byte costs one record, truncation,
# oversize lengths, garbage, empty input, --meta round trips.
# Damaged inputs and their expectations: tests/fixtures/records/cases (make-cases).

load helper
load lib/records

setup_file() {
  # A 50k-record stream shared by the large-stream tests.
  python3 "$BATS_TEST_DIRNAME/lib/records.py" gen 50000 11 100 300 >"$BATS_FILE_TMPDIR/big.jsonl"
  ORA_LOG=warn "${ORA_BIN:-$BATS_TEST_DIRNAME/../bin}/ora-rec" pack <"$BATS_FILE_TMPDIR/big.jsonl" >"$BATS_FILE_TMPDIR/big.rec"
  python3 "$BATS_TEST_DIRNAME/lib/records.py" starts "$BATS_FILE_TMPDIR/big.rec" >"$BATS_FILE_TMPDIR/big.starts"
}

setup() {
  T=$BATS_TEST_TMPDIR
  BIG=$BATS_FILE_TMPDIR/big.jsonl
  BIGREC=$BATS_FILE_TMPDIR/big.rec
}

# ---- golden files: the format is versioned; these catch accidental changes --

@test "golden: unpack --meta of golden.rec is golden.meta.jsonl" {
  run_split ora-rec unpack --meta -i "$RFIX/golden.rec"
  assert_success
  diff -u "$RFIX/golden.meta.jsonl" <(printf '%s\n' "$output")
}

@test "golden: pack --meta of golden.meta.jsonl re-makes golden.rec byte for byte" {
  ora-rec pack --meta --strict <"$RFIX/golden.meta.jsonl" >"$T/re.rec"
  cmp "$RFIX/golden.rec" "$T/re.rec"
}

@test "golden: an independent encoder (records.py, from record.h) makes the same bytes" {
  recpy encode <"$RFIX/golden.meta.jsonl" >"$T/py.rec"
  cmp "$RFIX/golden.rec" "$T/py.rec"
}

@test "golden: every header is version 1 with sound sums and zero reserved bytes" {
  recpy parse "$RFIX/golden.rec" >"$T/p.jsonl"
  [ "$(wc -l <"$T/p.jsonl")" -eq 19 ]
  run jq -s -e 'all(.[]; .magic_ok and .version == 1 and .hsum_ok and .psum_ok and .reserved == [0,0])' "$T/p.jsonl"
  assert_success
  # The header fields as parsed independently agree with the meta lines.
  run diff <(jq -c '[.type, .len, .conn, .offset, .actor_id, .flags, .recv_ns]' "$T/p.jsonl") \
    <(jq -c '[.type, .len, (.conn // 0), (.offset // -1), (.actor_id // 0), (.flags // 0), (.recv_ns // 0)]' "$RFIX/golden.meta.jsonl")
  assert_success
}

@test "golden: unpack, stats and verify of golden.rec" {
  ora-rec unpack <"$RFIX/golden.rec" >"$T/u" 2>/dev/null
  cmp "$RFIX/golden.jsonl" "$T/u"
  ora-rec stats <"$RFIX/golden.rec" >"$T/s" 2>/dev/null
  diff -u "$RFIX/golden.stats" "$T/s"
  run_split ora-rec verify <"$RFIX/golden.rec"
  assert_success
  assert_output --regexp '^19 records, 2505 bytes'
}

@test "golden: the 19th record, WIRE flagged INFLATED (version 1 extended): one frame's JSON as it is" {
  # the first 18 records are the bytes of version 1 before the flag existed
  run bash -c "ora-rec unpack --meta -i '$RFIX/golden.rec' 2>/dev/null | tail -1 | jq -c '[.type, .flags, .conn]'"
  assert_output '["WIRE",2,5]'
  ora-rec unpack --meta -i "$RFIX/golden.rec" | tail -1 | jq -r .data_base64 | base64 -d >"$T/frame"
  jq -e '.type == "SESSION_PING"' "$T/frame"
  # ora-deframe takes it as a frame (a session message: dropped and counted)
  run_split ora-deframe -i "$RFIX/golden.rec" -o /dev/null
  assert_regex "$stderr" " 1 frames inflated by the sender"
}

@test "golden: the \"time\" of unpack --meta is recv_ns in ISO 8601 UTC (checked by python)" {
  ora-rec pack --route <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack --meta >"$T/m"
  cat "$RFIX/golden.meta.jsonl" "$RFIX/meta-edge.expected.jsonl" >>"$T/m"
  python3 - "$T/m" <<'PY'
import datetime, json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line)
    if "recv_ns" not in m:
        assert "time" not in m, line
        continue
    ns = m["recv_ns"]
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=ns // 10**9)
    want = t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ns // 10**6 % 1000)
    assert m["time"] == want, (m["time"], want)
    n += 1
assert n >= 40, n
PY
}

@test "golden: a changed version byte is refused (records v1 only)" {
  # cases/version-2 has record 1 at version 2 with a recomputed header sum.
  run_split ora-rec verify -i "$RFIX/cases/version-2.rec"
  assert_failure 65
  assert_output --regexp '^18 records'
}

# ---- damaged inputs: data-driven over tests/fixtures/records/cases ---------

@test "cases: unpack output is the input minus exactly the damaged records" {
  local n=0 c
  for c in "$RFIX"/cases/*.rec; do
    c=${c%.rec}
    if grep -q '^not_records 1' "$c.expect"; then
      run_to_files ora-rec unpack -i "$c.rec"
      [ "$status" -eq 65 ] || fail "$(basename "$c"): not records, exit $status"
      [ ! -s "$T/out" ] || fail "$(basename "$c"): not records, yet output"
      grep -q "^ora-rec: error: unable to read input: not records" <<<"$stderr" || fail "$(basename "$c"): $stderr"
    else
      ora-rec unpack <"$c.rec" >"$T/out" 2>/dev/null || fail "unpack failed on $(basename "$c")"
      cmp -s "$c.out" "$T/out" || fail "$(basename "$c"): unpack output differs: $(diff "$c.out" "$T/out" | head -5)"
    fi
    n=$((n + 1))
  done
  [ "$n" -ge 40 ]
}

@test "cases: the warnings name exactly the damaged byte ranges (adjacent ones may merge)" {
  local c want got
  for c in "$RFIX"/cases/*.rec; do
    c=${c%.rec}
    grep -q '^not_records 1' "$c.expect" && continue
    run_to_files ora-rec unpack -i "$c.rec"
    assert_success
    want=$(grep '^warn ' "$c.expect" | cut -d' ' -f2,3 | merge_ranges)
    got=$(warned_ranges | merge_ranges)
    [ "$want" = "$got" ] || fail "$(basename "$c"): damaged ranges [$want], warnings name [$got]: $stderr"
  done
}

@test "cases: stats counts records, corrupt ranges, skipped bytes and truncations" {
  local c lo hi n
  for c in "$RFIX"/cases/*.rec; do
    c=${c%.rec}
    grep -q '^not_records 1' "$c.expect" && continue
    ora-rec stats <"$c.rec" 2>/dev/null >"$T/s"
    diff <(grep -E '^(records|bytes|skipped_bytes|truncated) ' "$c.expect") \
      <(grep -E '^(records|bytes|skipped_bytes|truncated) ' "$T/s") || fail "$(basename "$c"): stats differ"
    # Corrupt ranges: one per damaged range, or fewer when adjacent ones merge.
    hi=$(grep '^corrupt ' "$c.expect" | cut -d' ' -f2)
    lo=$(grep '^warn ' "$c.expect" | head -n "$hi" | cut -d' ' -f2,3 | merge_ranges | wc -w)
    n=$(grep '^corrupt ' "$T/s" | cut -d' ' -f2)
    [ "$n" -le "$hi" ] && [ "$n" -ge $((hi == 0 ? 0 : lo > 0 ? lo : 1)) ] || fail "$(basename "$c"): corrupt $n, want $lo..$hi"
  done
}

@test "cases: verify exits 65 naming the first offset; sound inputs exit 0" {
  local c first
  for c in "$RFIX"/cases/*.rec; do
    c=${c%.rec}
    run_to_files ora-rec verify -i "$c.rec"
    output=$(cat "$T/out")
    first=$(grep -m1 '^warn ' "$c.expect" | cut -d' ' -f2)
    if grep -q '^not_records 1' "$c.expect"; then
      [ "$status" -eq 65 ] || fail "$(basename "$c"): verify exit $status, want 65"
      grep -q "error: unable to read input: not records" <<<"$stderr" || fail "$(basename "$c"): $stderr"
    elif [ -z "$first" ]; then
      [ "$status" -eq 0 ] || fail "$(basename "$c"): verify exit $status on a sound input"
      assert_output --regexp 'records, [0-9]+ bytes: all sound'
    else
      [ "$status" -eq 65 ] || fail "$(basename "$c"): verify exit $status, want 65"
      assert_output --partial CORRUPT
      grep -q "byte offset $first\b" <<<"$stderr" || fail "$(basename "$c"): verify did not name offset $first: $stderr"
    fi
  done
}

@test "cases: --strict makes unpack, cat and stats exit 65 at the first damage" {
  local c first sub
  for c in "$RFIX"/cases/*.rec; do
    c=${c%.rec}
    first=$(grep -m1 '^warn ' "$c.expect" | cut -d' ' -f2)
    [ -n "$first" ] || continue
    for sub in unpack cat stats; do
      run_to_files ora-rec "$sub" --strict -i "$c.rec"
      [ "$status" -eq 65 ] || fail "$sub --strict on $(basename "$c"): exit $status"
      grep -q "^ora-rec: error: .*byte offset $first\b" <<<"$stderr" || fail "$sub --strict: $stderr"
    done
  done
}

# ---- pack | unpack is the identity ----------------------------------------

@test "identity: the ORA message fixture" {
  ora-rec pack <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack >"$T/out"
  cmp "$FIXTURES/ora-messages.jsonl" "$T/out"
}

@test "identity: unicode, escapes, odd JSON values" {
  cat >"$T/in" <<'EOF'
{"name":"Malmö FF – AIK","jp":"日本","emoji":"🎉","esc":"q\"b\\s\/n\n\t\u00e9\ud83c\udf89\u0000"}
{"num":1.50,"exp":1e3,"neg":-0.0,"big":123456789012345678901234567890,"ws" :  [ 1 , 2 ] }
"a bare string"
12
[]
null
{"trailing":"spaces"}   
{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
EOF
  ora-rec pack --strict <"$T/in" | ora-rec unpack --strict >"$T/out"
  cmp "$T/in" "$T/out"
}

@test "identity: 50000 records" {
  ora-rec unpack <"$BIGREC" >"$T/out"
  cmp "$BIG" "$T/out"
  run_split ora-rec verify -i "$BIGREC"
  assert_success
  assert_output --regexp '^50000 records'
}

@test "identity: long lines around and across the reader's 1 MiB blocks" {
  { recpy gen 3 21 100 200; recpy gen 4 22 1048000 1049000; recpy gen 30 23 20000 200000; recpy gen 2 24 3000000 3000000; } >"$T/in"
  ora-rec pack --strict <"$T/in" >"$T/rec"
  # Through a pipe in small pieces, then from a file.
  dd if="$T/rec" bs=4093 status=none | ora-rec unpack --strict >"$T/out"
  cmp "$T/in" "$T/out"
  ora-rec unpack --strict -i "$T/rec" >"$T/out2"
  cmp "$T/in" "$T/out2"
}

@test "identity: a payload of exactly 16 MiB (the default --max-record) passes; one byte more does not" {
  python3 -c 'import sys; n=16<<20; sys.stdout.write("{\"x\":\"" + "a"*(n-8) + "\"}\n")' >"$T/in"
  [ "$(wc -c <"$T/in")" -eq $(((16 << 20) + 1)) ]
  ora-rec pack --strict <"$T/in" >"$T/rec"
  ora-rec unpack --strict <"$T/rec" >"$T/out"
  cmp "$T/in" "$T/out"
  python3 -c 'import sys; n=(16<<20)+1; sys.stdout.write("{\"x\":\"" + "a"*(n-8) + "\"}\n")' >"$T/in2"
  run_split ora-rec pack <"$T/in2"
  assert_success
  assert_output ''
  assert_regex "$stderr" 'warning: skipped line 1'
  run_split ora-rec pack --strict <"$T/in2"
  assert_failure 65
}

@test "identity: --max-record bounds pack and unpack exactly" {
  python3 -c 'print("{\"x\":\"" + "b"*992 + "\"}")' >"$T/in"   # 1000 bytes
  [ "$(wc -c <"$T/in")" -eq 1001 ]
  ora-rec pack --max-record 1000 --strict <"$T/in" >"$T/rec"
  ora-rec unpack --max-record 1000 --strict <"$T/rec" >"$T/out"
  cmp "$T/in" "$T/out"
  run_split ora-rec pack --max-record 999 --strict <"$T/in"
  assert_failure 65
  # A record over the reader's bound is corrupt input: skipped, reported, verify fails.
  { cat "$T/rec"; ora-rec pack <<<'{"small":1}'; } >"$T/two.rec"
  run_split ora-rec unpack --max-record 999 -i "$T/two.rec"
  assert_success
  assert_output '{"small":1}'
  assert_warned 0 1064
  run_split ora-rec verify --max-record 1K -i "$T/two.rec"
  assert_success
  run_split ora-rec verify --max-record 999 -i "$T/two.rec"
  assert_failure 65
}

@test "identity: a last line without a newline, blank lines and CRLF" {
  printf '{"a":1}\n\n{"b":2}\r\n{"c":3}' >"$T/in"
  ora-rec pack <"$T/in" | ora-rec unpack >"$T/out"
  printf '{"a":1}\n{"b":2}\n{"c":3}\n' | cmp - "$T/out"
}

@test "empty input: pack, unpack, verify, stats are fine with zero records" {
  ora-rec pack </dev/null >"$T/rec"
  [ ! -s "$T/rec" ]
  run_split ora-rec unpack <"$T/rec"
  assert_success
  assert_output ''
  run_split ora-rec verify <"$T/rec"
  assert_success
  assert_output --regexp '^0 records'
  run_split ora-rec stats </dev/null
  assert_success
  assert_line 'records 0'
  assert_line 'offsets none'
}

# ---- one flipped byte in a 50k-record stream costs exactly one record -------

big_start() { sed -n "$(($1 + 1))p" "$BATS_FILE_TMPDIR/big.starts" | cut -d' ' -f1; }

flip_big() { # flip_big RECORD-INDEX BYTE-WITHIN-RECORD: the damaged copy in $T/flip.rec
  cp "$BIGREC" "$T/flip.rec"
  local l
  read -r AT l < <(sed -n "$(($1 + 1))p" "$BATS_FILE_TMPDIR/big.starts")
  SIZE=$((64 + l))
  recpy flip "$T/flip.rec" $((AT + $2))
}

@test "50k stream: a flipped payload byte in the middle costs exactly that record" {
  flip_big 25000 100
  run_to_files ora-rec unpack -i "$T/flip.rec"
  assert_success
  without_line "$BIG" 25001 | cmp - "$T/out" || fail "output is not the input minus line 25001"
  [ "$(count_warnings)" -eq 1 ]
  assert_warned "$AT" "$SIZE"
  run_split ora-rec verify -i "$T/flip.rec"
  assert_failure 65
  assert_output --regexp '^49999 records'
  assert_regex "$stderr" "byte offset $AT\b"
}

@test "50k stream: a flipped header byte (the length) costs exactly that record" {
  flip_big 31337 9
  ora-rec unpack -i "$T/flip.rec" >"$T/out" 2>"$T/err"
  without_line "$BIG" 31338 | cmp - "$T/out"
  stderr=$(cat "$T/err")
  assert_warned "$AT" "$SIZE"
}

@test "50k stream: damage in the first and in the last record" {
  flip_big 0 10
  ora-rec unpack -i "$T/flip.rec" 2>/dev/null | cmp - <(without_line "$BIG" 1)
  # its magic: then the stream does not start as records at all
  flip_big 0 0
  run_to_files ora-rec unpack -i "$T/flip.rec"
  [ "$status" -eq 65 ] || fail "exit $status: $stderr"
  flip_big 49999 70
  run_to_files ora-rec unpack -i "$T/flip.rec"
  assert_warned "$AT" "$SIZE"
  without_line "$BIG" 50000 | cmp - "$T/out"
}

@test "50k stream: truncated at every point of its last record keeps all earlier records" {
  local len cut
  len=$(stat -c %s "$BIGREC")
  AT=$(big_start 49999)
  head -n 49999 "$BIG" >"$T/want"
  for cut in $((AT + 1)) $((AT + 4)) $((AT + 63)) $((AT + 64)) $((len - 1)); do
    head -c "$cut" "$BIGREC" >"$T/cut.rec"
    run_to_files ora-rec unpack -i "$T/cut.rec"
    assert_success
    cmp "$T/want" "$T/out" || fail "cut at $cut"
    assert_warned "$AT" $((cut - AT))
    run_to_files ora-rec verify -i "$T/cut.rec"
    assert_failure 65
  done
}

@test "garbage between records of a large stream is skipped and counted" {
  AT=$(big_start 20000)
  { head -c "$AT" "$BIGREC"; head -c 5000 /dev/urandom; tail -c +$((AT + 1)) "$BIGREC"; } >"$T/g.rec"
  local glen=$(($(stat -c %s "$T/g.rec") - $(stat -c %s "$BIGREC")))
  run_to_files ora-rec unpack -i "$T/g.rec"
  assert_success
  cmp "$BIG" "$T/out"
  assert_warned "$AT" "$glen"
  run ora-rec stats -i "$T/g.rec"
  assert_line 'records 50000'
  assert_line "skipped_bytes $glen"
  assert_line 'corrupt 1'
}

# ---- --meta: every header field of every type ------------------------------

@test "meta: pack --route routes MSG records by the design table (kind, actor type and id, offset)" {
  ora-rec pack --route --flow replay <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack --meta >"$T/m"
  # The expected routing, computed with jq from doc/design.md §2.
  jq -c '
    def key: [keys[] | select(. != "offset" and . != "type")][0];
    def actor: if (key | test("^(event|match)")) then "event" else "betOffer" end;
    def aid(k): if k == "eventAdded" or k == "eventUpdated" then .[k].event.id
      elif k == "betOfferAdded" or k == "betOfferUpdated" then .[k].betOffer.id
      elif (k | test("^(eventParticipants|eventScore|matchClock)")) then .[k].eventId
      elif (k | test("^(betOfferDeleted|outcome)")) then .[k].betOfferId
      else .[k].id end;
    if has("offset") then {offset, kind: key, actor_type: actor, actor_id: aid(key), flags: 1}
    else {} end' "$FIXTURES/ora-messages.jsonl" >"$T/want"
  jq -c '{offset, kind, actor_type, actor_id, flags} | with_entries(select(.value != null))' "$T/m" >"$T/got"
  diff -u "$T/want" "$T/got"
  run jq -s -e 'all(.[]; .type == "MSG" and .flow == "replay" and (.recv_ns > 0))' "$T/m"
  assert_success
  # Without --route: offset only, no routing fields.
  ora-rec pack <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack --meta >"$T/m0"
  run jq -s -e 'all(.[]; has("kind") or has("actor_id") or has("flags") | not) and (map(.offset // empty) | length) == 18' "$T/m0"
  assert_success
}

@test "meta: CTRL records from {\"ctrl\":...} lines carry kind, offset, conn and flow" {
  cat >"$T/in" <<'EOF'
{"ctrl":"connected","conn":3}
{"ctrl":"flow","flow":"snapshot"}
{"ctrl":"flow","flow":"realtime","offset":77}
{"ctrl":"checkpoint","offset":12345}
{"ctrl":"caught_up","offset":99}
{"ctrl":"disconnected","conn":3,"reason":"stale"}
EOF
  ora-rec pack --type ctrl --strict <"$T/in" | ora-rec unpack --meta >"$T/m"
  run jq -c '[.type, .kind, .offset, .conn, .flow]' "$T/m"
  assert_output - <<'EOF'
["CTRL","connected",null,3,null]
["CTRL","flow",null,null,"snapshot"]
["CTRL","flow",77,null,"realtime"]
["CTRL","checkpoint",12345,null,null]
["CTRL","caught_up",99,null,null]
["CTRL","disconnected",null,3,null]
EOF
  jq -c .data "$T/m" | cmp - "$T/in"
  # Not a control object, or an unknown one: skipped (exit 0), fatal with --strict.
  run_split ora-rec pack --type ctrl <<<'{"ctrl":"reboot"}'
  assert_success
  assert_output ''
  assert_regex "$stderr" 'skipped line 1'
  run_split ora-rec pack --type ctrl --strict <<<'{"offset":1}'
  assert_failure 65
}

@test "meta: OUT records with string and numeric --key-field keys" {
  cat >"$T/in" <<'EOF'
{"event_id":"1000001","type":"event_data","offset":5}
{"event_id":4000001,"type":"bet_offer_opened"}
{"event_id":"Malmö \"FF\" \\ 日本","type":"x"}
{"event_id":0}
EOF
  ora-rec pack --type out --key-field event_id --strict <"$T/in" >"$T/rec"
  ora-rec unpack <"$T/rec" | cmp - "$T/in"
  ora-rec unpack --meta <"$T/rec" >"$T/m"
  run jq -r '.key' "$T/m"
  assert_output - <<'EOF'
1000001
4000001
Malmö "FF" \ 日本
0
EOF
  run jq -c '[.type, .offset]' "$T/m"
  assert_line -n 0 '["OUT",5]'
  assert_line -n 1 '["OUT",null]'
  # The key precedes the data in the payload; len counts both.
  paste -d' ' <(jq -r '.len - (.key | utf8bytelength)' "$T/m") <(while IFS= read -r l; do printf '%s\n' "$(printf '%s' "$l" | wc -c)"; done <"$T/in") |
    awk '$1 != $2 { bad = 1 } END { exit bad }'
}

@test "meta: OUT records without a usable key are skipped, fatal with --strict" {
  local bad
  for bad in '{"id":""}' '{"id":-1}' '{"id":1.5}' '{"id":null}' '{"id":[1]}' '{"other":1}' \
    "{\"id\":\"$(printf 'k%.0s' {1..257})\"}"; do
    run_split ora-rec pack --type out --key-field id <<<"$bad"
    assert_success
    assert_output ''
    assert_regex "$stderr" 'warning: skipped line 1'
    run_split ora-rec pack --type out --key-field id --strict <<<"$bad"
    assert_failure 65
  done
  # 256 bytes is the longest key.
  ora-rec pack --type out --key-field id --strict <<<"{\"id\":\"$(printf 'k%.0s' {1..256})\"}" | ora-rec unpack --meta | jq -e '.key | length == 256'
}

@test "meta: WIRE records from base64 lines keep their bytes and --conn" {
  head -c 3000 /dev/urandom >"$T/bin"
  split -b 700 "$T/bin" "$T/part."
  for p in "$T"/part.*; do base64 -w0 "$p"; echo; done >"$T/in"
  ora-rec pack --type wire --conn 42 --strict <"$T/in" >"$T/rec"
  ora-rec unpack <"$T/rec" | cmp - "$T/in"
  ora-rec unpack --meta <"$T/rec" >"$T/m"
  run jq -s -e 'all(.[]; .type == "WIRE" and .conn == 42 and (.recv_ns > 0)) and (map(.len) == [700,700,700,700,200])' "$T/m"
  assert_success
  jq -r .data_base64 "$T/m" | base64 -d | cmp - "$T/bin"
  run_split ora-rec pack --type wire --strict <<<'not*base64'
  assert_failure 65
}

@test "meta: unpack --meta prints one valid JSON object per record, data verbatim" {
  local f
  for f in "$RFIX/golden.rec" "$RFIX/cases/concat.rec"; do
    ora-rec unpack --meta <"$f" | jq -c . >/dev/null
  done
  ora-rec pack <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack --meta >"$T/m"
  [ "$(jq -c . "$T/m" | wc -l)" -eq 28 ]
  # "data" holds the payload exactly as packed: cut it out of the line textually.
  sed -E 's/^.*,"data"://; s/}$//' "$T/m" | cmp - "$FIXTURES/ora-messages.jsonl"
}

@test "meta: pack --meta refuses lines without a type or data, fatal with --strict" {
  local bad
  for bad in '{"data":{}}' '{"type":"NOPE","data":{}}' '{"type":"MSG"}' '{"type":"OUT","data":{}}' \
    '{"type":"WIRE","data_base64":"@@@"}' '[1]' 'nope'; do
    run_split ora-rec pack --meta <<<"$bad"
    assert_success
    assert_output ''
    assert_regex "$stderr" 'skipped line 1'
    run_split ora-rec pack --meta --strict <<<"$bad"
    assert_failure 65
  done
}

# ---- bugs found by these suites (fixed in d34bff2 and 6a0e417) --------------
# Tests of open bugs call known_bug: skipped unless ORA_TEST_KNOWN_BUGS=1.

@test "meta round trip: unpack --meta | pack --meta keeps real receive times (> 2^53 ns)" {
  ora-rec pack --route <"$FIXTURES/ora-messages.jsonl" | ora-rec unpack --meta >"$T/m1"
  ora-rec pack --meta --strict <"$T/m1" | ora-rec unpack --meta >"$T/m2"
  diff -u "$T/m1" "$T/m2"
}

@test "meta round trip: 64-bit header fields survive exactly" {
  echo '{"type":"MSG","recv_ns":18446744073709551615,"offset":9223372036854775807,"actor_id":9007199254740993,"data":{}}' >"$T/in"
  ora-rec pack --meta --strict <"$T/in" | ora-rec unpack --meta >"$T/m"
  # jq uses doubles: compare the text.
  grep -q '"recv_ns":18446744073709551615,' "$T/m"
  grep -q '"offset":9223372036854775807,' "$T/m"
  grep -q '"actor_id":9007199254740993,' "$T/m"
}

@test "meta round trip: a record with recv_ns 0 (unknown) keeps 0" {
  echo '{"type":"CTRL","recv_ns":0,"kind":"checkpoint","offset":5,"data":{"ctrl":"checkpoint","offset":5}}' |
    ora-rec pack --meta --strict >"$T/a.rec"
  ora-rec unpack --meta <"$T/a.rec" | ora-rec pack --meta --strict >"$T/b.rec"
  cmp "$T/a.rec" "$T/b.rec"
}

@test "meta round trip: pack --meta keeps the payload bytes (numbers, escapes)" {
  printf '%s\n' '{"offset":1,"odds":1.50,"name":"\u00e9","id":12345678901234567890,"x":9007199254740993}' >"$T/in"
  ora-rec pack <"$T/in" | ora-rec unpack --meta | ora-rec pack --meta --strict | ora-rec unpack >"$T/out"
  cmp "$T/in" "$T/out"
}

@test "meta: pack --conn N sets the connection number of MSG records (man ora-rec: --conn)" {
  echo '{"offset":3,"x":1}' | ora-rec pack --conn 7 | ora-rec unpack --meta | jq -e '.conn == 7'
}

@test "meta: bytes after a JSON value: pack refuses the line, unpack --meta gives such a payload as base64" {
  printf '%s\n' '{"a":1} xyz' '{"a":1}{"b":2}' '[1]]' >"$T/in"
  run_split ora-rec pack -i "$T/in"
  assert_success
  assert_output ''
  [ "$(count_warnings)" -eq 3 ]
  run_split ora-rec pack --strict -i "$T/in"
  assert_failure 65
  # Such a payload made another way (pack --meta from base64) is not printed as JSON.
  echo "{\"type\":\"MSG\",\"data_base64\":\"$(printf '{"a":1} xyz' | base64)\"}" | ora-rec pack --meta --strict >"$T/a.rec"
  ora-rec unpack --meta -i "$T/a.rec" >"$T/m"
  run jq -r .data_base64 "$T/m"
  assert_output "$(printf '{"a":1} xyz' | base64)"
  ora-rec unpack -i "$T/a.rec" | cmp - <(printf '{"a":1} xyz\n')
}

@test "torn record: a record cut short and followed by more records costs only itself" {
  # Record 2 of golden.rec (344 bytes of payload) cut after 146 bytes, then golden.rec again:
  # a stage restarted appending to its file, or `cat cut.rec more.rec`.
  { head -c 400 "$RFIX/golden.rec"; cat "$RFIX/golden.rec"; } >"$T/torn.rec"
  run_to_files ora-rec unpack -i "$T/torn.rec"
  assert_success
  { head -n 2 "$RFIX/golden.jsonl"; cat "$RFIX/golden.jsonl"; } >"$T/want"
  cmp "$T/want" "$T/out"
  assert_warned 254 146
}

@test "meta: unpack --meta stays valid JSON for an OUT key that is not UTF-8" {
  python3 - "$T/k.rec" "$TOP/tests/lib" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[2])
from records import HDR, KEY, MAGIC, siphash24
key, data = b'\xff\x01"k', b'{"a":1}'
p = key + data
h = HDR.pack(MAGIC, 1, 4, 0, len(p), 0, 0, -1, 0, 0, 0, 0, 0, len(key), 0, siphash24(KEY, p), 0)[:56]
open(sys.argv[1], "wb").write(h + struct.pack("<Q", siphash24(KEY, h)) + p)
PY
  ora-rec verify -i "$T/k.rec"
  ora-rec unpack --meta -i "$T/k.rec" >"$T/m"
  python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read())' "$T/m"
  # ... and it packs back to the same record.
  ora-rec pack --meta --strict -i "$T/m" | cmp - "$T/k.rec"
}

@test "meta round trip: unpack --meta | pack --meta re-makes records of every type byte for byte" {
  printf '%s\n' '{"ctrl":"connected","conn":3}' '{"ctrl":"flow","flow":"replay","offset":7}' \
    '{"ctrl":"checkpoint","offset":12345}' '{"ctrl":"caught_up","offset":99}' \
    '{"ctrl":"disconnected","conn":3,"reason":"stale"}' >"$T/ctrl"
  printf '%s\n' '{"id":"k1","v":1.50}' '{"id":4000001,"v":"\u00e9"}' >"$T/out"
  {
    ora-rec pack --route --flow snapshot --conn 2 <"$FIXTURES/ora-messages.jsonl"
    ora-rec pack <"$FIXTURES/ora-messages.jsonl"
    ora-rec pack --type ctrl <"$T/ctrl"
    ora-rec pack --type out --key-field id <"$T/out"
    ora-rec wire --chunk 1..300 --conn 9 <"$FIXTURES/ora-messages.jsonl"
    cat "$RFIX/golden.rec"
  } >"$T/all.rec"
  ora-rec unpack --meta -i "$T/all.rec" | ora-rec pack --meta --strict >"$T/re.rec"
  cmp "$T/all.rec" "$T/re.rec"
  ora-rec stats -i "$T/re.rec" >"$T/s"
  grep -qx 'WIRE  [1-9][0-9]*' "$T/s"
  grep -qx 'CTRL  10' "$T/s"
  grep -qx 'OUT   4' "$T/s"
}

@test "meta: pack --meta edge cases (fixtures/records/meta-edge.*): top-level fields only, any order, raw data" {
  ora-rec pack --meta --strict -i "$RFIX/meta-edge.in.jsonl" | ora-rec unpack --meta >"$T/m"
  diff -u "$RFIX/meta-edge.expected.jsonl" "$T/m"
}

@test "meta: header fields out of range or not whole numbers are bad lines" {
  local bad
  while IFS= read -r bad; do
    run_split ora-rec pack --meta <<<"$bad"
    assert_success
    assert_output ''
    stderr_has 'warning: skipped line 1'
    run_split ora-rec pack --meta --strict <<<"$bad"
    [ "$status" -eq 65 ] || fail "pack --meta --strict '$bad': exit $status"
  done <<'EOF'
{"type":"MSG","recv_ns":1.5e18,"data":{}}
{"type":"MSG","recv_ns":18446744073709551616,"data":{}}
{"type":"MSG","offset":-1,"data":{}}
{"type":"MSG","offset":9223372036854775808,"data":{}}
{"type":"MSG","offset":1.0,"data":{}}
{"type":"MSG","conn":4294967296,"data":{}}
{"type":"MSG","flags":65536,"data":{}}
{"type":"MSG","actor_id":18446744073709551616,"data":{}}
{"type":"MSG","actor_id":"x","data":{}}
{"type":"MSG","conn":null,"data":{}}
{"type":"MSG","data":{}} trailing
{"type":"MSG","data":{}
EOF
}

@test "torn record: claimed length ending exactly at the end of input still costs only itself" {
  # golden record 0, then a record claiming 100 bytes + all of golden records 1..17 but
  # holding only 100 payload bytes, then golden records 1..17.
  python3 - "$RFIX/golden.rec" "$T/torn.rec" "$TOP/tests/lib" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[3])
from records import HDR, KEY, MAGIC, siphash24
g = open(sys.argv[1], "rb").read()
first = 64 + struct.unpack_from("<I", g, 8)[0]
rest = g[first:]
payload = b"x" * (100 + len(rest))
h = HDR.pack(MAGIC, 1, 2, 0, len(payload), 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, siphash24(KEY, payload), 0)[:56]
torn = h + struct.pack("<Q", siphash24(KEY, h)) + payload[:100]
open(sys.argv[2], "wb").write(g[:first] + torn + rest)
PY
  run_to_files ora-rec unpack -i "$T/torn.rec"
  assert_success
  cmp "$RFIX/golden.jsonl" "$T/out"
  assert_warned 110 164
}

@test "meta: an OUT record needs a non-empty key, as with --type out" {
  run_split ora-rec pack --meta --strict <<<'{"type":"OUT","key":"","data":{"k":""}}'
  assert_failure 65
  [[ $stderr == *'non-empty "key"'* ]]
  run_split ora-rec pack --meta --strict <<<'{"type":"OUT","key_base64":"","data":{"k":""}}'
  assert_failure 65
  run_split ora-rec pack --type out --key-field k --strict <<<'{"k":""}'
  assert_failure 65
}

# ---- input that is not records (issue 14 item 6) -----------------------------

@test "not records: every stage exits 65 at once with a hint; empty input stays a clean exit 0" {
  head -3 "$FIXTURES/ora-messages.jsonl" >"$T/j.jsonl"
  printf '  \n[1,2]\n' >"$T/arr.json"
  # a gzip stream, made by the gzip command
  head -3 "$FIXTURES/ora-messages.jsonl" | gzip -c >"$T/w.gz"
  printf 'hello\n' >"$T/t.txt"
  head -c 40 "$RFIX/golden.rec" | tail -c 39 >"$T/shifted.rec"
  : >"$T/empty"
  local tools=("ora-deframe" "ora-order" "ora-actors --state-dir $T/st" "kinesis-put --stdout"
               "ora-rec unpack" "ora-rec cat" "ora-rec verify" "ora-rec stats")
  local t f hint
  for t in "${tools[@]}"; do
    for f in j.jsonl:'it looks like JSON lines: use ora-rec pack' arr.json:'it looks like JSON lines: use ora-rec pack' \
             w.gz:'it looks like a raw ORA wire stream: use ora-deframe --raw' t.txt:'see ora-records(5)' \
             shifted.rec:'see ora-records(5)'; do
      hint=${f#*:} f=${f%%:*}
      rm -rf "$T/st" && mkdir "$T/st"
      run_to_files timeout 20 $t -i "$T/$f"
      [ "$status" -eq 65 ] || fail "$t < $f: exit $status: $stderr"
      [ ! -s "$T/out" ] || fail "$t < $f: output"
      grep -qF "error: unable to read input: not records (the input does not start with the record magic" \
        <<<"$stderr" || fail "$t < $f: $stderr"
      grep -qF "$hint" <<<"$stderr" || fail "$t < $f: no hint '$hint': $stderr"
      [ "$(grep -c 'warning' <<<"$stderr")" -eq 0 ] || fail "$t < $f: warnings before the error: $stderr"
    done
    rm -rf "$T/st" && mkdir "$T/st"
    run_to_files $t -i "$T/empty"
    [ "$status" -eq 0 ] || fail "$t on empty input: exit $status: $stderr"
  done
}

@test "warnings are capped alike in every tool: 20, the last saying the rest are only counted" {
  # 50 damaged records among sound ones: 50 separate damaged ranges
  python3 - "$RFIX/golden.rec" "$T/d.rec" "$TOP/tests/lib" <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[3])
from records import HDR, KEY, MAGIC, siphash24
def rec(typ, payload):
    h = HDR.pack(MAGIC, 1, typ, 0, len(payload), 0, 0, -1, 0, 0, 3 if typ == 3 else 0, 0, 0, 0, 0,
                 siphash24(KEY, payload), 0)[:56]
    return h + struct.pack("<Q", siphash24(KEY, h)) + payload
out = bytearray()
for i in range(50):
    good = rec(3, b'{"ctrl":"flow","flow":"replay"}')
    bad = bytearray(rec(3, b'{"ctrl":"flow","flow":"snapshot"}'))
    bad[70] ^= 1                     # its payload: costs exactly that record
    out += good + bad
out += rec(3, b'{"ctrl":"flow","flow":"replay"}')
open(sys.argv[2], "wb").write(out)
PY
  local tools=("ora-deframe" "ora-order" "ora-actors --state-dir $T/st" "kinesis-put --stdout"
               "ora-rec unpack" "ora-rec cat" "ora-rec stats")
  local t
  for t in "${tools[@]}"; do
    rm -rf "$T/st" && mkdir "$T/st"
    run_to_files $t -i "$T/d.rec"
    [ "$status" -eq 0 ] || fail "$t: exit $status: $stderr"
    [ "$(grep -c 'warning: .*payload checksum mismatch' <<<"$stderr")" -eq 20 ] || fail "$t: $stderr"
    [ "$(grep -c 'further ones are only counted: see the summary' <<<"$stderr")" -eq 1 ] || fail "$t: $stderr"
    grep 'payload checksum mismatch' <<<"$stderr" | tail -1 | grep -q 'further ones are only counted' ||
      fail "$t: the 20th warning does not say that the rest are only counted: $stderr"
  done
  # ora-rec pack on a binary file: 20 warnings, not one per line
  head -c 200000 /dev/urandom | tr '\0' 'x' >"$T/bin"
  run_to_files ora-rec pack -i "$T/bin"
  assert_success
  [ "$(grep -c 'warning: skipped line' <<<"$stderr")" -eq 20 ] || fail "$stderr"
  grep -q "further ones are only counted" <<<"$stderr"
}
