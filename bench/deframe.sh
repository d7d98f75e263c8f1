#!/usr/bin/env bash
# ora-deframe beside bare zlib (issue 3): messages/s of ora-deframe on the
# ORA wire form of realistic messages, against bench/zlib_frames (inflate +
# frame split only, no records, no output) on the same bytes in the same
# run. Goal: >= 0.9x. Also checks that the output is identical to the input.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=$(scaled 500000)
src=$BENCH_TMP/deframe-$n.jsonl
[[ -s $src ]] || "$BB/genmsgs" "$n" 1 > "$src"
bytes=$(stat -c %s "$src")
echo "### ora-deframe vs bare zlib (issue 3)"
echo
echo "$n generated messages ($((bytes / n)) bytes each on average); WIRE records cut at 1024..16384"
echo "bytes (as TLS reads come); median of $BENCH_RUNS rounds in which the five commands take"
echo "turns; output to /dev/null."
echo "Baseline: \`bench/zlib_frames\` on the raw bytes (inflate + frame split only)."
echo
echo "| frames per member | what | seconds | messages/s | vs zlib |"
echo "|---|---|---|---|---|"
for pm in 1 1..16; do
  tag=${pm/../-}
  raw=$BENCH_TMP/deframe-$n-$tag.raw rec=$BENCH_TMP/deframe-$n-$tag.rec
  [[ -s $raw ]] || ora-rec wire --per-member "$pm" --raw --seed 1 < "$src" > "$raw" 2>/dev/null
  [[ -s $rec ]] || ora-rec wire --per-member "$pm" --chunk 1024..16384 --seed 1 < "$src" > "$rec" 2>/dev/null
  # correctness first: every message back, in order
  ora-deframe < "$rec" 2>/dev/null | ora-rec unpack 2>/dev/null | cmp -s - "$src" ||
    { echo "ora-deframe output differs from the input ($pm per member)" >&2; exit 1; }
  ora-deframe --raw < "$raw" 2>/dev/null | ora-rec unpack 2>/dev/null | cmp -s - "$src" ||
    { echo "ora-deframe --raw output differs from the input ($pm per member)" >&2; exit 1; }
  [[ "$("$BB/zlib_frames" < "$raw")" == "$n "* ]] || { echo "zlib_frames miscounted" >&2; exit 1; }
  cat "$raw" "$rec" > /dev/null   # page cache
  # the four commands take turns in every round, so that a busy machine
  # weighs on all of them alike
  infl=$BENCH_TMP/deframe-$n.infl
  [[ -s $infl ]] || ora-rec wire --inflated --seed 1 < "$src" > "$infl" 2>/dev/null
  cat "$infl" > /dev/null
  cmds=("'$BB/zlib_frames' < '$raw'" "ora-deframe < '$rec'" "ora-deframe --threads 1 < '$rec'"
        "ora-deframe --raw < '$raw'" "ora-deframe < '$infl'")
  : > "$BENCH_TMP/.deframe-times"
  for ((i = 0; i < BENCH_RUNS; i++)); do
    for c in 0 1 2 3 4; do
      /usr/bin/time -o "$BENCH_TMP/.time" -f %e bash -c "${cmds[$c]}" > /dev/null 2>&1
      echo "$c $(tail -1 "$BENCH_TMP/.time")" >> "$BENCH_TMP/.deframe-times"
    done
  done
  med() { awk -v c="$1" '$1 == c { print $2 }' "$BENCH_TMP/.deframe-times" | sort -g |
          awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  tb=$(med 0) t2=$(med 1) t1=$(med 2) tr=$(med 3) ti=$(med 4)
  rb=$(rate "$n" "$tb")
  for row in "zlib_frames (baseline)|$tb" "ora-deframe (WIRE records, 2 threads)|$t2" \
             "ora-deframe --threads 1|$t1" "ora-deframe --raw|$tr" \
             "ora-deframe, WIRE records flagged INFLATED (ora-connect's default)|$ti"; do
    t=${row#*|}
    r=$(rate "$n" "$t")
    echo "| $pm | ${row%|*} | $t | $r | $(ratio "$r" "$rb") |"
  done
done
# Done means: the same with session messages, as records and raw, flows right.
fx=$TOP/tests/fixtures/ora-messages.jsonl
sess() { jq -c --arg t "$1" 'select(.type == $t)' "$fx"; }
awk -v n="$n" -v snap="$(sess SESSION_SNAPSHOT_COMPLETED)" -v rep="$(sess SESSION_REPLAY_COMPLETED)" \
    -v ping="$(sess SESSION_PING)" '{ print } NR == int(n * 0.4) { print snap } NR == int(n * 0.8) { print rep }
    NR % int(n / 10) == 0 { print ping }' "$src" > "$BENCH_TMP/deframe-sess.jsonl"
want="$((n * 4 / 10)) snapshot, $((n * 4 / 10)) replay, $((n - n * 8 / 10)) realtime"
check() {
  ora-deframe --flow snapshot "$@" 2>/dev/null > "$BENCH_TMP/deframe-out.rec"
  ora-rec unpack < "$BENCH_TMP/deframe-out.rec" 2>/dev/null | grep -v '^{"ctrl"' | cmp -s - "$src" || return 1
  got=$(ora-rec unpack --meta < "$BENCH_TMP/deframe-out.rec" 2>/dev/null | grep '^{"type":"MSG"' |
        grep -o '"flow":"[a-z]*"' | sort | uniq -c | awk '{ gsub(/"/, "", $2); sub(/flow:/, "", $2); print $1 " " $2 }' |
        sort -k2,2r | paste -sd, | sed 's/,/, /g')
  [[ $got == "$want" ]]
}
ok1=no ok2=no
ora-rec wire --per-member 1..16 --chunk 1..3000 --seed 11 < "$BENCH_TMP/deframe-sess.jsonl" 2>/dev/null | check && ok1=yes
ora-rec wire --per-member 1..16 --raw --seed 12 < "$BENCH_TMP/deframe-sess.jsonl" 2>/dev/null | check --raw && ok2=yes
echo
echo "Correctness at this size: every message back in order as records and with --raw, at 1 and"
echo "1..16 frames per member; with session messages inserted ($want),"
echo "cut at 1..3000 bytes: records $ok1, --raw $ok2."
echo
[[ $ok1 == yes && $ok2 == yes ]]
