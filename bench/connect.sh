#!/usr/bin/env bash
# ora-connect (issue 5): a replay of ora-sim's whole log through the session,
# against an independent client (tests/tools/ora-client.py) doing the same job.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
n=$(scaled 100000)
d=$(mktemp -d "$BENCH_TMP/connect.XXXXXX")
sim=
cleanup() { [ -n "$sim" ] && kill "$sim" 2>/dev/null; wait 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
"$TOP/scripts/gen-test-pki" "$d/pki" >/dev/null
ORA_LOG=info ora-sim --cert "$d/pki/server.pem" --key "$d/pki/server.key" --cacert "$d/pki/ca.pem" \
  --port 0 --auth-port 0 --port-file "$d/ports" --log "$d/log" --rate 200000 --max-messages "$n" \
  --events 200 --ping-interval 1 2>"$d/sim.err" &
sim=$!
for ((i = 0; i < 200; i++)); do [ -s "$d/ports" ] && grep -q "head offset" "$d/sim.err" && break; sleep 0.05; done
port=$(sed -n 's/^port=//p' "$d/ports"); aport=$(sed -n 's/^auth_port=//p' "$d/ports")
head0=$(sed -n 's/.*head offset \([0-9]*\).*/\1/p' "$d/sim.err" | head -1)
total=$((head0 + n))
for ((i = 0; i < 1200; i++)); do [ "$(wc -l <"$d/log")" -ge "$total" ] && break; sleep 0.1; done
echo 0 >"$d/ckpt"
args="--auth-url https://127.0.0.1:$aport/auth --host 127.0.0.1 --port $port --cert $d/pki/client.pem --key $d/pki/client.key --cacert $d/pki/ca.pem --offering offering-se --checkpoint $d/ckpt --once"
ora-connect $args -o "$d/out.rec" 2>/dev/null
bytes=$(ora-rec unpack --meta -i "$d/out.rec" 2>/dev/null | jq -s 'map(select(.type=="WIRE") | .len) | add')
tc=$(median_secs "ora-connect $args >/dev/null")
/usr/bin/time -o "$d/cpu" -f "%U %S" ora-connect $args >/dev/null 2>&1
cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$d/cpu")
td=$(median_secs "ora-connect $args | ora-deframe >/dev/null")
tp=$(median_secs "python3 '$TOP/tests/tools/ora-client.py' --port $port --cacert $d/pki/ca.pem --cert $d/pki/client.pem --key $d/pki/client.key --auth-url https://127.0.0.1:$aport/auth --offerings offering-se --replay 0 --until-offset $total >/dev/null")
echo "### ora-connect: replay of a whole log (issue 5)"
echo
echo "$total messages ($((bytes >> 10)) KiB on the wire) replayed from offset 0 by ora-sim over TLS on 127.0.0.1, until SESSION_REPLAY_COMPLETED; token request and handshake included; median of $BENCH_RUNS runs. ora-sim shares the cores, so this bounds the session, not the server."
echo
speed_table "$total" "$bytes" client "MB/s (wire)" "vs python client" \
  "tests/tools/ora-client.py (python, baseline)" "$tp" \
  "\`ora-connect --once\` (WIRE records)" "$tc" \
  "\`ora-connect --once \| ora-deframe\`" "$td"
echo
echo "ora-connect itself used $cpu CPU seconds (user + system) for the $total messages: $(rate "$total" "$cpu") messages per CPU second, so the wall-clock figures above are set by ora-sim."
echo
# CPU of ora-connect and ora-deframe for each form of WIRE record (issue 19):
# by default ora-connect hands each frame on inflated, so ora-deframe does
# not inflate the stream a second time; --compressed hands on the bytes as read.
cpu_pair() {   # cpu_pair FLAGS: "connect-CPU deframe-CPU" medians
  local i cs=() ds=()
  for ((i = 0; i < BENCH_RUNS; i++)); do
    /usr/bin/time -o "$d/c.t" -f '%U %S' ora-connect $args $1 2>/dev/null |
      /usr/bin/time -o "$d/d.t" -f '%U %S' ora-deframe >/dev/null 2>&1
    cs+=("$(awk '{ print $1 + $2 }' "$d/c.t")"); ds+=("$(awk '{ print $1 + $2 }' "$d/d.t")")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  echo "$(med "${cs[@]}") $(med "${ds[@]}")"
}
read -r ci di < <(cpu_pair "")
read -r cz dz < <(cpu_pair --compressed)
echo "CPU seconds (user + system, median of $BENCH_RUNS) of \`ora-connect --once | ora-deframe\` for the same replay:"
echo
echo "| WIRE records | ora-connect | ora-deframe | both | vs --compressed |"
echo "|---|---|---|---|---|"
echo "| \`--compressed\` (bytes as read; ora-deframe inflates again) | $cz | $dz | $(awk -v a="$cz" -v b="$dz" 'BEGIN { print a + b }') | 1.00 |"
echo "| default (one inflated frame each) | $ci | $di | $(awk -v a="$ci" -v b="$di" 'BEGIN { print a + b }') | $(ratio "$(awk -v a="$cz" -v b="$dz" 'BEGIN { print a + b }')" "$(awk -v a="$ci" -v b="$di" 'BEGIN { print a + b }')") |"
echo
