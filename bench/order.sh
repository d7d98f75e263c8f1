#!/usr/bin/env bash
# ora-order (issue 6): messages/s beside `jq -c '.offset'` over the same JSON
# lines (goal >= 3x), and the latency it adds to a message at a paced rate.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

n=$(scaled 500000)
j=$BENCH_TMP/order-$n.jsonl
f=$BENCH_TMP/order-$n.rec
if [[ ! -s $f || ! -s $j ]]; then
  # realistic messages, shuffled within windows of 16 (the server's hold-back)
  "$BB/genmsgs" "$n" 1 | python3 -c '
import random, sys
r = random.Random(1); w = []
for line in sys.stdin:
    w.append(line)
    if len(w) == 16:
        r.shuffle(w); sys.stdout.writelines(w); w = []
r.shuffle(w); sys.stdout.writelines(w)' > "$j"
  ora-rec pack -i "$j" -o "$f"
fi
bytes=$(stat -c %s "$j")
cat "$f" "$j" >/dev/null   # page cache

# median_wall_cpu CMD: "WALL CPU" medians (CPU = user + sys, which other
# load on the machine disturbs less than wall-clock time).
median_wall_cpu() {
  local i ws=() cs=()
  for ((i = 0; i < BENCH_RUNS; i++)); do
    /usr/bin/time -o "$BENCH_TMP/.time" -f '%e %U %S' bash -c "$1" >/dev/null 2>&1
    read -r w u s < <(tail -1 "$BENCH_TMP/.time")
    ws+=("$w"); cs+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  echo "$(med "${ws[@]}") $(med "${cs[@]}")"
}
# jq and both ora-order runs take turns in every round (a busy machine weighs
# on all of them alike)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A W C
while read -r name w c; do W[$name]=$w; C[$name]=$c; done < <(rounds \
  jq "jq -c '.offset' '$j'" order "ora-order -i '$f' -o /dev/null" order0 "ora-order -t 0 -i '$f' -o /dev/null")
# the ratio in each round (issue 19: >= 3x in every run)
per_run=$(awk '$1 == "jq" { j = $2 } $1 == "order" { printf "%s%.2f", (n++ ? ", " : ""), ($2 > 0 ? j / $2 : 0) }' \
  "$BENCH_TMP/.rounds")
tj=${W[jq]} cj=${C[jq]} to=${W[order]} co=${C[order]} t0=${W[order0]} c0=${C[order0]}
rj=$(rate "$n" "$tj"); ro=$(rate "$n" "$to"); r0=$(rate "$n" "$t0")

echo "### ora-order: routing and per-actor order (issue 6)"
echo
echo "$n realistic messages ($((bytes / n)) bytes of JSON each on average), shuffled within windows of 16;"
echo "ora-order reads them as MSG records (routes, batches per actor, sorts, writes records),"
echo "jq reads the same JSON lines. Medians of $BENCH_RUNS rounds in which the three take turns"
echo "(ora-order vs jq in each round: $per_run). Load average at the start: $load0; at the end:"
echo "$(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| what | seconds | messages/s | vs jq | CPU seconds | vs jq (CPU) |"
echo "|---|---|---|---|---|---|"
echo "| \`jq -c '.offset'\` (baseline) | $tj | $rj | 1.00 | $cj | 1.00 |"
echo "| \`ora-order\` (defaults: 100 messages / 20 ms) | $to | $ro | $(ratio "$ro" "$rj") | $co | $(ratio "$cj" "$co") |"
echo "| \`ora-order -t 0\` (routing, no reordering window) | $t0 | $r0 | $(ratio "$r0" "$rj") | $c0 | $(ratio "$cj" "$c0") |"
echo
# Many live actors: every actor pending at once (no timeouts within the run).
fm=$BENCH_TMP/order-many-$n.rec
if [[ ! -s $fm ]]; then
  python3 "$TOP/tests/fixtures/order/gen.py" "$n" --events 20000 --offers 10 --window 16 | ora-rec pack -o "$fm"
fi
actors=$(ORA_LOG=info ora-order -t 3600000 -i "$fm" -o /dev/null 2>&1 | sed -n 's/.*msgs\/\([0-9]*\) actors pending.*/\1/p')
read -r tm cm < <(median_wall_cpu "ora-order -t 3600000 -i '$fm' -o /dev/null")
read -r tm1 cm1 < <(median_wall_cpu "ora-order -t 0 -i '$fm' -o /dev/null")
echo "Many live actors: $n messages over ${actors} actors (fixture shapes, ~200 bytes)."
echo
echo "| what | seconds | messages/s | CPU seconds |"
echo "|---|---|---|---|"
echo "| \`ora-order -t 0\` (about one actor pending at a time) | $tm1 | $(rate "$n" "$tm1") | $cm1 |"
echo "| \`ora-order -t 3600000\` (all ${actors} actors pending until EOF) | $tm | $(rate "$n" "$tm") | $cm |"
echo

echo "Where ora-order's time goes (perf, defaults, 2026-11-28): about 20% SipHash (the record"
echo "layer: every record verified on read), 20% the validating scanner (lib/jscan.c: strings,"
echo "nesting, numbers), 15% the batcher and its allocations, 9% copies and 7% the kernel's pipe"
echo "reads; no cJSON tree is built."
echo

# Latency: a feeder writes one record at a time at a steady rate, stamping
# recv_ns; a sink reads ora-order's output and takes wall clock - recv_ns.
rate_s=2000
secs=$(awk -v s="$BENCH_SCALE" 'BEGIN { v = 5 * s; print (v < 0.5 ? 0.5 : v) }')
m=$BENCH_TMP/order-lat.jsonl
"$BB/genmsgs" 20000 2 > "$m"
lat() { "$BB/order_lat" feed "$rate_s" "$secs" < "$m" | "$@" | "$BB/order_lat" sink; }
base=$(lat cat)
l0=$(lat ora-order -t 0)
ld=$(lat ora-order)
lb=$(lat ora-order -b 100 -t 1000)
row() { awk -v w="$1" '{ printf "| %s | %d | %s | %s | %s | %s |\n", w, $1, $2, $3, $4, $5 }' <<<"$2"; }
echo "Latency added per message: $rate_s messages/s for ${secs} s, each record written on its own;"
echo "latency = wall clock when the record leaves the stage - its recv_ns stamp (ms)."
echo
echo "| stage | messages | p50 | p90 | p99 | max |"
echo "|---|---|---|---|---|---|"
row "\`cat\` (the pipe alone, baseline)" "$base"
row "\`ora-order -t 0\`" "$l0"
row "\`ora-order\` (default 20 ms)" "$ld"
row "\`ora-order -b 100 -t 1000\` (the seed's Broadway defaults)" "$lb"
echo
echo "At a live rate few actors fill 100 messages within the window, so most messages wait"
echo "for the timeout: the added latency is about the batch timeout, 20 ms by default"
echo "instead of Broadway's 1 s."
echo
