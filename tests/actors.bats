#!/usr/bin/env bats
# ora-actors: rules, output shapes, pending queues, watermark and durable state.
# Expected outputs come from tests/tools/actors-expect.py, an oracle written
# from the outside contract alone (doc/design.md §2-3 describes the rules); type sequences and key fields are also pinned by
# hand (the hand-written input/output pairs are in tests/conformance.bats).

load helper
load lib/actors

setup() {
  D=$BATS_TEST_TMPDIR
  # fault injection into the state files (tests/shim/statefault.c)
  SHIM=$ORA_BUILD/shim/statefault.so
}

teardown() {
  [ -n "${APID:-}" ] && kill -9 "$APID" 2>/dev/null || true
  # the feeder runs in its own process group (setsid); SIGPIPE ends it
  # quietly, sleep included
  [ -n "${FPID:-}" ] && kill -PIPE -- -"$FPID" 2>/dev/null || true
  return 0
}

# act_fed SECS CMD...: CMD <$D/fifo >$D/out.rec 2>$D/err in the background
# (APID); a feeder in its own process group (FPID) writes $D/a.rec into the
# fifo, then holds it open SECS seconds: CMD sees no end of input meanwhile.
act_fed() {
  mkfifo "$D/fifo"
  "${@:2}" <"$D/fifo" >"$D/out.rec" 2>"$D/err" &
  APID=$!
  D="$D" S="$1" setsid bash -c 'cat "$D/a.rec"; sleep "$S"' >"$D/fifo" &
  FPID=$!
}

@test "actors: --help matches the synopsis, --version, bad usage exits 64" {
  run ora-actors --help
  assert_success
  assert_output --partial "usage: ora-actors [--rules FILE]"
  run ora-actors --version
  assert_success
  assert_output --partial "ora-actors"
  run ora-actors --bogus
  assert_equal "$status" 64
  run_split ora-actors --keep 0
  assert_equal "$status" 64
  assert_equal "$(echo "$stderr" | head -1)" "ora-actors: error: unable to use --keep '0': want 1..1000000; try 'ora-actors --help'"
  run ora-actors --jurisdiction offering-se
  assert_equal "$status" 64
  run ora-actors --criteria 1,,2
  assert_equal "$status" 64
  run ora-actors --dump-state
  assert_equal "$status" 64
  run ora-actors extra
  assert_equal "$status" 64
}

@test "actors: messages in a flatter shape than the entity model give nulls, counted, never a crash" {
  # tests/fixtures/actors/flat-shape.jsonl is a shape nobody sends (bare
  # strings, "home", "decimal" in the odds entry, "lineType" in the line
  # types update): nothing the entity model reads is where it expects it
  cp "$AFIX/flat-shape.jsonl" "$D/s.jsonl"
  act_rec "$D/s.jsonl" "$D/in.rec"
  ora-actors <"$D/in.rec" >"$D/out.rec" 2>"$D/err"
  "$AEXP" expect "$D/s.jsonl" >"$D/exp.jsonl"
  act_cmp "$D/exp.jsonl" "$D/out.rec"
  assert_equal "$(act_types "$D/out.rec")" "event_data event_data bet_offer_opened bet_offer_opened in_game_odds_update"
  run jq -c 'select(.type=="OUT") | [.data.competition_name, (.data.participants // [] | map(.participant_name)), .data.criterion_label, (.data.outcomes // [] | map(.outcome_label, (.odds | map(.decimal))))]' "$D/out.rec.jsonl"
  assert_output - <<'OUT'
[null,[null,null],null,[]]
[null,[null,null],null,[]]
[null,[],null,[null,[null,null],null,[null],null,[null]]]
[null,[],null,[null,[null],null,[null],null,[null]]]
[null,[],null,[null,[null,null]]]
OUT
  n=$(sed -nE 's/.* ([0-9]+) missing fields.*/\1/p' "$D/err")
  [ "${n:-0}" -ge 20 ] || fail "missing fields not counted: $(cat "$D/err")"
}

@test "actors: status rule: OPEN->SUSPENDED->OPEN opens twice, CLOSED closes once, created CLOSED and betOfferUpdated are silent" {
  act_scenario status
  assert_equal "$(act_types "$D/out.rec")" "event_data bet_offer_opened bet_offer_opened bet_offer_closed bet_offer_opened bet_offer_opened"
  run jq -r 'select(.type=="OUT") | .offset' "$D/out.rec.jsonl"
  assert_equal "$(echo $output)" "1 3 5 8 11 14"
  # betOfferUpdated (offset 6) replaced outcome 61 whole: no label any more
  run jq -c 'select(.offset==8) | .data.outcomes' "$D/out.rec.jsonl"
  assert_output '[{"outcome_id":61,"outcome_label":null,"odds":[{"offerings":["jurisdiction1"],"decimal":2.45,"jurisdiction_mask":1}]}]'
}

@test "actors: odds rule fires only for STARTED, main line, OFFERED_LIVE, watched criteria" {
  act_scenario odds
  ora-rec unpack --meta <"$D/out.rec" 2>/dev/null | jq -r 'select(.data.type=="in_game_odds_update") | "\(.offset):\(.key):\(.data.outcomes|length)"' >"$D/odds"
  assert_equal "$(tr '\n' ' ' <"$D/odds")" "108:51:1 113:53:1 114:51:1 121:55:1 "
}

@test "actors: --criteria and --jurisdiction change the rules" {
  act_scenario odds --criteria 1001159999,1001159732 --jurisdiction offering-xx=16 --jurisdiction jurisdiction1=32
  ora-rec unpack --meta <"$D/out.rec" 2>/dev/null | jq -r 'select(.data.type=="in_game_odds_update") | .offset' | tr '\n' ' ' >"$D/odds"
  assert_equal "$(cat "$D/odds")" "109 121 "
  # the mask of ["jurisdiction3","offering-xx"] with offering-xx=16: 4+16
  act_scenario odds --jurisdiction offering-xx=16
  run jq -c 'select(.offset==108) | .data.outcomes[0].odds | map(.jurisdiction_mask)' "$D/out.rec.jsonl"
  assert_output "[3,20]"
}

@test "actors: a rules file equals the options; a bad one exits 78" {
  printf '# rules\ncriteria = 1001159999,1001159732\njurisdiction=jurisdiction1=1\njurisdiction=jurisdiction3=4\npending_ttl=60\n' >"$D/rules"
  act_rec "$AFIX/odds.jsonl" "$D/in.rec"
  ora-actors --rules "$D/rules" <"$D/in.rec" >"$D/a.rec" 2>/dev/null
  "$AEXP" expect "$AFIX/odds.jsonl" --criteria 1001159999,1001159732 --jurisdiction jurisdiction2=0 --jurisdiction jurisdiction4=0 --jurisdiction jurisdiction5=0 >"$D/exp.jsonl"
  act_cmp "$D/exp.jsonl" "$D/a.rec"
  printf 'colour=blue\n' >"$D/bad"
  run_split ora-actors --rules "$D/bad" </dev/null
  assert_equal "$status" 78
  assert_equal "$stderr" "ora-actors: error: unable to read rules: $D/bad:1: unknown key 'colour'"
  run_split ora-actors --rules "$D/missing" </dev/null
  assert_equal "$status" 78
}

@test "actors: event_data on creation and startsAt/sport/group.id/participants changes only" {
  act_scenario event_data
  # 502: only name, competitionName, status and the key order of a participant
  # change; 506: eventParticipantsUpdated is not read; 507: a participant field
  # no output carries; 508: the participants' order
  run jq -r 'select(.type=="OUT") | .offset' "$D/out.rec.jsonl"
  assert_equal "$(echo $output)" "501 503 504 505 507 508 514"
  run jq -r 'select(.offset==505) | .data.competition_name' "$D/out.rec.jsonl"
  assert_output 'Cup "quoted" \ é'
}

@test "actors: pending updates are applied in arrival order after creation, whatever their offsets; deletes drop queues" {
  act_scenario pending
  assert_equal "$(act_types "$D/out.rec")" "event_data bet_offer_opened in_game_odds_update bet_offer_opened in_game_odds_update bet_offer_opened bet_offer_closed event_data bet_offer_opened"
  # 209 (CLOSED, queued for 52) is applied after 210 created 52 OPEN
  run jq -r 'select(.key=="52") | "\(.offset):\(.data.type)"' "$D/out.rec.jsonl"
  assert_equal "$(echo $output)" "210:bet_offer_opened 209:bet_offer_closed"
  # design.md: a delete of an actor that does not exist (event 13 at 212,
  # offer 59 at 208) is an unknown delete and drops its queue
  grep -q " 2 unknown deletes" "$D/err" || fail "$(cat "$D/err")"
}

@test "actors: queues of actors that never appear are pruned after --pending-ttl" {
  act_scenario prune --pending-ttl 60
  # 306 (CLOSED for 51) was pruned: 51 opens; 307 (odds for 52) was not: it fires
  assert_equal "$(act_types "$D/out.rec")" "event_data bet_offer_opened bet_offer_opened in_game_odds_update"
  grep -q "(1 pruned)" "$D/err"
  # with a long TTL nothing is pruned: 51 is created then closed by its queue
  act_scenario prune --pending-ttl 600
  assert_equal "$(act_types "$D/out.rec")" "event_data bet_offer_opened bet_offer_closed bet_offer_opened in_game_odds_update"
}

@test "actors: delete then add gives a fresh actor; offers keep the event's status and relink on re-add" {
  act_scenario delete
  run jq -c 'select(.offset==404) | .data.outcomes | map(.outcome_id)' "$D/out.rec.jsonl"
  assert_output "[63]"
  # 407 (queued for the deleted 51) applies to the new 51; 410: the offer keeps
  # the deleted event's STARTED; 412: the re-added event is NOT_STARTED
  assert_equal "$(act_types "$D/out.rec")" "event_data bet_offer_opened bet_offer_opened in_game_odds_update in_game_odds_update event_data in_game_odds_update"
  run jq -r 'select(.data.type=="in_game_odds_update") | .offset' "$D/out.rec.jsonl"
  assert_equal "$(echo $output)" "407 410 414"
  grep -q " 2 unknown deletes" "$D/err" || fail "$(cat "$D/err")"
}

@test "actors: snapshot sets W at completion, replayed duplicates are skipped, a new snapshot starts over" {
  act_scenario snapshot
  run jq -r 'select(.type=="OUT") | "\(.offset):\(.data.msg_flow)"' "$D/out.rec.jsonl"
  assert_equal "$(echo $output)" "57:snapshot 12:snapshot 61:replay 63:replay 62:replay 64:realtime 64:snapshot"
  grep -q " 3 duplicates" "$D/err"
}

@test "actors: unrouted MSG records are routed in place with the same result" {
  act_rec "$AFIX/odds.jsonl" "$D/in.rec" --unrouted
  ora-actors <"$D/in.rec" >"$D/out.rec" 2>/dev/null
  "$AEXP" expect "$AFIX/odds.jsonl" >"$D/exp.jsonl"
  act_cmp "$D/exp.jsonl" "$D/out.rec"
}

@test "actors: OUT records carry key, offset, receive time, flow; CTRL records pass through in place" {
  act_rec "$AFIX/snapshot.jsonl" "$D/in.rec"
  ora-actors <"$D/in.rec" >"$D/out.rec" 2>/dev/null
  ora-rec unpack --meta <"$D/out.rec" 2>/dev/null >"$D/out.jsonl"
  ora-rec unpack --meta <"$D/in.rec" 2>/dev/null >"$D/in.jsonl"
  # every CTRL of the input, in order
  diff <(jq -c 'select(.type=="CTRL") | .data' "$D/in.jsonl") <(jq -c 'select(.type=="CTRL") | .data' "$D/out.jsonl")
  # CTRL order relative to outputs: the first OUT after the 2nd flow record is offset 61
  run jq -r 'if .type=="CTRL" then "C" else (.offset|tostring) end' "$D/out.jsonl"
  assert_equal "$(echo $output)" "C C 57 12 C 61 63 62 C C C C 64 C C 64 C"
  # key = the actor id, time = msg_datetime, flow = msg_flow, offset copied
  run jq -r 'select(.type=="OUT") | select(.key != (.data.bet_offer_id // .data.event_id | tostring) or .time != .data.msg_datetime or .flow != .data.msg_flow) | .offset' "$D/out.jsonl"
  assert_output ""
  run jq -r 'select(.type=="OUT" and .offset==61) | .data.msg_datetime' "$D/out.jsonl"
  assert_output "1970-04-03T14:13:20.003Z"
  run jq -r 'select(.type=="OUT" and .offset==12) | .data.outcomes[0].odds[0].decimal' "$D/out.jsonl"
  assert_output "2000"
}

@test "actors: odds decimals come out as they went in" {
  act_rec "$AFIX/status.jsonl" "$D/in.rec"
  ora-actors <"$D/in.rec" | ora-rec unpack 2>/dev/null >"$D/out" 2>/dev/null
  grep -q '"decimal":1.909,' "$D/out" || fail "1.909"
  grep -q '"decimal":2.450,' "$D/out" || fail "2.450"
  grep -q '"decimal":10000,' "$D/out" || fail "10000"
  grep -q '"decimal":2500,' "$D/out" || fail "2500"
}

@test "actors: a realistic mixed stream matches the model message for message" {
  "$AEXP" gen --events 30 --offers 6 --updates 8000 --seed 7 >"$D/g.jsonl"
  act_rec "$D/g.jsonl" "$D/in.rec"
  ora-actors <"$D/in.rec" >"$D/out.rec" 2>"$D/err"
  "$AEXP" expect "$D/g.jsonl" >"$D/exp.jsonl"
  act_cmp "$D/exp.jsonl" "$D/out.rec"
  # all four kinds of output occur
  for t in event_data bet_offer_opened bet_offer_closed in_game_odds_update; do
    grep -q "\"type\":\"$t\"" "$D/exp.jsonl" || fail "no $t"
  done
  # (type, key, msg_offset) identifies an output: never twice in one run
  run bash -c "jq -r 'select(.type==\"OUT\") | [.data.type, .key, .data.msg_offset] | @tsv' '$D/out.rec.jsonl' | sort | uniq -d"
  assert_output ""
  [ "$(jq -r 'select(.type=="OUT" and .offset != .data.msg_offset) | .offset' "$D/out.rec.jsonl")" = "" ] ||
    fail "msg_offset differs from the record's offset"
}

@test "actors: malformed payloads are skipped with a warning; --strict exits 65; damaged records are reported" {
  printf '%s\n' '{"type":"MSG","offset":1,"flow":"realtime","data_base64":"bm90IGpzb24="}' \
    '{"type":"MSG","offset":2,"flow":"realtime","kind":"betOfferAdded","actor_type":"betOffer","actor_id":5,"data":{"offset":2,"betOfferAdded":{"betOffer":7}}}' \
    '{"type":"MSG","offset":3,"flow":"realtime","data":{"offset":3,"eventAdded":{"event":{"id":9,"group":{"id":1,"name":"G"}}}}}' |
    ora-rec pack --meta 2>/dev/null >"$D/in.rec"
  run_split ora-actors -i "$D/in.rec" -o "$D/out.rec"
  assert_success
  assert_equal "$(act_types "$D/out.rec")" "event_data"
  [[ "$stderr" == *"ora-actors: warning: unable to parse message at offset 1: bad JSON"* ]]
  [[ "$stderr" == *"unable to apply message at offset 2: malformed payload"* ]]
  run_split ora-actors --strict -i "$D/in.rec" -o "$D/out.rec"
  assert_equal "$status" 65
  # flip a byte in the middle record: reported, the rest still applied
  cp "$D/in.rec" "$D/bad.rec"
  printf 'X' | dd of="$D/bad.rec" bs=1 seek=100 conv=notrunc 2>/dev/null
  run_split ora-actors -i "$D/bad.rec" -o "$D/out.rec"
  assert_success
  [[ "$stderr" == *"unable to read record at byte"* ]]
  assert_equal "$(act_types "$D/out.rec")" "event_data"
}

@test "actors: a failed write exits 74" {
  act_rec "$AFIX/status.jsonl" "$D/in.rec"
  run_split ora-actors -i "$D/in.rec" -o /dev/full
  assert_equal "$status" 74
  [[ "$stderr" == *"unable to write output"* ]]
}

@test "actors: EOF writes a final checkpoint; --dump-state shows the state; restart continues from it" {
  "$AEXP" gen --events 10 --offers 4 --updates 3000 --seed 3 >"$D/g.jsonl"
  "$AEXP" records "$D/g.jsonl" >"$D/g.meta"
  n=$(wc -l <"$D/g.meta")
  head -n $((n / 2)) "$D/g.meta" | ora-rec pack --meta 2>/dev/null >"$D/a.rec"
  tail -n +$((n / 2 + 1)) "$D/g.meta" | ora-rec pack --meta 2>/dev/null >"$D/b.rec"
  cat "$D/a.rec" "$D/b.rec" >"$D/all.rec"
  ora-actors --state-dir "$D/full" <"$D/all.rec" >"$D/full.rec" 2>/dev/null
  ora-actors --state-dir "$D/s" --checkpoint-interval 0 <"$D/a.rec" >"$D/1.rec" 2>/dev/null
  w1=$(ckpt_offsets "$D/1.rec")
  [ -n "$w1" ]
  [ -f "$D/s/actors-$(printf '%020d' "$w1").state" ]
  # the checkpoint is the last record
  run bash -c "ora-rec unpack --meta <'$D/1.rec' 2>/dev/null | tail -1 | jq -r .data.ctrl"
  assert_output "checkpoint"
  echo "$w1" >"$D/ckpt"
  # kinesis-put would replay from W: feed what follows (the duplicates are skipped)
  ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" <"$D/b.rec" >"$D/2.rec" 2>"$D/err2"
  grep -q "loaded state $w1" "$D/err2"
  cat "$D/1.rec" "$D/2.rec" >"$D/both.rec"
  "$AEXP" expect "$D/g.jsonl" >"$D/exp.jsonl"
  act_cmp "$D/exp.jsonl" "$D/both.rec"
  act_cmp "$D/exp.jsonl" "$D/full.rec"
  ora-actors --dump-state --state-dir "$D/full" >"$D/full.dump"
  ora-actors --dump-state --state-dir "$D/s" >"$D/s.dump"
  diff "$D/full.dump" "$D/s.dump"
  run jq -r .type "$D/s.dump"
  assert_line --index 0 "watermark"
  assert_line "event"
  assert_line "bet_offer"
  [ "$(jq -r 'select(.type=="watermark") | .w' "$D/s.dump")" = "$(ckpt_offsets "$D/2.rec")" ]
}

@test "actors: checkpoint, kill -9, restart from the committed state: nothing missing, only duplicates" {
  "$AEXP" gen --events 20 --offers 5 --updates 6000 --seed 11 >"$D/g.jsonl"
  "$AEXP" records "$D/g.jsonl" >"$D/g.meta"
  split -n l/12 -d "$D/g.meta" "$D/part."
  for p in "$D"/part.*; do ora-rec pack --meta <"$p" 2>/dev/null >"$p.rec"; done
  cat "$D"/part.*.rec >"$D/all.rec"
  ora-actors --state-dir "$D/full" <"$D/all.rec" >"$D/full.rec" 2>/dev/null
  mkfifo "$D/fifo"
  ora-actors --state-dir "$D/s" --checkpoint-interval 0.05 <"$D/fifo" >"$D/1.rec" 2>"$D/err1" &
  APID=$!
  D="$D" setsid bash -c 'for p in "$D"/part.*.rec; do cat "$p"; sleep 0.3; done; sleep 30' >"$D/fifo" &
  FPID=$!
  # wait for at least two checkpoints, then kill in the middle of the stream
  for i in $(seq 100); do
    c=$(ckpt_offsets "$D/1.rec" | wc -w)
    [ "$c" -ge 2 ] && break
    sleep 0.1
  done
  [ "$c" -ge 2 ]
  kill -9 "$APID"
  wait "$APID" || true
  APID=
  kill -PIPE -- -"$FPID"; FPID=
  w=$(ckpt_offsets "$D/1.rec" | awk '{print $NF}')
  last=$(jq -r 'select(.type=="MSG") | .offset' "$D/g.meta" | sort -n | tail -1)
  [ "$w" -lt "$last" ]
  echo "$w" >"$D/ckpt"
  # what the pipeline delivered downstream before the commit point
  ora-rec unpack --meta <"$D/1.rec" 2>/dev/null | awk -v w="$w" '{print} /"ctrl":"checkpoint"/ && index($0, "\"offset\":" w "}") {exit}' >"$D/prefix.jsonl"
  # ora-connect replays from W: every message after W, in log order
  { echo '{"type":"CTRL","kind":"connected","data":{"ctrl":"connected","conn":2}}'
    jq -c --argjson w "$w" 'select(.type=="MSG" and .flow!="snapshot" and .offset > $w)' "$D/g.meta"; } |
    ora-rec pack --meta 2>/dev/null >"$D/replay.rec"
  ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" <"$D/replay.rec" >"$D/2.rec" 2>"$D/err2"
  grep -q "loaded state $w" "$D/err2"
  ora-rec unpack --meta <"$D/2.rec" 2>/dev/null >"$D/2.jsonl"
  cat "$D/prefix.jsonl" "$D/2.jsonl" >"$D/both.jsonl"
  "$AEXP" expect "$D/g.jsonl" >"$D/exp.jsonl"
  "$AEXP" compare "$D/exp.jsonl" "$D/both.jsonl" --dups-ok
  ora-actors --dump-state --state-dir "$D/full" >"$D/full.dump"
  ora-actors --dump-state --state-dir "$D/s" >"$D/s.dump"
  diff "$D/full.dump" "$D/s.dump"
}

@test "actors: a crash in the middle of a state write leaves the previous state valid" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-actors --state-dir "$D/s" <"$D/a.rec" >"$D/1.rec" 2>/dev/null
  w1=$(ckpt_offsets "$D/1.rec")
  assert_equal "$w1" "121"
  printf '%s\n' '{"type":"MSG","offset":122,"flow":"realtime","data":{"offset":122,"eventStatusUpdated":{"id":12,"status":"FINISHED"}}}' |
    ora-rec pack --meta 2>/dev/null >"$D/b.rec"
  echo 121 >"$D/ckpt"
  run env LD_PRELOAD="$SHIM" STATEFAULT=crash-write ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" <"$D/b.rec"
  assert_equal "$status" 99
  ls -a "$D/s" >"$D/ls"
  grep -q '^\.actors-00000000000000000122\.tmp\.' "$D/ls"
  [ ! -e "$D/s/actors-00000000000000000122.state" ]
  ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" <"$D/b.rec" >"$D/2.rec" 2>"$D/err"
  grep -q "loaded state 121" "$D/err"
  assert_equal "$(ckpt_offsets "$D/2.rec")" "122"
  # the dead writer's temporary file is cleaned up
  ls -a "$D/s" >"$D/ls"
  run grep -c 'tmp' "$D/ls"
  assert_output "0"
}

@test "actors: a damaged state file is refused (65); a missing state falls back to an older one (75) or needs a snapshot (78)" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-actors --state-dir "$D/s" <"$D/a.rec" >/dev/null 2>&1
  f="$D/s/actors-00000000000000000121.state"
  [ -f "$f" ]
  cp "$f" "$D/good"
  printf 'Z' | dd of="$f" bs=1 seek=200 conv=notrunc 2>/dev/null
  echo 121 >"$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_equal "$status" 65
  [[ "$stderr" == *"checksum mismatch"* ]]
  truncate -s 100 "$f"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_equal "$status" 65
  cp "$D/good" "$f"
  # no state for the checkpoint 150: the newest sound state below it is the
  # fallback; the checkpoint is lowered to it so that 122..150 are replayed
  echo 150 >"$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_equal "$status" 75
  [[ "$stderr" == *"committed checkpoint 150: no sound state for it; the newest sound state below it is 121: checkpoint lowered to 121"* ]] ||
    fail "$stderr"
  assert_equal "$(cat "$D/ckpt")" "121"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_success
  [[ "$stderr" == *"loaded state 121"* ]] || fail "$stderr"
  # no state at all at or below the checkpoint: a snapshot is needed (78)
  echo 100 >"$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_equal "$status" 78
  [[ "$stderr" == *"no state for the committed checkpoint 100"* ]] || fail "$stderr"
  echo junk >"$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" </dev/null
  assert_equal "$status" 78
  # no checkpoint file yet (a first start): empty state, whatever states are there
  rm "$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" -o "$D/out.rec" </dev/null
  assert_success
  [[ "$stderr" == *"no committed checkpoint in $D/ckpt: starting empty, ignoring 1 state files"* ]] || fail "$stderr"
  # --dump-state without a committed checkpoint shows the newest state
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" --dump-state
  assert_success
  assert_line --index 0 --partial '{"type":"watermark","w":121,'
}

@test "actors: states below the committed checkpoint are pruned; it and newer ones stay; without a checkpoint the newest --keep" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-rec unpack --meta <"$D/a.rec" 2>/dev/null >"$D/a.jsonl"
  for i in 1 2 3 4 5; do
    jq -c --argjson n "$i" 'select(.type=="MSG" and .offset <= 110 + $n)' "$D/a.jsonl" | sed 's/"flags":[0-9]*,//' >"$D/p$i.jsonl"
  done
  jq -c 'select(.type=="CTRL")' "$D/a.jsonl" >"$D/c.jsonl"
  mkdir -p "$D/s"
  # states for 101 and 111..115, each made apart
  head -2 <(cat "$D/c.jsonl"; jq -c 'select(.offset==101)' "$D/a.jsonl") | ora-rec pack --meta 2>/dev/null |
    ora-actors --state-dir "$D/x0" >/dev/null 2>&1
  cp "$D/x0"/*.state "$D/s/"
  for i in 1 2 3 4 5; do
    cat "$D/c.jsonl" "$D/p$i.jsonl" | ora-rec pack --meta 2>/dev/null | ora-actors --state-dir "$D/x$i" >/dev/null 2>&1
    cp "$D/x$i"/*.state "$D/s/"
  done
  cp -r "$D/s" "$D/t"
  run bash -c "ls '$D/s' | wc -l"
  assert_output 6
  # committed 113: 101, 111 and 112 can no longer be needed; 113 and the newer may
  echo 113 >"$D/ckpt"
  cat "$D/c.jsonl" "$D/p5.jsonl" | ora-rec pack --meta 2>/dev/null |
    ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" --keep 1 >/dev/null 2>&1
  run bash -c "ls '$D/s' | tr '\n' ' '"
  assert_output "actors-00000000000000000113.state actors-00000000000000000114.state actors-00000000000000000115.state "
  # no checkpoint file: the newest --keep
  cat "$D/c.jsonl" "$D/p5.jsonl" | ora-rec pack --meta 2>/dev/null |
    ora-actors --state-dir "$D/t" --checkpoint "$D/none" --keep 2 --watermark 100 >/dev/null 2>&1
  run bash -c "ls '$D/t' | tr '\n' ' '"
  assert_output "actors-00000000000000000114.state actors-00000000000000000115.state "
}

@test "actors: while --keep states wait above the committed checkpoint, periodic checkpoints are deferred" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-rec unpack --meta <"$D/a.rec" 2>/dev/null >"$D/a.jsonl"
  jq -c 'select(.type=="CTRL")' "$D/a.jsonl" >"$D/c.jsonl"
  jq -c 'select(.type=="MSG" and .offset > 100)' "$D/a.jsonl" | sed 's/"flags":[0-9]*,//' >"$D/m.jsonl"
  [ "$(wc -l <"$D/m.jsonl")" -ge 8 ] || fail "too few messages in the fixture"
  # the committed checkpoint 100 and its state
  ora-rec pack --meta <"$D/c.jsonl" 2>/dev/null | ora-actors --state-dir "$D/s" --watermark 100 >/dev/null 2>&1
  [ -f "$D/s/actors-00000000000000000100.state" ] || fail "no state for 100"
  echo 100 >"$D/ckpt"
  # one message every 0.3 s, a checkpoint due every 0.1 s: without the
  # deferral every message would leave a state behind (kinesis-put never commits)
  { cat "$D/c.jsonl"; while read -r l; do echo "$l"; sleep 0.3; done <"$D/m.jsonl"; } |
    ora-rec pack --meta 2>/dev/null |
    ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" --keep 1 --checkpoint-interval 0.1 >/dev/null 2>"$D/err"
  grep -q 'checkpoints wait for kinesis-put to commit: the next one is deferred' "$D/err" ||
    fail "no deferral: $(cat "$D/err")"
  # the committed state, at most one periodic state waiting, and the final one
  run bash -c "ls '$D/s' | grep -c '^actors-'"
  [ "$output" -le 3 ] || fail "$output states kept while none was committed"
}

@test "actors: a hole older than --gap-limit is skipped with a warning; late messages inside it are applied" {
  printf '%s\n' '{"ctrl":"flow","flow":"replay","offset":10}' >"$D/s.jsonl"
  for o in 11 12 14 15 16 17 18 19 20; do
    echo "{\"offset\":$o,\"eventStatusUpdated\":{\"id\":1,\"status\":\"S$o\"}}" >>"$D/s.jsonl"
  done
  echo '{"offset":13,"eventAdded":{"event":{"id":1,"status":"x"}}}' >>"$D/s.jsonl"
  act_rec "$D/s.jsonl" "$D/in.rec"
  run_split ora-actors --gap-limit 5 --state-dir "$D/st" -i "$D/in.rec" -o "$D/out.rec"
  assert_success
  [[ "$stderr" == *"ora-actors: warning: offsets 13..13 never arrived within --gap-limit 5: watermark moved past them"* ]]
  assert_equal "$(ckpt_offsets "$D/out.rec")" "20"
  assert_equal "$(act_types "$D/out.rec")" "event_data"
  # below the limit W waits at the hole, which is then filled
  run_split ora-actors --gap-limit 100 --state-dir "$D/st2" -i "$D/in.rec" -o "$D/out2.rec"
  [[ "$stderr" != *"never arrived"* ]]
  assert_equal "$(ckpt_offsets "$D/out2.rec")" "20"
  # a hole that is never filled: W stays below it
  grep -v '"offset":13' "$D/s.jsonl" >"$D/s2.jsonl"
  act_rec "$D/s2.jsonl" "$D/in3.rec"
  ora-actors --gap-limit 100 --state-dir "$D/st3" -i "$D/in3.rec" -o "$D/out3.rec" 2>/dev/null
  assert_equal "$(ckpt_offsets "$D/out3.rec")" "12"
}

@test "actors: SIGUSR1 prints a summary; SIGTERM writes a final checkpoint and exits 0" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  act_fed 30 ora-actors --state-dir "$D/s"
  for i in $(seq 50); do
    [ "$(act_types "$D/out.rec" | wc -w)" -ge 1 ] && break
    sleep 0.1
  done
  sleep 0.3
  kill -USR1 "$APID"
  sleep 0.3
  kill -TERM "$APID"
  st=0
  wait "$APID" || st=$?
  APID=
  assert_equal "$st" 0
  assert_equal "$(ckpt_offsets "$D/out.rec")" "121"
  # one summary on SIGUSR1 (while idle), one on exit
  assert_equal "$(grep -c 'ora-actors: summary: 21 msgs' "$D/err")" 2
}

@test "actors: man page examples print what the man page says" {
  man=$TOP/man/ora-actors.1
  # the literal displays of EXAMPLES, in order: commands, then what they print
  python3 - "$man" "$D" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split(".Sh EXAMPLES", 1)[1].split(".Sh SEE ALSO")[0]
blocks = re.findall(r"\.Bd -literal -offset indent\n(.*?)\.Ed\n", text, re.S)
for i, b in enumerate(blocks):
    open("%s/ex%d" % (sys.argv[2], i), "w").write(b.replace("\\e", "\\"))
PY
  cd "$D"
  run_split bash -e ex0
  assert_success
  assert_output "$(cat ex1)"
  run_split bash -e ex2
  assert_success
  assert_output "$(cat ex3)"
  grep -q 'ora-actors --state-dir /var/lib/ora' ex4 || fail "pipeline example"
}

@test "actors: bench/actors.sh runs at a tiny scale and prints its table" {
  [ -x "$ORA_BUILD/bench/actors_gen" ] || skip "bench programs not built"
  BENCH_SCALE=0.002 BENCH_RUNS=1 BENCH_TMP="$D/bench" run "$TOP/bench/actors.sh"
  assert_success
  assert_line --partial "### ora-actors (issue 7)"
  assert_line --partial "| \`ora-actors\` (checksums, parse, rules, output records) |"
  assert_line --partial "bytes per bet offer"
  assert_line --partial "| restart: state loaded in | "
}

@test "actors: behind ora-order (routed headers) the outputs match the model of ora-order's message order" {
  "$AEXP" gen --events 20 --offers 5 --updates 4000 --seed 5 >"$D/g.jsonl"
  "$AEXP" records "$D/g.jsonl" --unrouted | ora-rec pack --meta 2>/dev/null | ora-order 2>/dev/null >"$D/ord.rec"
  ora-rec unpack --meta <"$D/ord.rec" 2>/dev/null >"$D/ord.jsonl"
  # ora-order set the routing fields
  [ "$(jq -r 'select(.type=="MSG") | .flags' "$D/ord.jsonl" | sort -u)" = "1" ]
  "$AEXP" from-records "$D/ord.jsonl" >"$D/s.jsonl"
  ora-actors <"$D/ord.rec" >"$D/out.rec" 2>/dev/null
  "$AEXP" expect "$D/s.jsonl" >"$D/exp.jsonl"
  [ "$(wc -l <"$D/exp.jsonl")" -gt 500 ]
  act_cmp "$D/exp.jsonl" "$D/out.rec"
}

@test "actors: a checkpoint writer that dies leaves no state and no checkpoint record; the stream goes on" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  act_fed 30 env LD_PRELOAD="$SHIM" STATEFAULT=crash-write ora-actors --state-dir "$D/s" --checkpoint-interval 0.05
  for i in $(seq 100); do
    grep -q "unable to write checkpoint" "$D/err" && break
    sleep 0.1
  done
  grep -q "ora-actors: error: unable to write checkpoint 121: writer exited with 99" "$D/err"
  kill -PIPE -- -"$FPID"; FPID=
  st=0
  wait "$APID" || st=$?
  APID=
  # the final (synchronous) write dies the same way: the process with it
  assert_equal "$st" 99
  assert_equal "$(ckpt_offsets "$D/out.rec")" ""
  assert_equal "$(act_types "$D/out.rec" | wc -w)" 11
  [ -z "$(ls "$D/s")" ]
}

@test "actors: offsets outside 0..2^53-1 and jumps beyond --max-jump are reported, skipped, counted and never move W" {
  # a state at 121, then messages around it
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-actors --state-dir "$D/s" -o /dev/null <"$D/a.rec" 2>/dev/null
  echo 121 >"$D/ckpt"
  {
    echo '{"type":"CTRL","kind":"connected","data":{"ctrl":"connected","conn":2}}'
    for o in 122 4611686018427387904 123 10000200 9007199254740992 124; do
      echo "{\"type\":\"MSG\",\"offset\":$o,\"flow\":\"realtime\",\"data\":{\"offset\":$o,\"betOfferStatusUpdated\":{\"id\":51,\"status\":\"S$o\"}}}"
    done
  } | ora-rec pack --meta 2>/dev/null >"$D/b.rec"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" -i "$D/b.rec" -o "$D/out.rec"
  assert_success
  [[ "$stderr" == *"warning: unable to apply message at offset 4611686018427387904 (W 122): outside the offset range 0..2^53-1: skipped"* ]] ||
    fail "$stderr"
  [[ "$stderr" == *"warning: unable to apply message at offset 10000200 (W 123): too far above the watermark (--max-jump): skipped"* ]] ||
    fail "$stderr"
  [[ "$stderr" == *"warning: unable to apply message at offset 9007199254740992 (W 123): outside the offset range"* ]] ||
    fail "$stderr"
  [[ "$stderr" == *" 3 offsets refused;"* ]] || fail "$stderr"
  # W moved over 122..124 only: the final checkpoint is 124
  assert_equal "$(ckpt_offsets "$D/out.rec")" "124"
  run_split ora-actors --dump-state --state-dir "$D/s" --checkpoint /dev/null
  assert_line --index 0 --partial '"w":124,"applied_beyond":[]'
  run jq -r 'select(.type=="bet_offer" and .id==51) | .status' <<<"$output"
  assert_output "S124"
  # a smaller bound refuses a smaller jump; --strict makes a refused offset fatal
  run_split ora-actors --state-dir "$D/s2" --watermark 119 --max-jump 2 -i "$D/b.rec" -o /dev/null
  [[ "$stderr" == *"offset 122 (W 119): too far above the watermark"* ]] || fail "$stderr"
  [[ "$stderr" == *" 6 offsets refused;"*"W 119,"* ]] || fail "$stderr"
  run_split ora-actors --strict --watermark 121 -i "$D/b.rec" -o /dev/null
  assert_equal "$status" 65
  run_split ora-actors --watermark 9007199254740992 </dev/null
  assert_equal "$status" 64
}

@test "actors: hostile state files are refused; the newest sound one at or below the checkpoint is the fallback" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  # sound states at 110 and 121
  ora-rec unpack --meta <"$D/a.rec" 2>/dev/null | jq -c 'select(.type=="CTRL" or .offset <= 110)' |
    ora-rec pack --meta 2>/dev/null | ora-actors --state-dir "$D/p" -o /dev/null 2>/dev/null
  ora-actors --state-dir "$D/q" -o /dev/null <"$D/a.rec" 2>/dev/null
  s110=$D/p/$(state_name 110) s121=$D/q/$(state_name 121)
  [ -f "$s110" ] && [ -f "$s121" ] || fail "no states: $(ls "$D/p" "$D/q")"
  fresh() { rm -rf "$D/s"; mkdir -m 700 "$D/s"; cp "$s110" "$D/s/"; echo 121 >"$D/ckpt"; }
  start() { run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" -o /dev/null </dev/null; }
  fallback_110() {
    assert_equal "$status" 75
    [[ "$stderr" == *"the newest sound state below it is 110: checkpoint lowered to 110"* ]] || fail "$stderr"
    assert_equal "$(cat "$D/ckpt")" "110"
    start
    assert_success
    [[ "$stderr" == *"loaded state 110"* ]] || fail "$stderr"
  }

  # 1. the W inside is not the W of the name
  fresh
  cp "$s110" "$D/s/$(state_name 121)"
  start
  [[ "$stderr" == *"$(state_name 121): holds W 110, not the 121 of its name: refused"* ]] || fail "$stderr"
  fallback_110

  # 2. a W above the committed checkpoint: never loaded
  fresh
  state_forge "$s121" "$D/s/$(state_name 121)" 150
  start
  [[ "$stderr" == *"$(state_name 121): holds W 150, above the committed checkpoint 121: refused"* ]] || fail "$stderr"
  fallback_110
  fresh
  cp "$s121" "$D/s/"
  state_forge "$s121" "$D/s/$(state_name 150)" 150
  start
  assert_success
  [[ "$stderr" == *"state 150 is newer than the committed checkpoint 121: not loaded"*"loaded state 121"* ]] || fail "$stderr"

  # 3. offset 2^62: in an applied-offset list, in a name, in the checkpoint
  fresh
  state_forge "$s121" "$D/s/$(state_name 121)" 121 "[122, 2**62]"
  start
  [[ "$stderr" == *"$(state_name 121): an applied offset outside the offset range: refused"* ]] || fail "$stderr"
  fallback_110
  fresh
  cp "$s121" "$D/s/"
  state_forge "$s121" "$D/s/actors-04611686018427387904.state" 4611686018427387904
  echo 4611686018427387904 >"$D/ckpt"
  start
  [[ "$stderr" == *"4611686018427387904 is outside the offset range"* ]] || fail "$stderr"
  assert_equal "$status" 75
  [[ "$stderr" == *"the newest sound state is 121: checkpoint lowered to 121"* ]] || fail "$stderr"
  assert_equal "$(cat "$D/ckpt")" "121"
  start
  assert_success

  # 4. 200k widely spaced applied offsets: refused (not within the window)
  fresh
  state_forge "$s121" "$D/s/$(state_name 121)" 121 "range(123, 123 + 200000 * 5000, 5000)"
  start
  [[ "$stderr" == *"$(state_name 121): applied offsets reach further above W than the --gap-limit window: refused"* ]] ||
    fail "$stderr"
  fallback_110
  # the same count densely: sound, loaded
  fresh
  state_forge "$s121" "$D/s/$(state_name 121)" 121 "range(123, 123 + 2 * 200000, 2)"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" --gap-limit 500000 --dump-state
  assert_success
  run jq -r 'select(.type=="watermark") | .applied_beyond | length' <<<"$output"
  assert_output "200000"

  # 5. a state file that is a symbolic link is refused
  fresh
  ln -s "$s121" "$D/s/$(state_name 121)"
  start
  [[ "$stderr" == *"$(state_name 121): Too many levels of symbolic links: refused"* ]] || fail "$stderr"
  fallback_110
}

@test "actors: a symbolic link at the temporary name is not followed; state files 0600 in a 0700 directory" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  mkdir -m 755 "$D/s"
  echo precious >"$D/victim"
  # the writer's temporary name holds its pid: exec keeps the shell's
  run_split bash -c 'ln -s "$1/victim" "$1/s/.actors-00000000000000000121.tmp.$$"; exec ora-actors --state-dir "$1/s" -i "$1/a.rec" -o /dev/null' _ "$D"
  assert_success
  assert_equal "$(cat "$D/victim")" "precious"
  f=$D/s/$(state_name 121)
  [ -f "$f" ] && [ ! -L "$f" ] || fail "no regular state file: $(ls -la "$D/s")"
  assert_equal "$(stat -c %a "$f")" "600"
  assert_equal "$(stat -c %a "$D/s")" "700"
  [[ "$stderr" == *"access for others removed"* ]] || fail "$stderr"
  run ls -a "$D/s"
  refute_output --partial ".tmp."
}

@test "actors: --state-dir (or ORA_STATE_DIR) makes DIR/checkpoint the checkpoint; no state newer than it is loaded" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  ora-rec unpack --meta <"$D/a.rec" 2>/dev/null | jq -c 'select(.type=="CTRL" or .offset <= 110)' |
    ora-rec pack --meta 2>/dev/null | ora-actors --state-dir "$D/s" -o /dev/null 2>/dev/null
  # no checkpoint committed yet: a start is empty, and writes 121
  run_split ora-actors --state-dir "$D/s" -i "$D/a.rec" -o "$D/1.rec"
  assert_success
  [[ "$stderr" == *"no committed checkpoint in $D/s/checkpoint: starting empty"* ]] || fail "$stderr"
  [ -f "$D/s/$(state_name 110)" ] && [ -f "$D/s/$(state_name 121)" ] || fail "$(ls "$D/s")"
  # kinesis-put committed 110 only
  echo 110 >"$D/s/checkpoint"
  run_split ora-actors --state-dir "$D/s" -o /dev/null </dev/null
  assert_success
  [[ "$stderr" == *"state 121 is newer than the committed checkpoint 110: not loaded"*"loaded state 110"* ]] || fail "$stderr"
  ORA_STATE_DIR=$D/s run_split ora-actors --dump-state
  assert_line --index 0 --partial '"w":110,'
  # --checkpoint (or ORA_CHECKPOINT) names another file
  echo 121 >"$D/ckpt"
  run_split ora-actors --state-dir "$D/s" --checkpoint "$D/ckpt" --dump-state
  assert_line --index 0 --partial '"w":121,'
  ORA_CHECKPOINT=$D/ckpt run_split ora-actors --state-dir "$D/s" --dump-state
  assert_line --index 0 --partial '"w":121,'
}

@test "actors: a checkpoint every few seconds by default" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  act_fed 60 ora-actors --state-dir "$D/s"
  # the input stays open: only the periodic checkpoint (default 5 s) writes one
  for i in $(seq 300); do
    [ -n "$(ckpt_offsets "$D/out.rec")" ] && break
    sleep 0.1
  done
  assert_equal "$(ckpt_offsets "$D/out.rec")" "121"
  kill -PIPE -- -"$FPID"; FPID=
  wait "$APID" || true
  APID=
}

@test "actors: a state file is committed write, fsync(temporary), rename, fsync(directory), in that order (strace)" {
  strace -f -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
  # LeakSanitizer (ASan builds) cannot run under ptrace
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
  printf '%s\n' '{"offset":1,"betOfferAdded":{"betOffer":{"id":5001,"eventId":1001,"status":"OPEN","outcomes":[]}}}' |
    ora-rec pack 2>/dev/null >"$D/m.rec"
  for mode in final periodic; do
    rm -rf "$D/s"
    if [ $mode = final ]; then
      strace -f -e trace=openat,open,write,fsync,fdatasync,rename,renameat,renameat2,close -o "$D/trace" \
        ora-actors --state-dir "$D/s" --watermark 0 --checkpoint-interval 0 -i "$D/m.rec" -o /dev/null 2>/dev/null
    else
      # the forked writer: input held open until its checkpoint record is out
      mkfifo "$D/fifo.$mode"
      strace -f -e trace=openat,open,write,fsync,fdatasync,rename,renameat,renameat2,close -o "$D/trace" \
        ora-actors --state-dir "$D/s" --watermark 0 --checkpoint-interval 0.2 -o "$D/p.rec" <"$D/fifo.$mode" 2>/dev/null &
      APID=$!
      D="$D" setsid bash -c 'cat "$D/m.rec"; sleep 30' >"$D/fifo.$mode" &
      FPID=$!
      for i in $(seq 150); do
        [ -n "$(ckpt_offsets "$D/p.rec")" ] && break
        sleep 0.1
      done
      kill -PIPE -- -"$FPID"; FPID=
      wait "$APID" || true
      APID=
    fi
    run python3 - "$D/trace" "$D/s" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
d = sys.argv[2]
ev, tmpfd, dirfd, tmp, final = [], {}, {}, None, None
for n, l in enumerate(lines):
    pid = l.split()[0]
    m = re.search(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]+)".*\) = (\d+)', l)
    if m and "/.actors-" in m.group(1) and ".tmp." in m.group(1):
        tmp, tmpfd[pid] = m.group(1), m.group(2); ev.append(("open", pid)); continue
    if m and m.group(1) == d:
        dirfd[pid] = m.group(2); continue
    m = re.match(r'\S+\s+write\((\d+),', l)
    if m and tmpfd.get(pid) == m.group(1):
        ev.append(("write", pid)); continue
    m = re.match(r'\S+\s+(?:fsync|fdatasync)\((\d+)\)\s+= 0', l)
    if m and tmpfd.get(pid) == m.group(1):
        ev.append(("fsync-file", pid)); continue
    if m and dirfd.get(pid) == m.group(1):
        ev.append(("fsync-dir", pid)); continue
    m = re.match(r'\S+\s+close\((\d+)\)', l)
    if m and tmpfd.get(pid) == m.group(1):
        ev.append(("close", pid)); tmpfd[pid] = None; continue
    m = re.search(r'rename(?:at2?)?\(.*"([^"]+\.tmp\.\d+)".*"([^"]+\.state)"', l)
    if m:
        ev.append(("rename", pid)); continue
seq = []
for e, _ in ev:
    if not seq or seq[-1] != e:
        seq.append(e)
print(" ".join(seq))
PY
    assert_output "open write fsync-file close rename fsync-dir"
  done
}

@test "actors: a final state that cannot be written exits 74, and no checkpoint record says otherwise" {
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  for fault in fail-fsync fail-write; do
    # the shim for ora-actors alone (an ASan build's shim needs its runtime)
    run_split env LD_PRELOAD="$SHIM" STATEFAULT=$fault ora-actors --state-dir "$D/s.$fault" --checkpoint-interval 0 -i "$D/a.rec" -o "$D/out.rec"
    assert_equal "$status" 74
    [[ "$stderr" == *"ora-actors: error: unable to write final state: "* ]] || fail "$stderr"
    assert_equal "$(ckpt_offsets "$D/out.rec")" ""
    run ls -A "$D/s.$fault"
    assert_output ""
  done
}

@test "actors: --metrics writes the README's families, valid for promtool, periodically and at exit" {
  command -v promtool >/dev/null || skip "promtool not installed"
  act_rec "$AFIX/odds.jsonl" "$D/a.rec"
  mkfifo "$D/fifo"
  ora-actors --state-dir "$D/s" --metrics "$D/m.prom" --metrics-interval 0.2 <"$D/fifo" >"$D/out.rec" 2>"$D/err" &
  APID=$!
  D="$D" setsid bash -c 'cat "$D/a.rec"; sleep 60' >"$D/fifo" &
  FPID=$!
  # written while the input is still open
  for i in $(seq 100); do
    grep -q '^ora_actors_watermark{stage="actors"} 121$' "$D/m.prom" 2>/dev/null && break
    sleep 0.1
  done
  run promtool check metrics <"$D/m.prom"
  assert_success
  grep -q '^ora_actors_watermark{stage="actors"} 121$' "$D/m.prom" || fail "$(cat "$D/m.prom")"
  kill -PIPE -- -"$FPID"; FPID=
  wait "$APID" || fail "ora-actors failed: $(cat "$D/err")"
  APID=
  run promtool check metrics <"$D/m.prom"
  assert_success
  # the exit's values: the same counts as the summary line
  val() { sed -nE "s/^$1\{stage=\"actors\"(,$2)?\} ([0-9.e+-]+)$/\2/p" "$D/m.prom"; }
  assert_equal "$(val ora_actors_outputs_total 'type="in_game_odds_update"')" "4"
  assert_equal "$(val ora_actors_outputs_total 'type="bet_offer_opened"')" "5"
  assert_equal "$(val ora_actors_outputs_total 'type="event_data"')" "2"
  applied=$(sed -nE 's/.* msgs \([^)]*\), ([0-9]+) applied.*/\1/p' "$D/err")
  assert_equal "$(val ora_actors_messages_total 'result="applied"')" "$applied"
  assert_equal "$(val ora_actors_live 'actor="bet_offer"')" "5"
  assert_equal "$(val ora_actors_live 'actor="event"')" "2"
  assert_equal "$(val ora_actors_checkpoint_duration_seconds_count)" "1"
  for f in ora_actors_messages_total ora_actors_outputs_total ora_actors_watermark ora_actors_live \
    ora_actors_bytes_per_actor ora_actors_checkpoint_duration_seconds ora_actors_fork_stall_seconds ora_build_info; do
    grep -q "^# TYPE $f " "$D/m.prom" || fail "no $f"
  done
  grep -q 'summary: 21 msgs' "$D/err" || fail "$(cat "$D/err")"
}
