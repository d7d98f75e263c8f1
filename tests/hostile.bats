#!/usr/bin/env bats
# Hostile offsets through the whole offline pipeline (issue 15.1): one bad
# offset in the feed must neither stop the pipeline nor move its checkpoint.
# The input is a hand-written conformance pair (tests/fixtures/conformance/
# bet_offer_opened) with a hostile message inserted after its second line;
# the outputs must be exactly the pair's expected ones, the checkpoint the
# pair's last offset, and a second run over the same state must start.
# Both ways into the pipeline are taken: the gzip wire stream through
# ora-deframe --raw, and records packed by ora-rec straight into ora-order.

load helper
load lib/actors

PAIR=bet_offer_opened
# The hostile lines, one per case; all name an actor the pair also uses, so
# a message that got through would change the outputs.
HOSTILE=(
  '{"offset":9223372036854775807,"somethingNew":{"id":1}}'
  '{"offset":9223372036854775807,"betOfferStatusUpdated":{"id":5001,"status":"CLOSED"}}'
  '{"offset":9007199254740992,"betOfferStatusUpdated":{"id":5001,"status":"CLOSED"}}'
  '{"offset":-1,"betOfferStatusUpdated":{"id":5001,"status":"CLOSED"}}'
  '{"offset":"3","betOfferStatusUpdated":{"id":5001,"status":"CLOSED"}}'
  '{"offset":9007199254740991,"betOfferStatusUpdated":{"id":5001,"status":"CLOSED"}}'
  '{"offset":9007199254740991,"somethingNew":{"id":1}}'
)

setup() {
  T=$BATS_TEST_TMPDIR
  grep -v '^#' "$FIXTURES/conformance/$PAIR.in.jsonl" >"$T/pair.jsonl"
  # the pair's checkpoint: its highest offset
  last=$(jq -s 'map(.offset) | max' "$T/pair.jsonl")
  [ "$last" -ge 3 ] || fail "pair $PAIR has no offsets"
}

# feed WAY LINE > records: the pair with LINE after its second message, as
# records for ora-order (WAY: wire or pack).
feed() {
  { head -2 "$T/pair.jsonl"; printf '%s\n' "$2"; tail -n +3 "$T/pair.jsonl"; } >"$T/in.jsonl"
  case $1 in
    wire) python3 "$TOP/tests/lib/deframe.py" gz <"$T/in.jsonl" | ora-deframe --raw --flow realtime 2>>"$T/err" ;;
    pack) ora-rec pack --flow realtime <"$T/in.jsonl" 2>>"$T/err" ;;
  esac
}

# pipeline WAY LINE STATE > outputs; every stage's status in $T/status.
pipeline() {
  feed "$1" "$2" | ora-order -b 1 -t 0 2>>"$T/err" |
    ora-actors --state-dir "$3" --watermark 0 2>>"$T/err" |
    kinesis-put --stdout --state-dir "$3" 2>>"$T/err"
  echo "${PIPESTATUS[*]}" >"$T/status"
}

check_case() {
  local way=$1 line=$2 s="$T/state-$RANDOM"
  : >"$T/err"
  pipeline "$way" "$line" "$s" >"$T/got.jsonl"
  # feed, ora-order, ora-actors, kinesis-put: all 0
  [ "$(cat "$T/status")" = "0 0 0 0" ] ||
    fail "$way $line: exit statuses $(cat "$T/status"): $(cat "$T/err")"
  run conf_compare "$FIXTURES/conformance/$PAIR.out.jsonl" "$T/got.jsonl"
  [ "$status" -eq 0 ] || fail "$way $line: $output"
  [ "$(cat "$s/checkpoint")" = "$last" ] || fail "$way $line: checkpoint $(cat "$s/checkpoint"), not $last"
  for f in "$s"/actors-*.state; do
    [ "$f" = "$s/actors-$(printf '%020d' "$last").state" ] || fail "$way $line: state file $f"
  done
  # the skipped message was reported, not silently dropped
  grep -Eq 'outside 0\.\.2\^53-1|too far above the watermark|without a valid|no valid "offset"' "$T/err" ||
    fail "$way $line: no warning: $(cat "$T/err")"
  # and the next run starts from that state: everything is a duplicate
  : >"$T/err"
  pipeline "$way" "$line" "$s" >"$T/again.jsonl"
  [ "$(cut -d' ' -f2- "$T/status")" = "0 0 0" ] || fail "$way $line: second run: $(cat "$T/status"): $(cat "$T/err")"
  [ ! -s "$T/again.jsonl" ] || fail "$way $line: second run wrote $(wc -l <"$T/again.jsonl") outputs"
  [ "$(cat "$s/checkpoint")" = "$last" ] || fail "$way $line: checkpoint moved to $(cat "$s/checkpoint")"
}

@test "hostile offsets: the wire stream through ora-deframe --raw | ora-order | ora-actors | kinesis-put" {
  for line in "${HOSTILE[@]}"; do check_case wire "$line"; done
}

@test "hostile offsets: records packed straight into ora-order | ora-actors | kinesis-put" {
  for line in "${HOSTILE[@]}"; do check_case pack "$line"; done
}

@test "hostile offsets: a record whose header offset is out of range and whose payload has none" {
  # ora-order must not keep the header's INT64_MAX for a message without its own offset
  : >"$T/err"
  s="$T/st"
  {
    head -2 "$T/pair.jsonl" | ora-rec pack --flow realtime
    echo '{"type":"MSG","flow":"realtime","offset":9223372036854775807,"data":{"somethingNew":{"id":1}}}' | ora-rec pack --meta
    tail -n +3 "$T/pair.jsonl" | ora-rec pack --flow realtime
  } 2>>"$T/err" | ora-order -b 1 -t 0 2>>"$T/err" | ora-actors --state-dir "$s" --watermark 0 2>>"$T/err" |
    kinesis-put --stdout --state-dir "$s" >"$T/got.jsonl" 2>>"$T/err"
  [ "${PIPESTATUS[*]}" = "0 0 0 0" ] || fail "statuses ${PIPESTATUS[*]}: $(cat "$T/err")"
  run conf_compare "$FIXTURES/conformance/$PAIR.out.jsonl" "$T/got.jsonl"
  [ "$status" -eq 0 ] || fail "$output"
  [ "$(cat "$s/checkpoint")" = "$last" ] || fail "checkpoint $(cat "$s/checkpoint")"
}
