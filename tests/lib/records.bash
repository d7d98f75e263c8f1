# tests/lib/records.bash: helpers for tests/records.bats and tests/rec-cli.bats.
RFIX=$FIXTURES/records
REC_PY=$TOP/tests/lib/records.py

recpy() { python3 "$REC_PY" "$@"; }

# Tests of a known, reported bug call `known_bug "why"` first: they are skipped
# (so main stays green) unless ORA_TEST_KNOWN_BUGS=1. Once the bug is fixed,
# delete the known_bug line.
known_bug() {
  [[ ${ORA_TEST_KNOWN_BUGS:-0} == 1 ]] || skip "known bug: $*"
}

# assert_warned AT SKIPPED: $stderr has a warning naming byte offset AT and SKIPPED bytes.
assert_warned() {
  local at=$1 n=$2
  grep -E "^ora-rec: warning: .*\b$n bytes\b.*byte offset $at\b|^ora-rec: warning: .*byte offset $at\b.*\b$n bytes\b" <<<"$stderr" >/dev/null ||
    fail "no warning naming byte offset $at ($n bytes) in: $stderr"
}

# count_warnings: number of warning lines in $stderr.
count_warnings() { grep -c '^ora-rec: warning:' <<<"$stderr" || true; }

# Line N (1-based) of a file removed.
without_line() { sed "${2}d" "$1"; }

# Byte offset where record K (0-based) of a sound stream starts, and its payload length.
rec_start() { recpy starts "$1" | sed -n "$(($2 + 1))p" | cut -d' ' -f1; }
rec_len() { recpy starts "$1" | sed -n "$(($2 + 1))p" | cut -d' ' -f2; }

# run_to_files cmd...: like run_split but stdout goes to $BATS_TEST_TMPDIR/out (large
# outputs stay out of bash variables); sets $status and $stderr.
run_to_files() {
  status=0 output="(stdout in $BATS_TEST_TMPDIR/out)"
  "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
  stderr=$(cat "$BATS_TEST_TMPDIR/err")
}

# stderr_has REGEX: some line of $stderr matches the extended REGEX.
stderr_has() {
  grep -qE -- "$1" <<<"$stderr" || fail "no stderr line matches /$1/ in: $stderr"
}

# warned_ranges: "AT SKIPPED" for each warning in $stderr that names a byte offset.
warned_ranges() {
  grep '^ora-rec: warning: .*byte offset' <<<"$stderr" |
    sed -E 's/^.*[^0-9]([0-9]+) bytes.* byte offset ([0-9]+).*$/\2 \1/; t; s/^.*byte offset ([0-9]+).*[^0-9]([0-9]+) bytes.*$/\1 \2/' || true
}

# merge_ranges: "AT LEN" lines in, adjacent ranges joined, "AT+LEN" words out (sorted).
merge_ranges() {
  sort -n | awk 'NF == 2 { if (have && $1 == at + len) { len += $2; next } if (have) printf "%d+%d ", at, len; at = $1; len = $2; have = 1 }
    END { if (have) printf "%d+%d", at, len }'
}
