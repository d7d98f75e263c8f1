# tests/lib/deframe.bash: helpers for tests/deframe.bats.
DF_PY="$TOP/tests/lib/deframe.py"

# The data lines of the fixtures (no session messages) in $T/data.jsonl,
# the whole fixture in $T/all.jsonl.
df_setup() {
  T=$BATS_TEST_TMPDIR
  jq -c 'select(has("type") | not)' "$FIXTURES/ora-messages.jsonl" > "$T/data.jsonl"
  cp "$FIXTURES/ora-messages.jsonl" "$T/all.jsonl"
}

# Meta lines (deframe.py ...) to records: df_pack < lines > records
df_pack() { ora-rec pack --meta 2>/dev/null; }

# The session message of the fixture with the given type.
df_session() { jq -c --arg t "$1" 'select(.type == $t)' "$FIXTURES/ora-messages.jsonl"; }

# Records in, "TYPE kind flow offset conn" per record out (jq).
df_meta() {
  ora-rec unpack --meta 2>/dev/null |
    jq -r '[.type, (.kind // "-"), (.flow // "-"), (.offset // -1 | tostring), (.conn // 0 | tostring)] | join(" ")'
}

# df_with_sessions IN OUT: IN's lines with SESSION_SNAPSHOT_COMPLETED after
# 40% of them, SESSION_REPLAY_COMPLETED after 80%, a ping every 10%.
df_with_sessions() {
  local n
  n=$(wc -l < "$1")
  awk -v n="$n" -v snap="$(df_session SESSION_SNAPSHOT_COMPLETED)" -v rep="$(df_session SESSION_REPLAY_COMPLETED)" \
      -v ping="$(df_session SESSION_PING)" '
    { print }
    NR == int(n * 0.4) { print snap }
    NR == int(n * 0.8) { print rep }
    NR % int(n / 10) == 0 { print ping }' "$1" > "$2"
}

# df_flows < records: "COUNT flow" per flow of the MSG records.
df_flows() {
  ora-rec unpack --meta 2>/dev/null | grep '^{"type":"MSG"' | grep -o '"flow":"[a-z]*"' | sort | uniq -c |
    awk '{ print $1, $2 }'
}
