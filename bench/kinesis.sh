#!/bin/bash
# bench/kinesis.sh: kinesis-put throughput into kinesalite and into
# --stdout, beside the AWS CLI (`aws kinesis put-records`, 500-record
# requests) putting the same records into the same kinesalite, same run.
# Prints a Markdown section. BENCH_SCALE (default 1) scales the counts.
# Then, same run, alternating: the cost of --metrics (into kinesalite and
# into --stdout), and, when KINESIS_PUT_BEFORE names another kinesis-put
# binary, that binary against this one. BENCH_REPS (default 5) runs each.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${ORA_BIN:-$TOP/bin}
SCALE=${BENCH_SCALE:-1}
N=$(python3 -c "print(max(500, int(10000 * float('$SCALE'))))")
NS=$(python3 -c "print(max(1000, int(200000 * float('$SCALE'))))")
KEYS=5000
W=$(mktemp -d "${TMPDIR:-/tmp}/kinesis-bench.XXXXXX")
KPID=
cleanup() { [ -n "$KPID" ] && kill "$KPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node -e '
  var dir = require("path").dirname(require("fs").realpathSync(process.argv[1]));
  require(dir + "/index.js")({createStreamMs: 0, shardLimit: 100}).listen(+process.argv[2], "127.0.0.1");' \
  "$TOP/.deps/node_modules/.bin/kinesalite" "$PORT" >"$W/kinesalite.log" 2>&1 &
KPID=$!
EP=http://127.0.0.1:$PORT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
AWS=(/usr/bin/aws --endpoint-url "$EP" --region us-east-1 --output json --no-cli-pager)
mkstream() {
  "${AWS[@]}" kinesis create-stream --stream-name "$1" --shard-count 4 >/dev/null
  until [ "$("${AWS[@]}" kinesis describe-stream-summary --stream-name "$1" \
    --query StreamDescriptionSummary.StreamStatus --output text)" = ACTIVE ]; do sleep 0.1; done
}

# The records: ORA-like output JSON of ~250 bytes, KEYS partition keys.
python3 - "$N" "$NS" "$KEYS" "$W" <<'PY'
import json, sys
n, ns, keys, w = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rec(i):
    k = str(1000000 + i % keys)
    d = {"type": "in_game_odds_update", "event_id": 1019000000 + i % 997, "bet_offer_id": int(k),
         "criterion_id": 1001159732, "criterion_label": "Full Time", "is_mainline": True,
         "outcomes": [{"outcome_id": 3000000000 + i, "outcome_label": "1",
                       "odds": [{"offerings": ["jurisdiction1", "jurisdiction2"], "decimal": 1850 + (i % 50) * 10,
                                 "jurisdiction_mask": 3}]}],
         "msg_offset": i, "msg_flow": "realtime", "msg_datetime": "2026-11-26T14:00:00.000Z"}
    return k, d
with open(w + "/meta.jsonl", "w") as m, open(w + "/meta-s.jsonl", "w") as ms:
    for i in range(ns):
        k, d = rec(i)
        line = json.dumps({"type": "OUT", "key": k, "offset": i, "data": d}, separators=(",", ":")) + "\n"
        ms.write(line)
        if i < n:
            m.write(line)
# AWS CLI requests of 500 records
for b in range(0, n, 500):
    recs = []
    for i in range(b, min(n, b + 500)):
        k, d = rec(i)
        recs.append({"Data": json.dumps(d, separators=(",", ":")), "PartitionKey": k})
    with open("%s/req-%06d.json" % (w, b), "w") as f:
        json.dump({"StreamName": "cli", "Records": recs}, f)
PY
"$BIN/ora-rec" pack --meta -i "$W/meta.jsonl" -o "$W/in.rec" 2>/dev/null
"$BIN/ora-rec" pack --meta -i "$W/meta-s.jsonl" -o "$W/in-s.rec" 2>/dev/null
mkstream kp
mkstream cli

now() { date +%s.%N; }
# kinesis-put into kinesalite
t0=$(now)
"$BIN/kinesis-put" --stream kp --endpoint-url "$EP" -i "$W/in.rec" 2>"$W/kp.err"
t1=$(now)
# AWS CLI, same records, 500 per request, one request after another
for f in "$W"/req-*.json; do
  "${AWS[@]}" kinesis put-records --cli-binary-format raw-in-base64-out --cli-input-json "file://$f" \
    --query FailedRecordCount --output text >>"$W/cli.out"
done
t2=$(now)
# kinesis-put --stdout (no network)
"$BIN/kinesis-put" --stdout -i "$W/in-s.rec" -o /dev/null 2>"$W/stdout.err"
t3=$(now)
cli_failed=$(awk '{s += $1} END {print s + 0}' "$W/cli.out")
grep -q "$N acknowledged" "$W/kp.err" || { echo "kinesis-put did not deliver everything:" >&2; cat "$W/kp.err" >&2; exit 1; }

python3 - "$N" "$NS" "$t0" "$t1" "$t2" "$t3" "$cli_failed" <<'PY'
import sys
n, ns = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
failed = int(sys.argv[7])
kp, cli, so = t1 - t0, t2 - t1, t3 - t2
print("### kinesis-put\n")
print("%d records of ~250 bytes, %d partition keys, 4-shard stream in one kinesalite "
      "(single-threaded Node.js: it is the bottleneck of both clients).\n" % (n, min(n, 5000)))
print("| client | records | seconds | records/s | vs AWS CLI |")
print("|---|---:|---:|---:|---:|")
print("| `aws kinesis put-records` (500/request, sequential) | %d | %.2f | %.0f | 1.00 |" % (n, cli, n / cli))
print("| kinesis-put --concurrency 8 | %d | %.2f | %.0f | %.2f |" % (n, kp, n / kp, cli / kp))
print("| kinesis-put --stdout (no network) | %d | %.2f | %.0f | %.2f |" % (ns, so, ns / so, (ns / so) / (n / cli)))
if failed:
    print("\nThe AWS CLI run reported %d failed records (not retried by it)." % failed)
PY

# A/B, alternating so that machine load hits both alike; medians.
REPS=${BENCH_REPS:-5}
timeit() { local t0 t1; t0=$(now); "$@" 2>"$W/ab.err" || { cat "$W/ab.err" >&2; return 1; }; t1=$(now); python3 -c "print($t1 - $t0)"; }
kp_into() { # kp_into STREAM BIN [args...]: a fresh stream each run
  mkstream "$1"
  timeit "$2" --stream "$1" --endpoint-url "$EP" -i "$W/in.rec" "${@:3}"
}
kp_stdout() { timeit "$1" --stdout -i "$W/in-s.rec" -o /dev/null "${@:2}"; }
declare -A T
for ((r = 0; r < REPS; r++)); do
  T[kin_plain]+="$(kp_into "ab$r-plain" "$BIN/kinesis-put") "
  T[kin_metrics]+="$(kp_into "ab$r-metrics" "$BIN/kinesis-put" --metrics "$W/m.prom") "
  T[out_plain]+="$(kp_stdout "$BIN/kinesis-put") "
  T[out_metrics]+="$(kp_stdout "$BIN/kinesis-put" --metrics "$W/m.prom") "
  if [ -n "${KINESIS_PUT_BEFORE:-}" ]; then
    T[kin_before]+="$(kp_into "ab$r-before" "$KINESIS_PUT_BEFORE") "
    T[out_before]+="$(kp_stdout "$KINESIS_PUT_BEFORE") "
  fi
done
python3 - "$N" "$NS" "${T[kin_plain]}" "${T[kin_metrics]}" "${T[out_plain]}" "${T[out_metrics]}" \
  "${T[kin_before]:-}" "${T[out_before]:-}" "$REPS" <<'PY'
import statistics, sys
n, ns = int(sys.argv[1]), int(sys.argv[2])
def med(s):
    v = [float(x) for x in s.split()]
    return statistics.median(v) if v else None
kp, km, op, om, kb, ob = (med(a) for a in sys.argv[3:9])
reps = sys.argv[9]
print("\n#### kinesis-put: the cost of --metrics, and the build before this one\n")
print("Medians of %s runs each, the variants alternating in one run (same machine load).\n" % reps)
print("| run | into kinesalite, %d records | records/s | --stdout, %d records | records/s |" % (n, ns))
print("|---|---:|---:|---:|---:|")
print("| kinesis-put | %.2f s | %.0f | %.2f s | %.0f |" % (kp, n / kp, op, ns / op))
print("| kinesis-put --metrics | %.2f s | %.0f (%+.1f%%) | %.2f s | %.0f (%+.1f%%) |" % (
    km, n / km, (kp / km - 1) * 100, om, ns / om, (op / om - 1) * 100))
if kb:
    print("| before (KINESIS_PUT_BEFORE) | %.2f s | %.0f (%+.1f%%) | %.2f s | %.0f (%+.1f%%) |" % (
        kb, n / kb, (kp / kb - 1) * 100, ob, ns / ob, (op / ob - 1) * 100))
    print("\nPercentages: throughput of that row relative to kinesis-put without metrics (this build).")
PY
