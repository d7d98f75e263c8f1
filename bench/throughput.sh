#!/usr/bin/env bash
# The batch-replay goals (issue 19), side by side in one run: on the same
# realistic messages (ora-sim's model, 1..8 frames per gzip member),
#   the offline pipeline  vs  jq -c .offset     goal >= 2x
#   ora-order             vs  jq -c .offset     goal >= 3x in every round
#   ora-deframe --raw     vs  bare zlib + split goal >= 0.9x
# and the cost of --metrics on each of our stages (issue 17, goal <= 2%).
# Every round runs every command once, in turn, so that a busy machine
# weighs on all of them alike; figures are medians over the rounds, and the
# ratios are taken within each round (their median and their minimum).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

d=$BENCH_TMP/throughput
mkdir -p "$d"
n=$(scaled 500000)
runs=$((BENCH_RUNS < 3 ? 3 : BENCH_RUNS))

msgs=$d/msgs-$n.jsonl raw=$d/cap-$n.raw rec=$d/msgs-$n.rec routed=$d/routed-$n.rec
if [[ ! -s $msgs ]]; then
  ora-sim --seed 1 --events 2000 --dump --count "$n" -o "$msgs.tmp" 2>/dev/null
  mv "$msgs.tmp" "$msgs"
fi
lines=$(wc -l < "$msgs")
[[ -s $raw ]] || ora-rec wire --per-member 1..8 --chunk 1..16384 --seed 1 --raw -i "$msgs" -o "$raw" 2>/dev/null
ora-deframe --raw -i "$raw" -o "$rec" 2>/dev/null
ora-order -i "$rec" -o "$routed" 2>/dev/null
# correctness first: every message back, and ora-order loses none
ora-rec unpack -i "$rec" 2>/dev/null | cmp -s - "$msgs" || { echo "ora-deframe --raw output differs from the input" >&2; exit 1; }
[[ "$(ora-rec stats -i "$routed" 2>/dev/null | awk '$1 == "MSG" { print $2 }')" == "$lines" ]] ||
  { echo "ora-order lost messages" >&2; exit 1; }
cat "$raw" "$rec" "$msgs" > /dev/null   # page cache

pipe() {   # the offline pipeline; $1: extra flags for each stage
  echo "rm -rf '$d/st' && mkdir '$d/st' && ora-deframe --raw $1 -i '$raw' | ora-order $2 | ora-actors --state-dir '$d/st' | kinesis-put --stdout"
}
m=$d/metrics
names=(zlib jq deframe order pipeline actors deframe_m order_m pipeline_m)
cmds=("'$BB/zlib_frames' < '$raw'"
      "jq -c .offset '$msgs'"
      "ora-deframe --raw -i '$raw'"
      "ora-order -i '$rec'"
      "$(pipe "" "")"
      "rm -rf '$d/sa' && mkdir '$d/sa' && ora-actors --state-dir '$d/sa' -i '$routed'"
      "ora-deframe --raw --metrics '$m.deframe' --metrics-interval 1 -i '$raw'"
      "ora-order --metrics '$m.order' --metrics-interval 1 -i '$rec'"
      "$(pipe "--metrics '$m.pd' --metrics-interval 1" "--metrics '$m.po' --metrics-interval 1")")
# metrics rows only when the stages take --metrics
ora-order --help 2>/dev/null | grep -q -- --metrics || names=("${names[@]:0:6}")

times=$d/times
: > "$times"
for ((r = 0; r < runs; r++)); do
  for i in "${!names[@]}"; do
    /usr/bin/time -o "$d/.time" -f '%e %U %S' bash -c "${cmds[$i]}" > /dev/null 2>"$d/.err" ||
      { cat "$d/.err" >&2; echo "bench: ${names[$i]} failed" >&2; exit 1; }
    echo "$r ${names[$i]} $(tail -1 "$d/.time")" >> "$times"
  done
done

# med NAME [FIELD]: median of a column (3: wall, 4+5: CPU) over the rounds
med() {
  awk -v n="$1" -v f="${2:-3}" '$2 == n { print (f == "cpu" ? $4 + $5 : $f) }' "$times" | sort -g |
    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
# ratios A B [cpu]: per round B/A (A's speed over B's) in wall-clock (or CPU)
# time, as "median min"
ratios() {
  awk -v a="$1" -v b="$2" -v cpu="${3:-}" '{ t = cpu ? $4 + $5 : $3 } $2 == a { ta[$1] = t } $2 == b { tb[$1] = t }
    END { for (r in ta) if (ta[r] > 0) print tb[r] / ta[r] }' "$times" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int((NR + 1) / 2)], v[1] }'
}
row() {   # row WHAT NAME BASE_NAME GOAL
  local t c rmed rmin ok
  t=$(med "$2"); c=$(med "$2" cpu)
  read -r rmed rmin < <(ratios "$2" "$3")
  rmed=$(printf '%.2f' "$rmed") rmin=$(printf '%.2f' "$rmin")
  ok=$(awk -v r="$rmed" -v m="$rmin" -v g="$4" -v every="${5:-}" \
        'BEGIN { print ((every ? m : r) >= g ? "yes" : "**no**") }')
  echo "| $1 | $t | $(rate "$lines" "$t") | $c | $(med "$3") | ${rmed}× (lowest ${rmin}×) | ≥ ${4}×${5:+ in every round} | $ok |"
}

echo "### Batch replay: the goals of issue 19"
echo
echo "$lines messages from ora-sim's model ($(( $(stat -c %s "$msgs") >> 20 )) MiB of JSON lines," \
     "$(( $(stat -c %s "$raw") >> 20 )) MiB on the wire, 1..8 frames per gzip member, cut into 1..16384-byte" \
     "reads). $runs rounds; in each round every command runs once, in turn; seconds are wall-clock" \
     "medians, CPU is user + system, and each ratio is taken within a round (its median over the rounds," \
     "and the lowest). The pipeline is \`ora-deframe --raw | ora-order | ora-actors | kinesis-put --stdout\`" \
     "(4 processes on $(nproc) cores). Baselines: \`jq -c .offset\` over the JSON lines; \`bench/zlib_frames\`" \
     "(bare zlib inflate + frame split of the same wire bytes, no output)."
echo
echo "| what | seconds | messages/s | CPU s | baseline s | ratio | goal | met |"
echo "|---|---|---|---|---|---|---|---|"
row "whole pipeline vs jq" pipeline jq 2
row "\`ora-order\` vs jq" order jq 3 every
row "\`ora-deframe --raw\` vs bare zlib" deframe zlib 0.9
echo
echo "| baseline | seconds | messages/s | CPU s |"
echo "|---|---|---|---|"
for b in "jq -c .offset:jq" "bare zlib inflate + frame split:zlib" \
         "ora-actors alone, on ora-order's output (one process, the pipeline's bound):actors"; do
  echo "| ${b%%:*} | $(med "${b##*:}") | $(rate "$lines" "$(med "${b##*:}")") | $(med "${b##*:}" cpu) |"
done
echo
read -r ra _ < <(ratios actors jq)
echo "The pipeline cannot be faster than its slowest stage: with ora-actors alone at $(printf '%.2f' "$ra")× jq in"
echo "these rounds, that is the pipeline's ceiling on any number of cores."
echo
if [[ ${#names[@]} -gt 6 ]]; then
  echo "Cost of \`--metrics FILE --metrics-interval 1\` (issue 17; goal ≤ 2%), same rounds:"
  echo
  echo "| what | without s | with s | CPU without | CPU with | cost, wall | cost, CPU |"
  echo "|---|---|---|---|---|---|---|"
  for p in "ora-deframe --raw:deframe" "ora-order:order" "whole pipeline (metrics on ora-deframe and ora-order):pipeline"; do
    a=${p##*:}
    read -r rm _ < <(ratios "$a" "${a}_m")
    read -r rc _ < <(ratios "$a" "${a}_m" cpu)
    echo "| ${p%%:*} | $(med "$a") | $(med "${a}_m") | $(med "$a" cpu) | $(med "${a}_m" cpu) |" \
         "$(awk -v r="$rm" 'BEGIN { printf "%+.1f%%", (r - 1) * 100 }') |" \
         "$(awk -v r="$rc" 'BEGIN { printf "%+.1f%%", (r - 1) * 100 }') |"
  done
  echo
  echo "Each cost is the median over the rounds of (with / without - 1) within a round; the goal is"
  echo "2% of throughput. On a busy machine the wall-clock column wanders by more than that either"
  echo "way; the CPU column is the steadier one."
  echo
fi
