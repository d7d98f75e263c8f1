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
