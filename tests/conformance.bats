#!/usr/bin/env bats
# Conformance of ora-actors to the ORA entity model and the reference's rules
# (doc/design.md §2-3): hand-written pairs in tests/fixtures/conformance/, each an
# input of ORA messages (NAME.in.jsonl, one envelope a line, '#' lines are
# comments) and the outputs the rules require (NAME.out.jsonl, as
# kinesis-put --stdout prints them, msg_datetime left out: it is the receive
# time). Written from design.md alone, never produced by a tool of ours.
# Each input goes through ora-rec pack | ora-order -b 1 -t 0 | ora-actors |
# kinesis-put --stdout; outputs are compared per partition key, in order,
# every field but msg_datetime, numbers as written.

load helper
load lib/actors

conform() {
  conf_run "$1" >"$BATS_TEST_TMPDIR/got.jsonl"
  run conf_compare "$FIXTURES/conformance/$1.out.jsonl" "$BATS_TEST_TMPDIR/got.jsonl"
  [ "$status" -eq 0 ] || fail "$1: $output"
}

@test "conformance: every pair has its input and its expected output" {
  n=0
  for f in "$FIXTURES"/conformance/*.in.jsonl; do
    [ -f "${f%.in.jsonl}.out.jsonl" ] || fail "no expected output for $f"
    n=$((n + 1))
  done
  [ "$n" -ge 17 ] || fail "only $n pairs"
}

@test "conformance: event_data on creation and on startsAt, sport, group.id, participants" { conform event_data; }
@test "conformance: bet_offer_opened on a creation with status OPEN only" { conform bet_offer_opened; }
@test "conformance: bet_offer_closed when the status changes to CLOSED" { conform bet_offer_closed; }
@test "conformance: in_game_odds_update carries the updated outcome alone" { conform in_game_odds_update; }
@test "conformance: missing or malformed translations give null" {
  conform missing_translations
  grep -Eq ' [1-9][0-9]* missing fields' "$BATS_TEST_TMPDIR/missing_translations.err" ||
    fail "missing fields not counted: $(cat "$BATS_TEST_TMPDIR/missing_translations.err")"
}
@test "conformance: a line type change switches in_game_odds_update off and on" { conform line_type_switch; }
@test "conformance: no in_game_odds_update unless the event is STARTED" { conform event_not_started; }
@test "conformance: no in_game_odds_update for a criterion not watched" { conform criterion_not_watched; }
@test "conformance: no in_game_odds_update without OFFERED_LIVE" { conform tags_without_live; }
@test "conformance: betOfferUpdated merges outcomes by id, each replaced whole" { conform outcome_merge; }
@test "conformance: odds or status of an unknown outcome add it with what is known" { conform unknown_outcome; }
@test "conformance: SUSPENDED surfaces nothing; an unknown status surfaces nothing, counted" {
  conform suspended
  grep -q ' 1 unknown statuses' "$BATS_TEST_TMPDIR/suspended.err" || fail "$(cat "$BATS_TEST_TMPDIR/suspended.err")"
}
@test "conformance: a status changed by an add or update of a known offer surfaces nothing" { conform status_by_update; }
@test "conformance: a delete then an immediate re-add leaves a fresh actor" { conform delete_readd; }
@test "conformance: updates queued for an actor that arrives later, in arrival order; an unknown delete drops them" { conform queued; }
@test "conformance: decimals pass through as written" { conform decimals; }
@test "conformance: jurisdiction_mask sums the names' bits, twice for a name listed twice, 0 for unknown names" {
  conform jurisdiction_mask
  grep -q ' 2 unknown offerings' "$BATS_TEST_TMPDIR/jurisdiction_mask.err" || fail "$(cat "$BATS_TEST_TMPDIR/jurisdiction_mask.err")"
}

@test "conformance: the oracle (tests/tools/actors-expect.py) agrees with every pair" {
  for f in "$FIXTURES"/conformance/*.in.jsonl; do
    name=$(basename "$f" .in.jsonl)
    "$TOP/tests/tools/actors-expect.py" expect-put "$f" >"$BATS_TEST_TMPDIR/$name.oracle.jsonl"
    run conf_compare "$FIXTURES/conformance/$name.out.jsonl" "$BATS_TEST_TMPDIR/$name.oracle.jsonl"
    [ "$status" -eq 0 ] || fail "oracle on $name: $output"
  done
}
