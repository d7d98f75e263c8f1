# tests/lib/kinesis.bash: kinesalite and AWS CLI helpers for suites that
# need a Kinesis (load lib/kinesis after load helper).
#
#   kinesalite_start            starts kinesalite on a free 127.0.0.1 port
#                               (KINESALITE_PORT: that one; KINESALITE_PATH:
#                               data kept in that directory, so a restart
#                               keeps the streams), exports KINESIS_ENDPOINT
#                               and fake AWS env
#   kinesis_create_stream NAME [SHARDS]   creates NAME and waits until ACTIVE
#   kinesis_read_all NAME > x.jsonl       every record of every shard, with
#                               the AWS CLI: {"PartitionKey":..,"Data":<JSON>}
#                               lines, shard by shard, in sequence order
#   kinesalite_stop             stops it (call from teardown)
#   kinesis_fake_aws_env        fake credentials/region for the AWS CLI
#   kinesis_put_setup           setup of the kinesis-put suites: fake AWS
#                               env, T=$BATS_TEST_TMPDIR
#   kinesis_put_teardown        stops the fault stand-in and a kinesis-put
#                               left in the background (KP_PID)
#   kinesis_gen_input N KEYS EVERY   $T/in.rec and $T/expected.jsonl

KINESALITE=${KINESALITE:-$TOP/.deps/node_modules/.bin/kinesalite}
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
. "$(dirname "${BASH_SOURCE[0]}")/service.bash"

kinesis_fake_aws_env() {
  export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=testsecret AWS_REGION=us-east-1
  export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CONFIG_FILE=/dev/null
  export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS
}

# _kinesalite_serve PORT: kinesalite on 127.0.0.1:PORT only (its CLI
# listens on every address), its data in KINESALITE_PATH if set.
_kinesalite_serve() {
  exec node -e '
    var dir = require("path").dirname(require("fs").realpathSync(process.argv[1]));
    var o = {createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100};
    if (process.argv[3]) o.path = process.argv[3];
    var s = require(dir + "/index.js")(o);
    s.listen(+process.argv[2], "127.0.0.1");
    process.on("SIGTERM", function () { process.exit(0); });' \
    "$KINESALITE" "$1" "${KINESALITE_PATH:-}" >>"${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/kinesalite.log" 2>&1
}

kinesis_put_setup() {
  kinesis_fake_aws_env
  T=$BATS_TEST_TMPDIR
}

# A second TERM stops kinesis-put without draining.
kinesis_put_teardown() {
  fault_stop
  if [ -n "${KP_PID:-}" ]; then
    kill "$KP_PID" 2>/dev/null; sleep 0.1; kill "$KP_PID" 2>/dev/null; wait "$KP_PID" 2>/dev/null
  fi
  return 0
}

kinesalite_start() {
  kinesis_fake_aws_env
  service_start kinesalite 15 "${KINESALITE_PORT:-}" _kinesalite_serve || return 1
  KINESALITE_PID=$SERVICE_PID
  export KINESIS_ENDPOINT="http://127.0.0.1:$SERVICE_PORT" KINESALITE_PID
}

kinesalite_stop() { service_stop KINESALITE_PID; }

kaws() {
  "$AWS_CLI" --endpoint-url "$KINESIS_ENDPOINT" --region us-east-1 --no-cli-pager --output json "$@"
}

kinesis_create_stream() {
  local name=$1 shards=${2:-1} i status
  kaws kinesis create-stream --stream-name "$name" --shard-count "$shards" || return 1
  for i in $(seq 50); do
    status=$(kaws kinesis describe-stream-summary --stream-name "$name" \
      --query StreamDescriptionSummary.StreamStatus --output text) || return 1
    [ "$status" = ACTIVE ] && return 0
    sleep 0.1
  done
  echo "stream $name not ACTIVE" >&2
  return 1
}

# Reads one shard to stdout as JSON lines. Each AWS CLI call costs seconds
# of Python, so: the largest --limit, and stop at a short page at the tip.
_kinesis_read_shard() {
  local name=$1 shard=$2 it page=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/page.$$.$RANDOM tail n behind
  it=$(kaws kinesis get-shard-iterator --stream-name "$name" --shard-id "$shard" \
    --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text) || return 1
  while :; do
    kaws kinesis get-records --shard-iterator "$it" --limit 10000 >"$page" || return 1
    # records as lines, then one trailer line: count, millis behind, next iterator
    jq -r '(.Records[] | {PartitionKey, Data: (.Data | @base64d | fromjson)} | tojson),
           "\u0001 \(.Records | length) \(.MillisBehindLatest // 0) \(.NextShardIterator // "")"' \
      "$page" >"$page.out" || return 1
    grep -v $'^\x01' "$page.out" || true
    tail=$(grep $'^\x01' "$page.out")
    read -r _ n behind it <<<"$tail"
    [ -z "$it" ] && break
    [ "$n" -lt 10000 ] && [ "$behind" -eq 0 ] && break
  done
  rm -f "$page" "$page.out"
}

kinesis_read_all() {
  local name=$1 shards s i=0 pids=() rc=0 dir
  dir=$(mktemp -d "${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/read.XXXXXX")
  shards=$(kaws kinesis list-shards --stream-name "$name" --query 'Shards[].ShardId' --output text) || return 1
  for s in $shards; do
    _kinesis_read_shard "$name" "$s" >"$dir/$i.jsonl" &
    pids+=($!)
    i=$((i + 1))
  done
  for s in "${pids[@]}"; do wait "$s" || rc=1; done
  for ((s = 0; s < i; s++)); do cat "$dir/$s.jsonl"; done
  return $rc
}

# kinesis_gen N KEYS [CKPT_EVERY] [PAD]: pack --meta lines of N OUT records
# (data {"i":I,"k":KEY,"pad":...}, offset I, key k<I mod KEYS>), with a CTRL
# checkpoint at offset I after every CKPT_EVERY records. Pipe to ora-rec pack --meta.
kinesis_gen() {
  python3 - "$@" <<'PY'
import json, sys
n, keys = int(sys.argv[1]), int(sys.argv[2])
every = int(sys.argv[3]) if len(sys.argv) > 3 else 0
pad = int(sys.argv[4]) if len(sys.argv) > 4 else 0
w = sys.stdout.write
for i in range(n):
    k = "k%d" % (i % keys)
    w(json.dumps({"type": "OUT", "key": k, "offset": i, "recv_ns": 1700000000000000000 + i,
                  "data": {"i": i, "k": k, "pad": "x" * pad}}, separators=(",", ":")) + "\n")
    if every and (i + 1) % every == 0:
        w(json.dumps({"type": "CTRL", "kind": "checkpoint", "offset": i,
                      "data": {"ctrl": "checkpoint", "offset": i}}, separators=(",", ":")) + "\n")
PY
}

# kinesis_gen_input N KEYS EVERY: kinesis_gen's records packed in $T/in.rec,
# what should land of them in $T/expected.jsonl (meta lines in $T/meta.jsonl).
kinesis_gen_input() {
  kinesis_gen "$@" >"$T/meta.jsonl"
  ora-rec pack --meta -i "$T/meta.jsonl" -o "$T/in.rec" 2>/dev/null
  kinesis_expected "$T/meta.jsonl" >"$T/expected.jsonl"
}

# kinesis_expected META.jsonl: what should land, as kinesis_read_all prints it.
kinesis_expected() {
  jq -c 'select(.type == "OUT") | {PartitionKey: .key, Data: .data}' "$1"
}

# kinesis_check_delivery EXPECTED GOT [--exact]: every expected record
# arrived (as a multiset; --exact: exactly once, nothing else), and for
# every key the data field "i" of first deliveries never goes backwards in
# GOT (per-key order; duplicates of at-least-once delivery are skipped).
# Prints a one-line verdict; returns 1 on any violation.
kinesis_check_delivery() {
  python3 - "$@" <<'PY'
import collections, json, sys
exp = [l for l in open(sys.argv[1]) if l.strip()]
got = [l for l in open(sys.argv[2]) if l.strip()]
exact = "--exact" in sys.argv[3:]
norm = lambda l: json.dumps(json.loads(l), sort_keys=True)
ce, cg = collections.Counter(map(norm, exp)), collections.Counter(map(norm, got))
missing = ce - cg
extra = cg - ce
bad = []
if missing:
    bad.append("%d missing (e.g. %s)" % (sum(missing.values()), next(iter(missing))))
if exact and extra:
    bad.append("%d extra or duplicated (e.g. %s)" % (sum(extra.values()), next(iter(extra))))
last, seen = {}, set()
for l in got:
    r = json.loads(l)
    i = r["Data"].get("i") if isinstance(r["Data"], dict) else None
    k = r["PartitionKey"]
    # a duplicate (a timed-out request applied late) may land anywhere;
    # a first delivery must never come before an earlier record's
    if (k, i) in seen:
        continue
    seen.add((k, i))
    if i is not None and k in last and i < last[k]:
        bad.append("key %s: record %d after %d" % (k, i, last[k]))
        break
    if i is not None:
        last[k] = max(i, last.get(k, i))
print("delivery: %d expected, %d received, %d duplicates%s" % (
    len(exp), len(got), sum((cg - ce).values()), ("; " + "; ".join(bad)) if bad else ", ok"))
sys.exit(1 if bad else 0)
PY
}

# Fault stand-in (tests/tools/kinesis-fault.py): fault_start ARGS... starts
# it on a free port with its files in $FAULT_DIR and exports FAULT_ENDPOINT.
fault_start() {
  FAULT_DIR=${FAULT_DIR:-$BATS_TEST_TMPDIR/fault}
  mkdir -p "$FAULT_DIR"
  service_start "the Kinesis fault stand-in" 10 "" _fault_serve "$@" || return 1
  FAULT_PID=$SERVICE_PID
  export FAULT_ENDPOINT="http://127.0.0.1:$SERVICE_PORT" FAULT_PID FAULT_DIR
}

_fault_serve() { # _fault_serve PORT ARGS...
  local port=$1
  shift
  exec python3 "$TOP/tests/tools/kinesis-fault.py" --port "$port" --dir "$FAULT_DIR" "$@" \
    2>>"$FAULT_DIR/stderr"
}

fault_stop() { service_stop FAULT_PID; }
