#!/usr/bin/env bats
# ora-deframe: the compressed ORA stream to MSG records (issue 3).
load helper
load lib/deframe
load lib/man

setup() { df_setup; }

@test "help matches the man page synopsis, version, bad usage exits 64" {
  run ora-deframe --help
  assert_success
  assert_output --partial "usage: ora-deframe [-i FILE] [-o FILE] [--raw]"
  for o in --raw --flow --max-message --max-ratio --max-record --threads --strict; do
    assert_output --partial -- "$o"
    grep -q -- "^.Op Fl -${o#--}" "$TOP/man/ora-deframe.1"
  done
  run ora-deframe --version
  assert_success
  assert_output --regexp '^ora-deframe [0-9]'
  for bad in "--bogus" "--max-ratio x" "--max-ratio -1" "--max-message 0" "--max-message 2G" \
             "--threads 3" "--flow sideways" "extra" "-i"; do
    run_split ora-deframe $bad
    assert_equal "$status" 64
    assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
    assert_regex "$stderr" '^ora-deframe: error: unable to '
  done
  # a bad environment value is configuration, not usage
  ORA_MAX_RATIO=nope run ora-deframe < /dev/null
  assert_equal "$status" 78
}

@test "empty input: no output, exit 0" {
  run_split ora-deframe < /dev/null
  assert_success
  assert_output ""
  assert_regex "$stderr" "summary: 0 messages"
}

@test "round trip through ora-rec wire, many member sizes and cuts, both thread modes" {
  for t in 1 2; do
    for pm in 1 1..3 1..16 40; do
      for ch in 1 1..7 1..3000 100000; do
        ora-rec wire --per-member "$pm" --chunk "$ch" --seed 7 < "$T/data.jsonl" 2>/dev/null |
          ora-deframe --threads $t 2>/dev/null | ora-rec unpack > "$T/out" 2>/dev/null
        cmp "$T/data.jsonl" "$T/out" || { echo "differs: threads $t per-member $pm chunk $ch"; return 1; }
      done
    done
  done
}

@test "20k generated messages, random cuts and seeds, identical in order" {
  "$ORA_BUILD/bench/genmsgs" 20000 3 > "$T/g.jsonl"
  for seed in 1 2 3; do
    ora-rec wire --per-member 1..16 --chunk 1..3000 --seed $seed < "$T/g.jsonl" 2>/dev/null > "$T/g.rec"
    ora-deframe < "$T/g.rec" 2>/dev/null | ora-rec unpack > "$T/out" 2>/dev/null
    cmp "$T/g.jsonl" "$T/out"
  done
  ora-rec wire --per-member 1..16 --raw --seed 5 < "$T/g.jsonl" 2>/dev/null |
    ora-deframe --raw --threads 1 2>/dev/null | ora-rec unpack > "$T/out" 2>/dev/null
  cmp "$T/g.jsonl" "$T/out"
}

@test "100k messages with session messages, records and --raw: identical, in order, right flows" {
  n=${DEFRAME_BIG_N:-100000}
  "$ORA_BUILD/bench/genmsgs" "$n" 9 > "$T/g.jsonl"
  df_with_sessions "$T/g.jsonl" "$T/s.jsonl"
  printf '%s\n' "$((n * 4 / 10)) \"flow\":\"snapshot\"" "$((n * 4 / 10)) \"flow\":\"replay\"" \
    "$((n * 2 / 10)) \"flow\":\"realtime\"" | sort > "$T/want"
  ora-rec wire --per-member 1..16 --chunk 1..3000 --seed 11 < "$T/s.jsonl" 2>/dev/null > "$T/in.rec"
  run_split ora-deframe --flow snapshot -i "$T/in.rec" -o "$T/out.rec"
  assert_success
  assert_regex "$stderr" "summary: $n messages .* 10 session messages dropped, 2 flow changes"
  ora-rec unpack < "$T/out.rec" 2>/dev/null | grep -v '^{"ctrl"' | cmp - "$T/g.jsonl"
  df_flows < "$T/out.rec" | diff "$T/want" -
  ora-rec wire --per-member 1..16 --raw --seed 12 < "$T/s.jsonl" 2>/dev/null |
    ora-deframe --raw --flow snapshot --threads 1 2>/dev/null > "$T/out.rec"
  ora-rec unpack < "$T/out.rec" 2>/dev/null | grep -v '^{"ctrl"' | cmp - "$T/g.jsonl"
  df_flows < "$T/out.rec" | diff "$T/want" -
}

@test "frames spanning members at every byte offset; made by Python's zlib" {
  for mb in 1 1..5 1..300 7; do
    python3 "$DF_PY" split --per-member-bytes "$mb" --seed 3 < "$T/data.jsonl" |
      python3 "$DF_PY" wire --chunk 1..40 --seed 4 | df_pack | ora-deframe 2>/dev/null | ora-rec unpack > "$T/out" 2>/dev/null
    cmp "$T/data.jsonl" "$T/out"
  done
}

@test "--raw: a stream written by perl and the gzip command, not by us" {
  # length prefixes by perl, members by gzip(1) (with a file name in the
  # header, as gzip writes it), cut at arbitrary bytes by split(1)
  perl -ne 'chomp; print pack("N", length) . $_' < "$T/data.jsonl" > "$T/frames.bin"
  mkdir "$T/parts"
  split -b 97 "$T/frames.bin" "$T/parts/p."
  for p in "$T"/parts/p.*; do gzip -c "$p"; done > "$T/capture.gz"
  run_split ora-deframe --raw -i "$T/capture.gz" -o "$T/out.rec"
  assert_success
  ora-rec unpack < "$T/out.rec" > "$T/out" 2>/dev/null
  cmp "$T/data.jsonl" "$T/out"
  assert_regex "$stderr" "summary: 18 messages"
  # a whole-file gzip too: one member, every frame inside
  gzip -9 -c "$T/frames.bin" | ora-deframe --raw 2>/dev/null | ora-rec unpack > "$T/out" 2>/dev/null
  cmp "$T/data.jsonl" "$T/out"
  # receive times are the time of reading, connection 1, offsets from the JSON
  ora-deframe --raw < "$T/capture.gz" 2>/dev/null | ora-rec unpack --meta 2>/dev/null > "$T/meta"
  run jq -s '[.[] | select(.conn == 1 and .recv_ns > 1700000000000000000 and .offset == .data.offset)] | length' "$T/meta"
  assert_output 18
}

@test "session messages become flow records at their place; the rest are dropped and counted" {
  {
    python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":1}'
    python3 "$DF_PY" ctrl '{"ctrl":"flow","flow":"snapshot"}'
    {
      df_session SESSION_WELCOME
      df_session SESSION_INITIALIZED
      sed -n 1,3p "$T/data.jsonl"
      df_session SESSION_PING
      sed -n 4p "$T/data.jsonl"
      df_session SESSION_SNAPSHOT_COMPLETED
      sed -n 5,6p "$T/data.jsonl"
      df_session SESSION_PONG
      df_session SESSION_ERROR
      sed -n 7p "$T/data.jsonl"
      df_session SESSION_REPLAY_COMPLETED
      sed -n 8,9p "$T/data.jsonl"
      echo '{"type":"SESSION_SOMETHING_NEW","x":{}}'
      echo '{"offset":77,"eventDeleted":{"id":1},"type":"SESSION_PING"}'
      echo '{"type":"not a session","offset":78,"eventDeleted":{"id":2}}'
    } | python3 "$DF_PY" gz --per-member 1..4 | python3 "$DF_PY" wire --conn 1 --chunk 1..30
  } | df_pack > "$T/in.rec"
  run_split ora-deframe -i "$T/in.rec" -o "$T/out.rec"
  assert_success
  df_meta < "$T/out.rec" > "$T/got"
  cat > "$T/want" <<'W'
CTRL connected - -1 1
CTRL flow snapshot -1 0
MSG - snapshot 1 1
MSG - snapshot 2 1
MSG - snapshot 3 1
MSG - snapshot 4 1
CTRL flow replay 1000 1
MSG - replay 5 1
MSG - replay 6 1
MSG - replay 7 1
CTRL flow realtime 2000 1
MSG - realtime 8 1
MSG - realtime 9 1
MSG - realtime 78 1
W
  diff "$T/want" "$T/got"
  assert_regex "$stderr" "7 session messages dropped, 2 flow changes, 2 control records"
  assert_regex "$stderr" "info: connection 1: the server sent SESSION_ERROR OFFSET_TOO_OLD"
  # the payload of the flow records
  ora-rec unpack < "$T/out.rec" 2>/dev/null | grep '"replay"' | grep -qx '{"ctrl":"flow","flow":"replay","offset":1000}'
}

@test "flow records from upstream apply from their place on; --flow sets the start" {
  {
    sed -n 1,2p "$T/data.jsonl" | python3 "$DF_PY" gz | python3 "$DF_PY" wire --conn 4 --chunk 5
    python3 "$DF_PY" ctrl '{"ctrl":"flow","flow":"replay","offset":100}'
    sed -n 3p "$T/data.jsonl" | python3 "$DF_PY" gz | python3 "$DF_PY" wire --conn 4 --chunk 5
  } | df_pack > "$T/in.rec"
  for t in 1 2; do
    ora-deframe --threads $t --flow snapshot < "$T/in.rec" 2>/dev/null | df_meta > "$T/got"
    printf '%s\n' "MSG - snapshot 1 4" "MSG - snapshot 2 4" "CTRL flow replay 100 0" "MSG - replay 3 4" > "$T/want"
    diff "$T/want" "$T/got"
  done
}

@test "a new connection mid-frame drops the partial frame with a warning" {
  # connection 1 stops 10 bytes into its last member
  sed -n 1,5p "$T/data.jsonl" | python3 "$DF_PY" gz --per-member 1 > "$T/c1.raw"
  head -c $(( $(stat -c %s "$T/c1.raw") - 10 )) "$T/c1.raw" > "$T/c1cut.raw"
  {
    python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":1}'
    python3 "$DF_PY" wire --conn 1 --chunk 1..20 < "$T/c1cut.raw"
    python3 "$DF_PY" ctrl '{"ctrl":"disconnected","conn":1,"reason":"test"}'
    python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":2}'
    python3 "$DF_PY" gz --per-member 2 < "$T/data.jsonl" | python3 "$DF_PY" wire --conn 2 --chunk 1..20
  } | df_pack > "$T/in.rec"
  run_split ora-deframe -i "$T/in.rec"
  assert_success
  assert_regex "$stderr" "connection 1 ended inside a frame or member \(connected\): dropped [0-9]+ bytes"
  ora-deframe < "$T/in.rec" 2>/dev/null | df_meta > "$T/got"
  run grep -c '^MSG - - [0-9]* 1$' "$T/got"
  assert_output 4
  run grep -c '^MSG - - [0-9]* 2$' "$T/got"
  assert_output 18
  run grep -c '^CTRL' "$T/got"
  assert_output 3
  # the same without the connected record: the change of connection number resets too
  {
    python3 "$DF_PY" wire --conn 1 --chunk 1..20 < "$T/c1cut.raw"
    python3 "$DF_PY" gz --per-member 2 < "$T/data.jsonl" | python3 "$DF_PY" wire --conn 2 --chunk 1..20
  } | df_pack > "$T/in2.rec"
  run_split ora-deframe -i "$T/in2.rec" -o "$T/out2.rec"
  assert_success
  assert_regex "$stderr" "connection 2 follows 1 without a connected record"
  ora-rec unpack < "$T/out2.rec" 2>/dev/null | tail -18 | cmp - "$T/data.jsonl"
}

@test "a corrupt member: reported with connection and offset, rest of the connection dropped, next one fine" {
  python3 "$DF_PY" gz --per-member 1 < "$T/data.jsonl" > "$T/c.raw"
  size=$(stat -c %s "$T/c.raw")
  {
    python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":7}'
    python3 "$DF_PY" wire --conn 7 --chunk 1..50 --flip $((size / 2)) < "$T/c.raw"
    python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":8}'
    python3 "$DF_PY" wire --conn 8 --chunk 1..50 < "$T/c.raw"
  } | df_pack > "$T/in.rec"
  for t in 1 2; do
    run_split ora-deframe --threads $t -i "$T/in.rec" -o "$T/out.rec"
    assert_success
    assert_regex "$stderr" "warning: corrupt stream on connection 7 at compressed byte [0-9]+ .*dropping the rest of the connection"
    assert_regex "$stderr" "1 corrupt"
    df_meta < "$T/out.rec" > "$T/got"
    n7=$(grep -c '^MSG - - [0-9]* 7$' "$T/got")
    (( n7 > 0 && n7 < 18 ))
    run grep -c '^MSG - - [0-9]* 8$' "$T/got"
    assert_output 18
  done
  run_split ora-deframe --strict -i "$T/in.rec" -o "$T/out.rec"
  assert_equal "$status" 65
  assert_regex "$stderr" "error: unable to inflate connection 7 at compressed byte [0-9]+"
  # the messages before the damage were written
  run grep -c '^MSG' <(df_meta < "$T/out.rec")
  assert_output "$n7"
  # garbage after the last member is corrupt too
  { cat "$T/c.raw"; printf 'trailing'; } > "$T/g.raw"
  run_split ora-deframe --raw -i "$T/g.raw" -o "$T/out.rec"
  assert_success
  at=$(grep -o 'at compressed byte [0-9]*' <<<"$stderr" | grep -o '[0-9]*$')
  (( at > size && at <= size + 8 ))
  ora-rec unpack < "$T/out.rec" 2>/dev/null | cmp - "$T/data.jsonl"
}

@test "damaged records drop the rest of their connection" {
  python3 "$DF_PY" gz --per-member 1 < "$T/data.jsonl" | python3 "$DF_PY" wire --conn 3 --chunk 100 | df_pack > "$T/in.rec"
  # a byte of the 5th record's payload
  python3 -c "
import sys; d = bytearray(open(sys.argv[1], 'rb').read()); d[4 * 164 + 64 + 10] ^= 1; open(sys.argv[1], 'wb').write(d)" "$T/in.rec"
  run_split ora-deframe -i "$T/in.rec" -o "$T/out.rec"
  assert_success
  assert_regex "$stderr" "skipped 164 bytes at input byte 656: .*dropping the rest of the connection"
  run_split ora-deframe --strict -i "$T/in.rec" -o "$T/out.rec"
  assert_equal "$status" 65
}

@test "input ending inside a frame or member is reported" {
  python3 "$DF_PY" gz --per-member 3 < "$T/data.jsonl" > "$T/c.raw"
  for cut in 1 30 100; do
    head -c $(( $(stat -c %s "$T/c.raw") - cut )) "$T/c.raw" > "$T/cut.raw"
    run_split ora-deframe --raw -i "$T/cut.raw" -o "$T/out.rec"
    assert_success
    assert_regex "$stderr" "warning: input ended inside a frame or member of connection 1: dropped [0-9]+ bytes of a partial frame, [0-9]+ of an unfinished member"
    assert_regex "$stderr" "1 truncated"
    run_split ora-deframe --raw --strict -i "$T/cut.raw" -o "$T/out.rec"
    assert_equal "$status" 65
  done
  # a stream that ends cleanly says nothing
  run_split ora-deframe --raw --strict -i "$T/c.raw" -o /dev/null
  assert_success
  refute_regex "$stderr" "warning"
}

@test "a 16 MiB message passes; one byte more is rejected; --max-message moves the bound" {
  python3 - "$T/big.jsonl" <<'PY'
import base64, random, sys
r = random.Random(1)
n = 16 << 20
head, tail = '{"offset":5,"eventTagsUpdated":{"id":1,"tags":["', '"]}}'
pad = n - len(head) - len(tail)
body = base64.b64encode(r.randbytes(pad)).decode()[:pad].replace('/', '-').replace('+', '_')
with open(sys.argv[1], 'w') as f:
    f.write('{"offset":4,"eventTagsUpdated":{"id":1,"tags":[]}}\n')
    f.write(head + body + tail + '\n')
    f.write('{"offset":6,"eventTagsUpdated":{"id":1,"tags":[]}}\n')
    f.write(head + body + 'x' + tail + '\n')
PY
  head -3 "$T/big.jsonl" > "$T/ok.jsonl"
  python3 "$DF_PY" gz --per-member 1..2 --level 1 < "$T/ok.jsonl" > "$T/ok.raw"
  run_split ora-deframe --raw -i "$T/ok.raw" -o "$T/out.rec"
  assert_success
  ora-rec unpack < "$T/out.rec" 2>/dev/null | cmp - "$T/ok.jsonl"
  python3 "$DF_PY" gz --per-member 1 --level 1 < "$T/big.jsonl" > "$T/big.raw"
  run_split ora-deframe --raw -i "$T/big.raw" -o "$T/out.rec"
  assert_success
  assert_regex "$stderr" "frame length 16777217 over the limit 16777216"
  run grep -c . <(ora-rec unpack < "$T/out.rec" 2>/dev/null)
  assert_output 3
  ora-deframe --raw --max-message 17M -i "$T/big.raw" 2>/dev/null | ora-rec unpack --max-record 17M 2>/dev/null | cmp - "$T/big.jsonl"
  ORA_MAX_MESSAGE=1K run_split ora-deframe --raw -i "$T/ok.raw" -o /dev/null
  assert_regex "$stderr" "over the limit 1024"
}

@test "decompression bombs are rejected at once without inflating them" {
  # 1 GiB of zeros at gzip level 1, 256 MiB at level 9, 256 MiB of valid tiny frames
  python3 - "$T" <<'PY'
import sys, zlib
for name, level, unit, mib in (("z1", 1, b"\0", 1024), ("z9", 9, b"\0", 256), ("frames", 6, b"\0\0\0\x02{}", 256)):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    block = unit * ((1 << 20) // len(unit))
    with open(sys.argv[1] + "/" + name + ".gz", "wb") as f:
        for _ in range(mib):
            f.write(c.compress(block))
        f.write(c.flush())
PY
  for b in z1 z9 frames; do
    run_split /usr/bin/time -f 'rss %M' ora-deframe --raw -i "$T/$b.gz" -o "$T/out.rec"
    assert_success
    assert_regex "$stderr" "corrupt stream on connection 1"
    assert_regex "$stderr" "1 corrupt"
    # a few MiB at most, never the GiB
    rss=$(grep -o 'rss [0-9]*' <<<"$stderr" | cut -d' ' -f2)
    (( rss < 65536 ))
    inflated=$(grep -o '[0-9]* inflated' <<<"$stderr" | cut -d' ' -f1)
    (( inflated <= 1048576 ))
  done
  run_split ora-deframe --raw -i "$T/frames.gz" -o /dev/null
  assert_regex "$stderr" "inflates over 200:1"
  run_split ora-deframe --raw --strict -i "$T/z9.gz" -o /dev/null
  assert_equal "$status" 65
  assert_regex "$stderr" "error: unable to inflate connection 1 at compressed byte [0-9]+: "
  # without the ratio bound, zeros are frames of length 0: no message is that short
  run_split ora-deframe --raw --max-ratio 0 -i "$T/z1.gz" -o /dev/null
  assert_regex "$stderr" "a frame of 0 bytes cannot hold a message"
  # the bound is configurable: at 2000:1 the frames pass (we stop after a while)
  run bash -c "ora-deframe --raw --max-ratio 2000 -i '$T/frames.gz' 2>/dev/null | head -c 1000000 | wc -c"
  assert_output 1000000
}

@test "frames that are not JSON objects are dropped with a warning; --strict exits 65" {
  printf '%s\n' '{"offset":1,"eventDeleted":{"id":1}}' 'not json' '[1,2]' '{"offset":2,"a":{"b":[}}' \
    '{"offset":3,"eventDeleted":{"id":3}}' > "$T/mixed.jsonl"
  python3 "$DF_PY" gz < "$T/mixed.jsonl" > "$T/m.raw"
  run_split ora-deframe --raw -i "$T/m.raw" -o "$T/out.rec"
  assert_success
  assert_regex "$stderr" "dropped message 2 of connection 1: not a JSON object"
  assert_regex "$stderr" "3 bad messages"
  run ora-rec unpack -i "$T/out.rec"
  assert_output --partial '{"offset":1,'
  assert_output --partial '{"offset":3,'
  run_split ora-deframe --raw --strict -i "$T/m.raw" -o "$T/out.rec"
  assert_equal "$status" 65
  assert_regex "$stderr" "unable to use message 2 of connection 1: not a JSON object"
}

@test "offsets: the first top-level one, -1 when missing or not a number; 0..2^53-1 or the message is skipped" {
  printf '%s\n' '{"eventDeleted":{"id":1,"offset":5}}' '{"a":{"offset":9},"offset":12,"offset":13}' \
    '{"offset":"7"}' '{"offset":1.5}' '{"offset":-3}' '{"offset":9007199254740991}' '{"offset":9007199254740992}' \
    '{"offset":9223372036854775807}' '{"offset":1e3}' '{"offset":0}' > "$T/o.jsonl"
  python3 "$DF_PY" gz < "$T/o.jsonl" > "$T/o.raw"
  run_split ora-deframe --raw -i "$T/o.raw" -o "$T/o.rec"
  assert_success
  df_meta < "$T/o.rec" > "$T/got"
  printf '%s\n' "MSG - - -1 1" "MSG - - 12 1" "MSG - - -1 1" "MSG - - 9007199254740991 1" "MSG - - 1000 1" \
    "MSG - - 0 1" > "$T/want"
  diff "$T/want" "$T/got"
  # the four out of range are reported and counted, never passed on
  [ "$(grep -c 'warning: dropped message [0-9]* of connection 1: "offset" outside 0..2^53-1' <<<"$stderr")" -eq 4 ]
  assert_regex "$stderr" "4 bad messages \(4 with an offset out of range\)"
  run_split ora-deframe --raw --strict -i "$T/o.raw" -o /dev/null
  assert_equal "$status" 65
  assert_regex "$stderr" 'error: unable to use message 4 of connection 1: "offset" outside'
}

@test "other record types pass through in place" {
  {
    python3 "$DF_PY" gz < "$T/data.jsonl" | python3 "$DF_PY" wire --chunk 1000
    echo '{"type":"MSG","offset":99,"data":{"offset":99,"x":1}}'
  } | df_pack | ora-deframe 2>/dev/null | df_meta | tail -1 > "$T/got"
  echo "MSG - - 99 0" | diff - "$T/got"
}

@test "a failed write exits 74" {
  python3 "$DF_PY" gz < "$T/data.jsonl" > "$T/c.raw"
  for t in 1 2; do
    run_split ora-deframe --threads $t --raw -i "$T/c.raw" -o /dev/full
    assert_equal "$status" 74
    assert_regex "$stderr" "error: unable to write output"
  done
  run_split ora-deframe --raw -i "$T/nonexistent"
  assert_equal "$status" 74
}

@test "SIGUSR1 prints a summary; the stream is handled live (no output held back)" {
  mkfifo "$T/in"
  python3 "$DF_PY" gz --per-member 1 < "$T/data.jsonl" > "$T/c.raw"
  ora-deframe --raw -i "$T/in" -o "$T/out.rec" 2> "$T/err" &
  pid=$!
  exec 5> "$T/in"
  cat "$T/c.raw" >&5
  # every message is out while the input is still open
  for i in $(seq 300); do
    n=$(ora-rec unpack < "$T/out.rec" 2>/dev/null | wc -l)
    [ "$n" = 18 ] && break
    sleep 0.1
  done
  assert_equal "$n" 18
  kill -USR1 $pid
  for i in $(seq 300); do grep -q summary "$T/err" && break; sleep 0.1; done
  grep -q "summary: 18 messages" "$T/err"
  exec 5>&-
  wait $pid
}

@test "man page examples run" {
  cd "$T"
  cp data.jsonl msgs.jsonl
  python3 "$DF_PY" gz --per-member 1..4 < data.jsonl > capture.bin
  man_examples "$TOP/man/ora-deframe.1" > ex.sh
  [ "$(grep -c ora-deframe ex.sh)" -ge 2 ]
  run bash -eo pipefail ex.sh
  assert_success
  assert_equal "$(grep -c '"type":"MSG"' <<<"$output")" 18
  assert_output --partial '"flow":"snapshot"'
}

@test "WIRE records flagged INFLATED (one frame each, as ora-connect hands them on): the same messages, sums carried" {
  python3 "$DF_PY" inflated --conn 4 < "$T/all.jsonl" | df_pack > "$T/in.rec"
  df_with_sessions "$T/data.jsonl" "$T/sess.jsonl"
  for t in 1 2; do
    run_split ora-deframe --threads $t -i "$T/in.rec" -o "$T/out.rec"
    assert_success
    assert_regex "$stderr" "[1-9][0-9]* frames inflated by the sender"
    ora-rec verify -i "$T/out.rec" > /dev/null
    ora-rec unpack < "$T/out.rec" 2>/dev/null | grep -v '"ctrl"' > "$T/got"
    cmp "$T/got" "$T/data.jsonl"
    # the same stream compressed gives the same records (bar receive times)
    python3 "$DF_PY" gz --per-member 1..3 < "$T/all.jsonl" | python3 "$DF_PY" wire --conn 4 --chunk 1..40 |
      df_pack | ora-deframe --threads $t 2>/dev/null | df_meta > "$T/want.meta"
    df_meta < "$T/out.rec" | diff - "$T/want.meta"
    # session messages among them still make flow records at their place
    python3 "$DF_PY" inflated < "$T/sess.jsonl" | df_pack | ora-deframe --threads $t 2>/dev/null > "$T/s.rec"
    run df_flows < "$T/s.rec"
    assert_output "$(ora-rec wire --per-member 1..4 < "$T/sess.jsonl" 2>/dev/null | ora-deframe 2>/dev/null | df_flows)"
  done
}

@test "INFLATED frames that cannot be messages, or inside a compressed member, drop the rest of their connection" {
  one=$(sed -n 1p "$T/data.jsonl")
  big="{\"offset\":1,\"x\":\"$(head -c 20000 /dev/zero | tr '\0' a)\"}"
  # a frame of 1 byte; a frame over --max-message; unknown flags
  for bad in "x:2" "$big:2" "$one:6"; do
    frame=${bad%:*} flags=${bad##*:}
    {
      python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":1}'
      sed -n 1,3p "$T/data.jsonl" | python3 "$DF_PY" inflated --conn 1
      printf '%s\n' "$frame" | python3 "$DF_PY" inflated --conn 1 --flags "$flags"
      sed -n 4,6p "$T/data.jsonl" | python3 "$DF_PY" inflated --conn 1
      python3 "$DF_PY" ctrl '{"ctrl":"connected","conn":2}'
      python3 "$DF_PY" inflated --conn 2 < "$T/data.jsonl"
    } | df_pack > "$T/in.rec"
    run_split ora-deframe --max-message 10K -i "$T/in.rec" -o "$T/out.rec"
    assert_success
    assert_regex "$stderr" "corrupt stream on connection 1 .*(cannot hold a message|over the limit [0-9]+|unknown flags 0x6); dropping the rest"
    run grep -c '^MSG - - [0-9]* 1$' <(df_meta < "$T/out.rec")
    assert_output 3
    run grep -c '^MSG - - [0-9]* 2$' <(df_meta < "$T/out.rec")
    assert_output 18
    run_split ora-deframe --strict --max-message 10K -i "$T/in.rec" -o /dev/null
    assert_equal "$status" 65
  done
  # an inflated frame while a compressed member is half read
  sed -n 1,2p "$T/data.jsonl" | python3 "$DF_PY" gz --per-member 2 > "$T/m.raw"
  {
    head -c 20 "$T/m.raw" | python3 "$DF_PY" wire --conn 3 --chunk 20
    sed -n 3p "$T/data.jsonl" | python3 "$DF_PY" inflated --conn 3
  } | df_pack > "$T/mix.rec"
  run_split ora-deframe -i "$T/mix.rec" -o "$T/out.rec"
  assert_success
  assert_regex "$stderr" "corrupt stream on connection 3 .*an inflated frame inside a compressed member or frame"
  run ora-rec stats -i "$T/out.rec"
  assert_line "MSG   0"
}

@test "INFLATED frames: exactly --max-message bytes pass, one byte more drops the rest of the connection" {
  # {"offset":N,"x":"aaa..."}: 19 bytes around the a's
  frame() { printf '{"offset":%d,"x":"%s"}\n' "$1" "$(head -c "$2" /dev/zero | tr '\0' a)"; }
  [ "$(frame 1 1005 | head -c -1 | wc -c)" -eq 1024 ] || fail "the frame is not 1024 bytes"
  { frame 1 1005; frame 2 1005; } | python3 "$DF_PY" inflated --conn 1 | df_pack >"$T/at.rec"
  run_split ora-deframe --max-message 1K -i "$T/at.rec" -o "$T/out.rec"
  assert_success
  run grep -c '^MSG ' <(df_meta <"$T/out.rec")
  assert_output 2
  { frame 1 1005; frame 2 1006; frame 3 1005; } | python3 "$DF_PY" inflated --conn 1 | df_pack >"$T/over.rec"
  run_split ora-deframe --max-message 1K -i "$T/over.rec" -o "$T/out.rec"
  assert_success
  [[ "$stderr" == *"frame length 1025 over the limit 1024"* ]] || fail "$stderr"
  # message 1 only: the rest of connection 1 is dropped
  run grep '^MSG ' <(df_meta <"$T/out.rec")
  assert_equal "${#lines[@]}" 1
  assert_output --partial ' 1 1'
}

@test "--metrics FILE: ora_deframe_messages_total, valid for promtool, written while idle and at exit" {
  mkfifo "$T/in"
  python3 "$DF_PY" gz --per-member 1 < "$T/data.jsonl" > "$T/c.raw"
  ora-deframe --raw --metrics "$T/m.prom" --metrics-interval 0.2 -i "$T/in" -o /dev/null 2> "$T/err" &
  pid=$!
  exec 5> "$T/in"
  cat "$T/c.raw" >&5
  for i in $(seq 300); do
    grep -qx 'ora_deframe_messages_total{stage="deframe"} 18' "$T/m.prom" 2>/dev/null && break
    sleep 0.1
  done
  grep -qx 'ora_deframe_messages_total{stage="deframe"} 18' "$T/m.prom"
  promtool check metrics < "$T/m.prom"
  cat "$T/c.raw" >&5
  exec 5>&-
  wait $pid
  promtool check metrics < "$T/m.prom"
  grep -qx 'ora_deframe_messages_total{stage="deframe"} 36' "$T/m.prom"
  grep -q '^ora_start_time_seconds{stage="deframe"} [0-9]' "$T/m.prom"
}
