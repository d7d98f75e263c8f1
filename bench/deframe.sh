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
echo "bytes (as TLS reads come); median of $BENCH_RUNS runs; output to /dev/null."
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
  tb=$(median_secs "'$BB/zlib_frames' < '$raw'")
  t2=$(median_secs "ora-deframe < '$rec'")
  t1=$(median_secs "ora-deframe --threads 1 < '$rec'")
  tr=$(median_secs "ora-deframe --raw < '$raw'")
  rb=$(rate "$n" "$tb")
  for row in "zlib_frames (baseline)|$tb" "ora-deframe (WIRE records, 2 threads)|$t2" \
             "ora-deframe --threads 1|$t1" "ora-deframe --raw|$tr"; do
    t=${row#*|}
    r=$(rate "$n" "$t")
    echo "| $pm | ${row%|*} | $t | $r | $(ratio "$r" "$rb") |"
  done
done
echo
