#!/usr/bin/env bash
# Live benchmarks (issue 10): receive-to-request latency at kinesis-put with
# ora-sim at 5k messages/s over TLS into kinesalite, with default and with
# minimum batching; and the snapshot bootstrap time for a snapshot of >= 1M
# messages (connect to SNAPSHOT_COMPLETED processed by ora-actors).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bench_test_env live
. "$TOP/tests/lib/sim.bash"
. "$TOP/tests/lib/kinesis.bash"

cleanup() { sim_stop >/dev/null 2>&1 || true; kinesalite_stop || true; }
trap cleanup EXIT
pki_setup "$d/pki" >/dev/null
kinesalite_start
kinesis_create_stream bench 4

connect_args() {
  echo --auth-url "$SIM_AUTH_URL" --host 127.0.0.1 --port "$SIM_PORT" --cert "$PKI_DIR/client.pem" \
    --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem" --offering offering-se
}

# live_run NAME SECONDS ORDER_ARGS KINESIS_ARGS: a live session; prints the
# latency file's path.
live_run() {
  local name=$1 secs=$2 oargs=$3 kargs=$4 ck=$d/ck.$1
  sim_start --rate 5000 --events 200 >/dev/null
  mkfifo "$d/fifo.$name"
  # shellcheck disable=SC2046
  ora-connect $(connect_args) --checkpoint "$ck" > "$d/fifo.$name" &
  local cpid=$!
  # shellcheck disable=SC2086
  ora-deframe < "$d/fifo.$name" | ora-order $oargs | ora-actors --state-dir "$d/state.$name" \
    | kinesis-put --stream bench --endpoint-url "$KINESIS_ENDPOINT" --checkpoint "$ck" \
        --latency-log "$d/lat.$name" $kargs &
  local ppid=$!
  sleep "$secs"
  kill -TERM "$cpid"
  wait "$cpid" || true
  wait "$ppid" || true
  sim_stop || true
  echo "$d/lat.$name"
}

# percentiles FILE SKIP: p50 p99 p999 of the send column (microseconds) in
# milliseconds, skipping the first SKIP lines (the snapshot burst).
percentiles() {
  tail -n +"$(($2 + 1))" "$1" | awk '{print $2}' | sort -n | awk '
    { v[NR] = $1 }
    END { if (NR == 0) { print "- - - 0"; exit }
          printf "%.1f %.1f %.1f %d\n", v[int(NR * .50) + 1] / 1000, v[int(NR * .99) + 1] / 1000,
                 v[int(NR * .999) + 1] / 1000, NR }'
}

secs=$(scaled 20)
read -r d50 d99 d999 dn < <(percentiles "$(live_run default "$secs" "" "")" 3000)
read -r m50 m99 m999 mn < <(percentiles "$(live_run minimum "$secs" "--batch-timeout 0" "--linger 0")" 3000)

echo "### Live latency over TLS (issue 10)"
echo
echo "ora-sim at 5000 messages/s over mutual TLS, the whole pipeline into kinesalite" \
     "(\`ora-connect | ora-deframe | ora-order | ora-actors | kinesis-put\`), ${secs} s per setting, one run each;" \
     "the time from a message's receive time at ora-connect to the first PutRecords request that carries" \
     "its output record, for the realtime records after the first 3000."
echo
echo "| batching | records | p50 ms | p99 ms | p99.9 ms |"
echo "|---|---|---|---|---|"
echo "| defaults (ora-order 20 ms window, kinesis-put linger default) | $dn | $d50 | $d99 | $d999 |"
echo "| minimum (\`ora-order --batch-timeout 0\`, \`kinesis-put --linger 0\`) | $mn | $m50 | $m99 | $m999 |"
echo

# ---- snapshot bootstrap ------------------------------------------------
runs=$(( BENCH_RUNS < 3 ? BENCH_RUNS : 3 ))
events=$(scaled 50000)
ts=()
for ((i = 0; i < runs; i++)); do
  sim_start --rate 100 --events "$events" --offers-per-event 18..22 >/dev/null
  rm -rf "$d/boot"
  t0=$(date +%s.%N)
  # --max-buffer: ora-sim serves the snapshot faster than the pipeline takes it;
  # with the default 64M ora-connect would overflow and start the snapshot over
  # shellcheck disable=SC2046
  ora-connect $(connect_args) --max-buffer 1G | ora-deframe | ora-order | ora-actors --state-dir "$d/boot" \
    | ora-rec unpack | grep -m1 -F '"flow":"replay"' > "$d/boot.line" || true
  t1=$(date +%s.%N)
  snap=$(sed -n 's/.*"offset":\([0-9]*\).*/\1/p' "$d/boot.line")
  sim_stop || true
  ts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")
done
med=$(printf '%s\n' "${ts[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
msgs=$(ora-sim --seed 1 --events "$events" --offers-per-event 18..22 --dump --count 1 2>/dev/null | wc -l)
echo "### Snapshot bootstrap (issue 10)"
echo
echo "ora-sim with $events events of 18..22 bet offers: a snapshot of about $msgs messages" \
     "(SESSION_SNAPSHOT_COMPLETED at offset ${snap:-?}). Time from starting ora-connect (JWT, TLS, session)" \
     "to the snapshot's completion record leaving ora-actors, i.e. every snapshot message decoded, routed" \
     "and applied; median of $runs runs (${ts[*]} s)."
echo
echo "| snapshot messages | seconds | messages/s |"
echo "|---|---|---|"
echo "| $msgs | $med | $(rate "$msgs" "$med") |"
echo
