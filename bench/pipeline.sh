#!/usr/bin/env bash
# End-to-end benchmarks (issue 10): offline throughput of the whole pipeline
# on a captured WIRE file beside bare zlib and jq, peak memory per stage,
# live latency over TLS from ora-sim, and the snapshot bootstrap time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A W C

d=$BENCH_TMP/pipeline
mkdir -p "$d"
n=$(scaled 1000000)

# ---- data: ora-sim's model, cut as the server would send it -------------
if [[ ! -s $d/msgs-$n.jsonl ]]; then
  ora-sim --seed 1 --events 2000 --dump --count "$n" -o "$d/msgs-$n.jsonl"
fi
msgs=$d/msgs-$n.jsonl
lines=$(wc -l < "$msgs")
ora-rec wire --per-member 1..16 --chunk 1..16384 --seed 1 -i "$msgs" -o "$d/cap.wire"
ora-rec wire --per-member 1..16 --chunk 1..16384 --seed 1 --raw -i "$msgs" -o "$d/cap.raw"
# The stage inputs, to time each stage alone.
ora-deframe -i "$d/cap.wire" -o "$d/msgs.rec"
ora-order -i "$d/msgs.rec" -o "$d/routed.rec"
rm -rf "$d/state" && mkdir -p "$d/state"
ora-actors --state-dir "$d/state" -i "$d/routed.rec" -o "$d/out.rec"
outs=$(ora-rec stats -i "$d/out.rec" | awk '$1 == "OUT" {print $2}')
cat "$d"/cap.* "$msgs" > /dev/null

# The rows of issue 19's table, side by side: every command once per round,
# in turn, BENCH_RUNS rounds; medians of wall and of CPU (user + sys of all
# the processes), the steadier figure on a shared machine.
pipe="ora-order | ora-actors --state-dir '$d/s1' | kinesis-put --stdout"
while read -r name w c; do W[$name]=$w; C[$name]=$c; done < <(rounds \
  zlib "'$BB/zlib_frames' < '$d/cap.raw'" \
  jq "jq -c .offset '$msgs'" \
  pipe_raw "rm -rf '$d/s1' && mkdir '$d/s1' && ora-deframe --raw -i '$d/cap.raw' | $pipe" \
  pipe "rm -rf '$d/s1' && mkdir '$d/s1' && ora-deframe -i '$d/cap.wire' | $pipe" \
  deframe_raw "ora-deframe --raw -i '$d/cap.raw'" \
  deframe "ora-deframe -i '$d/cap.wire'" \
  order "ora-order -i '$d/msgs.rec'" \
  actors "rm -rf '$d/s2' && mkdir '$d/s2' && ora-actors --state-dir '$d/s2' -i '$d/routed.rec'" \
  kinesis "kinesis-put --stdout -i '$d/out.rec'")

r_zlib=$(rate "$lines" "${W[zlib]}"); r_jq=$(rate "$lines" "${W[jq]}")
echo "### End to end, offline (issue 10, issue 19)"
echo
echo "A WIRE capture of $lines ora-sim messages ($(( $(stat -c %s "$d/cap.raw") >> 20 )) MiB compressed," \
     "1..16 frames per gzip member, cut into 1..16384-byte reads) through" \
     "\`ora-deframe --raw | ora-order | ora-actors | kinesis-put --stdout\` ($outs output records)," \
     "and from WIRE records (\`ora-deframe\` without --raw), beside bare zlib inflate + frame split of the same bytes" \
     "(\`bench/zlib_frames.c\`, the physical limit of the first stage) and \`jq -c .offset\` over the decompressed" \
     "JSON lines. $BENCH_RUNS rounds in which the commands take turns; medians. CPU is user + sys of every" \
     "process of the command. Load average at the start: $LOAD0; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| what | seconds | messages/s | vs zlib | vs jq (goal: pipeline >= 2) | CPU s | vs jq (CPU) |"
echo "|---|---|---|---|---|---|---|"
row() { # row LABEL NAME
  local r; r=$(rate "$lines" "${W[$2]}")
  echo "| $1 | ${W[$2]} | $r | $(ratio "$r" "$r_zlib") | $(ratio "$r" "$r_jq") | ${C[$2]} | $(ratio "${C[jq]}" "${C[$2]}") |"
}
row "bare zlib inflate + frame split" zlib
row "\`jq -c .offset\` (baseline)" jq
row "whole pipeline, \`ora-deframe --raw\` (4 processes, 2 cores)" pipe_raw
row "whole pipeline, WIRE records" pipe
row "ora-deframe --raw alone" deframe_raw
row "ora-deframe alone (WIRE records)" deframe
row "ora-order alone" order
row "ora-actors alone" actors
row "kinesis-put --stdout alone ($outs records)" kinesis
echo

# ---- memory: peak RSS of each stage in one pipeline run -----------------
rm -rf "$d/s3" && mkdir "$d/s3"
T="/usr/bin/time -f %M -o"
$T "$d/rss.deframe" ora-deframe -i "$d/cap.wire" \
  | $T "$d/rss.order" ora-order \
  | $T "$d/rss.actors" ora-actors --state-dir "$d/s3" 2>/dev/null \
  | $T "$d/rss.kinesis" kinesis-put --stdout > /dev/null 2>&1
echo "Peak RSS during that run (KiB, \`/usr/bin/time -f %M\`):"
echo
echo "| ora-deframe | ora-order | ora-actors | kinesis-put |"
echo "|---|---|---|---|"
echo "| $(tail -1 "$d/rss.deframe") | $(tail -1 "$d/rss.order") | $(tail -1 "$d/rss.actors") | $(tail -1 "$d/rss.kinesis") |"
echo
echo "Bytes per bet offer in ora-actors at 1M offers: see the ora-actors section."
echo
