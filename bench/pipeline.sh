#!/usr/bin/env bash
# End-to-end benchmarks (issue 10): offline throughput of the whole pipeline
# on a captured WIRE file beside bare zlib and jq, peak memory per stage,
# live latency over TLS from ora-sim, and the snapshot bootstrap time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

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

pipe="rm -rf '$d/s1' && mkdir '$d/s1' && ora-deframe -i '$d/cap.wire' | ora-order | ora-actors --state-dir '$d/s1' | kinesis-put --stdout"
t_pipe=$(median_secs "$pipe")
t_zlib=$(median_secs "'$BB/zlib_frames' < '$d/cap.raw'")
t_jq=$(median_secs "jq -c .offset '$msgs'")
t_def=$(median_secs "ora-deframe -i '$d/cap.wire'")
t_ord=$(median_secs "ora-order -i '$d/msgs.rec'")
t_act=$(median_secs "rm -rf '$d/s2' && mkdir '$d/s2' && ora-actors --state-dir '$d/s2' -i '$d/routed.rec'")
t_kin=$(median_secs "kinesis-put --stdout -i '$d/out.rec'")

r_pipe=$(rate "$lines" "$t_pipe"); r_zlib=$(rate "$lines" "$t_zlib"); r_jq=$(rate "$lines" "$t_jq")
echo "### End to end, offline (issue 10)"
echo
echo "A WIRE capture of $lines ora-sim messages ($(( $(stat -c %s "$d/cap.wire") >> 20 )) MiB compressed," \
     "1..16 frames per gzip member, cut into 1..16384-byte reads) through" \
     "\`ora-deframe | ora-order | ora-actors | kinesis-put --stdout\` ($outs output records)," \
     "beside bare zlib inflate + frame split of the same bytes (\`bench/zlib_frames.c\`, the physical limit" \
     "of the first stage) and \`jq -c .offset\` over the decompressed JSON lines. Median of $BENCH_RUNS runs."
echo
echo "| what | seconds | messages/s | vs zlib | vs jq |"
echo "|---|---|---|---|---|"
echo "| bare zlib inflate + frame split | $t_zlib | $r_zlib | 1.00 | $(ratio "$r_zlib" "$r_jq") |"
echo "| \`jq -c .offset\` | $t_jq | $r_jq | $(ratio "$r_jq" "$r_zlib") | 1.00 |"
echo "| whole pipeline (4 processes, 2 cores) | $t_pipe | $r_pipe | $(ratio "$r_pipe" "$r_zlib") | $(ratio "$r_pipe" "$r_jq") |"
for s in "ora-deframe alone:$t_def" "ora-order alone:$t_ord" "ora-actors alone:$t_act" "kinesis-put --stdout alone:$t_kin"; do
  name=${s%%:*}; t=${s##*:}; r=$(rate "$lines" "$t")
  echo "| $name | $t | $r | $(ratio "$r" "$r_zlib") | $(ratio "$r" "$r_jq") |"
done
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
