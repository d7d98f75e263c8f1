#!/usr/bin/env bash
# ora-sim (issue 4): how fast the model generates messages (--dump), against
# gzip compressing the same bytes (the work a server must do anyway); the
# wire size per message for frames-per-member settings, measured by the
# independent client; and (issue 19) how fast it serves a snapshot of 1M
# messages, with and without its snapshot cache, side by side.
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
speed_table "$lines" "$bytes" command MB/s "vs gzip -6" \
  "\`gzip -6\` of the dump (baseline)" "$tg" \
  "\`ora-sim --dump\`" "$td" \
  "\`ora-sim --dump --reorder 0.5\`" "$tr"
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

# ---- snapshot serving (issue 19) ------------------------------------------
# A snapshot of about 1M messages served to (a) a client that only reads
# (ora-connect --once -o /dev/null) and (b) the pipeline up to ora-actors,
# with the snapshot cache (the default) and without it (--no-snapshot-cache:
# printed and compressed for each connection, as ora-sim served snapshots
# before the cache), side by side in one run.
ORA_BIN=$BIN BATS_TEST_TMPDIR=$d BATS_FILE_TMPDIR=$d
. "$TOP/tests/lib/sim.bash"
trap 'sim_stop >/dev/null 2>&1 || true; cleanup' EXIT
pki_setup "$d/pki" >/dev/null
events=$(scaled 50000)
runs=$(( BENCH_RUNS < 3 ? BENCH_RUNS : 3 ))
connect_args() {
  echo --auth-url "$SIM_AUTH_URL" --host 127.0.0.1 --port "$SIM_PORT" --cert "$PKI_DIR/client.pem" \
    --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem" --offering offering-se
}
sim_cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$SIM_PID/stat"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# serve MODE_ARGS...: one server, $runs reads and $runs pipeline bootstraps;
# sets r_secs r_simcpu r_conncpu p_secs msgs ready
serve() {
  sim_start --rate 100 --events "$events" --offers-per-event 18..22 "$@" >/dev/null
  local i t0 t1 c0 c1 rs=() rc=() cc=() ps=()
  ready=-
  if [ $# -eq 0 ]; then
    for ((i = 0; i < 3000; i++)); do grep -q "snapshot cache ready" "$SIM_ERR" && break; sleep 0.1; done
    ready=$(sed -n 's/.*snapshot cache ready: .*, \([0-9.]*\) s$/\1/p' "$SIM_ERR")
  fi
  for ((i = 0; i < runs; i++)); do
    rm -f "$d/ck"
    c0=$(sim_cpu); t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    /usr/bin/time -o "$d/conn.time" -f '%U %S' ora-connect $(connect_args) --checkpoint "$d/ck" --once -o /dev/null 2>/dev/null
    t1=$(date +%s.%N); c1=$(sim_cpu)
    rs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
    rc+=("$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')")
    cc+=("$(awk '{ printf "%.2f", $1 + $2 }' "$d/conn.time")")
    rm -rf "$d/boot"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2046
    { ora-connect $(connect_args) --max-buffer 1G | ora-deframe | ora-order | ora-actors --state-dir "$d/boot" \
      | ora-rec unpack | grep -m1 -F '"flow":"replay"' >/dev/null; } 2>/dev/null || true
    t1=$(date +%s.%N)
    ps+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
  done
  msgs=$(grep -o 'snapshot of [0-9]* messages' "$SIM_ERR" | tail -1 | grep -o '[0-9]*')
  sim_stop || true
  r_secs=$(median "${rs[@]}"); r_simcpu=$(median "${rc[@]}"); r_conncpu=$(median "${cc[@]}"); p_secs=$(median "${ps[@]}")
}
serve --no-snapshot-cache
b_secs=$r_secs b_simcpu=$r_simcpu b_conncpu=$r_conncpu b_psecs=$p_secs b_msgs=$msgs
serve
echo "### ora-sim: snapshot serving (issue 19)"
echo
echo "ora-sim with $events events of 18..22 bet offers at 100 messages/s: a snapshot of about $msgs messages over mutual TLS," \
     "side by side in one run: ora-sim as before (\`--no-snapshot-cache\`: every snapshot printed as JSON and" \
     "deflated for its connection) and with its snapshot cache (gzip members compressed once, only changed pieces" \
     "again; the cache was ready ${ready} s after the start). A client that only reads: \`ora-connect --once -o /dev/null\`" \
     "(token, handshake, snapshot, replay to the head); the pipeline: \`ora-connect --max-buffer 1G | ora-deframe | ora-order | ora-actors\`" \
     "until the snapshot's completion record leaves ora-actors (with the default 64M, a server faster than the pipeline" \
     "overflows ora-connect's buffer during the snapshot, and the snapshot starts over). CPU seconds are those of ora-sim and of ora-connect" \
     "during the read. Median of $runs runs."
echo
echo "| ora-sim | read: seconds | messages/s | ora-sim CPU s | ora-connect CPU s | pipeline bootstrap: seconds | messages/s |"
echo "|---|---|---|---|---|---|---|"
echo "| \`--no-snapshot-cache\` (before) | $b_secs | $(rate "$b_msgs" "$b_secs") | $b_simcpu | $b_conncpu | $b_psecs | $(rate "$b_msgs" "$b_psecs") |"
echo "| snapshot cache (default) | $r_secs | $(rate "$msgs" "$r_secs") | $r_simcpu | $r_conncpu | $p_secs | $(rate "$msgs" "$p_secs") |"
echo
echo "Speed-up: $(ratio "$b_secs" "$r_secs")× for the reader, $(ratio "$b_psecs" "$p_secs")× for the bootstrap." \
     "During a read from the cache ora-sim was on the CPU $(awk -v s="$r_simcpu" -v w="$r_secs" 'BEGIN { printf "%.0f", (w > 0 ? 100 * s / w : 0) }')% of the" \
     "wall-clock time, the reader $(awk -v s="$r_conncpu" -v w="$r_secs" 'BEGIN { printf "%.0f", (w > 0 ? 100 * s / w : 0) }')% (before:" \
     "$(awk -v s="$b_simcpu" -v w="$b_secs" 'BEGIN { printf "%.0f", (w > 0 ? 100 * s / w : 0) }')% and" \
     "$(awk -v s="$b_conncpu" -v w="$b_secs" 'BEGIN { printf "%.0f", (w > 0 ? 100 * s / w : 0) }')%); what is left is other work on the machine."
echo
