#!/usr/bin/env bash
# ora-sim (issue 4): how fast the model generates messages (--dump), against
# gzip compressing the same bytes (the work a server must do anyway); and the
# wire size per message for frames-per-member settings, measured by the
# independent client.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=$(scaled 200000)
w=$(scaled 20000)
d=$(mktemp -d "$BENCH_TMP/sim.XXXXXX")
sim=
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT

ora-sim --dump --seed 1 --count "$n" -o "$d/dump.jsonl" 2>/dev/null
lines=$(wc -l <"$d/dump.jsonl")
bytes=$(wc -c <"$d/dump.jsonl")
tg=$(median_secs "gzip -6 <'$d/dump.jsonl' >/dev/null")
td=$(median_secs "ora-sim --dump --seed 1 --count $n >/dev/null")
tr=$(median_secs "ora-sim --dump --seed 1 --count $n --reorder 0.5 >/dev/null")

echo "### ora-sim: model generation (issue 4)"
echo
echo "\`ora-sim --dump\`: the initial population then $n realtime messages ($lines lines, $((bytes >> 20)) MiB of JSON) written to /dev/null; median of $BENCH_RUNS runs. Baseline: \`gzip -6\` of the same bytes, which a server serving them compresses anyway."
echo
echo "| command | seconds | messages/s | MB/s | vs gzip -6 |"
echo "|---|---|---|---|---|"
echo "| \`gzip -6\` of the dump (baseline) | $tg | $(rate "$lines" "$tg") | $(awk -v b="$bytes" -v s="$tg" 'BEGIN{printf "%.1f", b/s/1e6}') | 1.00 |"
echo "| \`ora-sim --dump\` | $td | $(rate "$lines" "$td") | $(awk -v b="$bytes" -v s="$td" 'BEGIN{printf "%.1f", b/s/1e6}') | $(ratio "$tg" "$td") |"
echo "| \`ora-sim --dump --reorder 0.5\` | $tr | $(rate "$lines" "$tr") | $(awk -v b="$bytes" -v s="$tr" 'BEGIN{printf "%.1f", b/s/1e6}') | $(ratio "$tg" "$tr") |"
echo

"$TOP/scripts/gen-test-pki" "$d/pki" >/dev/null
echo "| frames per member | split | wire bytes/message | JSON bytes/message | compression |"
echo "|---|---|---|---|---|"
for pm in 1..1 1..16 64..64; do
  for split in 0 0.5; do
    rm -f "$d/ports"
    ora-sim --cert "$d/pki/server.pem" --key "$d/pki/server.key" --cacert "$d/pki/ca.pem" \
      --port 0 --auth-port 0 --port-file "$d/ports" --log "$d/log" --rate 1000000 --max-messages "$w" \
      --per-member "$pm" --split "$split" 2>"$d/sim.err" &
    sim=$!
    for ((i = 0; i < 200; i++)); do [ -s "$d/ports" ] && break; sleep 0.05; done
    port=$(sed -n 's/^port=//p' "$d/ports"); aport=$(sed -n 's/^auth_port=//p' "$d/ports")
    head0=$(ora-sim --dump --count 0 2>/dev/null | wc -l)
    python3 "$TOP/tests/tools/ora-client.py" --port "$port" --cacert "$d/pki/ca.pem" \
      --cert "$d/pki/client.pem" --key "$d/pki/client.key" --auth-url "https://127.0.0.1:$aport/auth" \
      --replay 0 --until-offset $((head0 + w)) --stats "$d/st.json" >"$d/got"
    kill "$sim"; wait "$sim" 2>/dev/null || true; sim=
    m=$(jq .data "$d/st.json"); wb=$(jq .bytes "$d/st.json"); jb=$(wc -c <"$d/got")
    echo "| $pm | $split | $(awk -v b="$wb" -v m="$m" 'BEGIN{printf "%.1f", b/m}') | $(awk -v b="$jb" -v m="$m" 'BEGIN{printf "%.1f", b/m}') | $(ratio "$jb" "$wb") |"
  done
done
echo
echo "Wire sizes: a replay of $((w)) realtime messages plus the initial population from offset 0, measured by tests/tools/ora-client.py (one run each; sizes do not vary with timing except for how many frames were available per member)."
echo
