# tests/lib/actors.bash: helpers for tests/actors.bats.
AEXP="$TOP/tests/tools/actors-expect.py"
AFIX="$FIXTURES/actors"

# act_rec SCEN OUT.rec [--unrouted]: the scenario as records.
act_rec() {
  "$AEXP" records "$1" "${@:3}" | ora-rec pack --meta 2>/dev/null >"$2"
}

# act_cmp EXPECTED.jsonl OUT.rec [--dups-ok]: OUT records equal the expectation.
act_cmp() {
  ora-rec unpack --meta <"$2" 2>/dev/null >"$2.jsonl"
  "$AEXP" compare "$1" "$2.jsonl" "${@:3}"
}

# act_types OUT.rec: the data types of OUT records, space separated.
act_types() {
  ora-rec unpack --meta <"$1" 2>/dev/null | jq -r 'select(.type=="OUT") | .data.type' | tr '\n' ' ' | sed 's/ $//'
}

# act_scenario NAME [ora-actors options]: runs a fixture scenario and
# compares with the independent model given the same options.
act_scenario() {
  local s=$AFIX/$1.jsonl d=$BATS_TEST_TMPDIR
  shift
  act_rec "$s" "$d/in.rec"
  ora-actors "$@" <"$d/in.rec" >"$d/out.rec" 2>"$d/err" || { cat "$d/err"; return 1; }
  "$AEXP" expect "$s" "$@" >"$d/exp.jsonl"
  act_cmp "$d/exp.jsonl" "$d/out.rec"
}

# ctrl_offsets OUT.rec: the offsets of checkpoint CTRL records.
ckpt_offsets() {
  ora-rec unpack --meta <"$1" 2>/dev/null | jq -r 'select(.type=="CTRL" and .data.ctrl=="checkpoint") | .data.offset' | tr '\n' ' ' | sed 's/ $//'
}
