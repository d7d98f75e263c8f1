# tests/lib/supervise.bash: running scripts/ora-supervise in the background
# from a bats test, waiting on its log, and cleaning up.
#   sv_start ARGS...     starts it (stdout -> $SV_OUT, stderr log -> $SV_LOG)
#   sv_wait_log RE [S]   waits up to S s (default 20) for an ERE in the log
#   sv_count RE          number of log lines matching the ERE
#   sv_stage_pid NAME    pid of the latest start of a stage
#   sv_wait_exit [S]     waits up to S s (default 60) for it to end; sets sv_status
#   sv_stop              teardown: TERM, then KILL, the supervisor and its stages
#   sv_gone PID          true when PID has ended (no such process, or a zombie)
#   sv_wait_gone S PID.. waits up to S s until every PID has ended; prints the
#                        time it took (s, 2 decimals), or returns 1
SV_PID=""
sv_gone() {
  local st
  { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
  st=${st##*) }
  [[ $st == [ZX]* ]]
}
sv_wait_gone() {
  local t=$1 p t0=${EPOCHREALTIME/./} left
  shift
  while :; do
    left=""
    for p in "$@"; do sv_gone "$p" || left+=" $p"; done
    [[ -z $left ]] && break
    if (( ${EPOCHREALTIME/./} - t0 > t * 1000000 )); then
      echo "still running after ${t}s:$left" >&2
      ps -o pid,ppid,pgid,stat,args -p "${left# }" >&2 || true
      return 1
    fi
    sleep 0.05
  done
  printf '%d.%02d\n' $(( (${EPOCHREALTIME/./} - t0) / 1000000 )) $(( (${EPOCHREALTIME/./} - t0) % 1000000 / 10000 ))
}
sv_start() {
  SV_LOG=${SV_LOG:-$BATS_TEST_TMPDIR/sv.log}
  SV_OUT=${SV_OUT:-$BATS_TEST_TMPDIR/sv.out}
  "$TOP/scripts/ora-supervise" "$@" >"$SV_OUT" 2>"$SV_LOG" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  SV_PID=$!
}
sv_wait_log() {
  local re=$1 t=${2:-20} i
  for ((i = 0; i < t * 10; i++)); do
    grep -Eq -- "$re" "$SV_LOG" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "log has no /$re/ within ${t}s; log:" >&2
  tail -40 "$SV_LOG" >&2
  return 1
}
# The pid of the latest start of stage $1, from the log.
sv_stage_pid() { sed -nE "s/.* supervise: start $1 \(pid ([0-9]+)\).*/\1/p" "$SV_LOG" | tail -1; }
sv_count() { grep -Ec -- "$1" "$SV_LOG" 2>/dev/null || true; }
sv_wait_exit() {
  local t=${1:-60} i
  for ((i = 0; i < t * 10; i++)); do
    kill -0 "$SV_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SV_PID" 2>/dev/null; then
    echo "ora-supervise still runs after ${t}s; log:" >&2
    tail -40 "$SV_LOG" >&2
    { echo "processes:"; ps -o pid,ppid,pgid,stat,wchan:24,cmd -g "$(ps -o sid= -p "$SV_PID" | tr -d ' ')" 2>/dev/null
      ps -o pid,ppid,pgid,stat,wchan:24,cmd --ppid "$SV_PID"
      echo "supervisor wchan: $(cat /proc/"$SV_PID"/wchan 2>/dev/null)"
      [ -z "${SV_DEBUG_DIR-}" ] || { timeout 2 strace -p "$SV_PID" -o "$SV_DEBUG_DIR/strace.$SV_PID" ; cp "$SV_LOG" "$SV_DEBUG_DIR/"; }
    } >&2
    return 1
  fi
  sv_status=0
  wait "$SV_PID" || sv_status=$?
  SV_PID=""
}
# Kills a supervisor left running and every stage it started (their pids
# are in the log as "start NAME (pid N)").
sv_stop() {
  local p i
  if [[ -n $SV_PID ]] && kill -0 "$SV_PID" 2>/dev/null; then
    kill -TERM "$SV_PID" 2>/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$SV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SV_PID" 2>/dev/null
  fi
  if [[ -n ${SV_LOG-} && -r $SV_LOG ]]; then
    for p in $(sed -nE 's/.* supervise: start [a-z]+ \(pid ([0-9]+)\).*/\1/p' "$SV_LOG"); do
      kill -KILL -- "-$p" 2>/dev/null
    done
  fi
  SV_PID=""
}

# ---- the real pipeline against ora-sim (lib/sim) and kinesalite (lib/kinesis)
# sv_real_env STREAM: environment for ora-supervise to run the real stages
# against the running ora-sim and kinesalite, state in $BATS_TEST_TMPDIR/state.
# SV_ORDER_ARGS: ora-order options, live and offline (sv_expected). ora-order
# keeps no order between actors and its batches are released by time, so
# outputs that depend on another actor's state (in_game_odds_update needs the
# event STARTED) vary with timing; "-t 0" keeps the arrival order and makes
# the outputs exactly comparable.
sv_real_env() {
  export ORA_BIN_DIR=$ORA_BIN
  export ORA_AUTH_URL=$SIM_AUTH_URL ORA_HOST=127.0.0.1 ORA_PORT=$SIM_PORT
  export ORA_CERT=$PKI_DIR/client.pem ORA_KEY=$PKI_DIR/client.key ORA_CACERT=$PKI_DIR/ca.pem
  export ORA_OFFERINGS=offering-se,offering-dk
  export ORA_STREAM=$1 ORA_ENDPOINT_URL=$KINESIS_ENDPOINT
  export ORA_STATE_DIR=$BATS_TEST_TMPDIR/state
  # --keep: ora-actors prunes to its newest 3 states, and can delete the state
  # of a checkpoint it has emitted that kinesis-put commits later (reported:
  # after a rewind it then exits 78, "no state for committed checkpoint");
  # with checkpoints every 0.5 s a loaded machine hits it. SV_ACTORS_KEEP=3
  # shows it.
  export ORA_ACTORS_ARGS="--checkpoint-interval ${SV_CKPT_INTERVAL:-0.5} --keep ${SV_ACTORS_KEEP:-1000}"
  export ORA_ORDER_ARGS=${SV_ORDER_ARGS-}
  unset ORA_CHECKPOINT ORA_LOG_DIR ORA_STDOUT ORA_VERIFY_NAME
}

# sv_kinesalite_start PORT DIR: kinesalite on 127.0.0.1:PORT keeping its data
# in DIR (so that it can be stopped and started again with what it held);
# sets KINESALITE_PID and KINESIS_ENDPOINT (lib/kinesis.bash for the rest).
sv_kinesalite_start() {
  local port=$1 dir=$2
  mkdir -p "$dir"
  KINESALITE_PORT=$port KINESALITE_PATH=$dir kinesalite_start || return 1
  # the port may have been taken by another program meanwhile: then it exits
  sleep 0.3
  kill -0 "$KINESALITE_PID" 2>/dev/null ||
    { echo "kinesalite exited (port $port taken?): $(tail -3 "$BATS_TEST_TMPDIR/kinesalite.log")" >&2; return 1; }
}

# The offset of the initial head and of the last snapshot ora-sim served.
sv_sim_head0() { sed -nE 's/.*head offset ([0-9]+).*/\1/p' "$SIM_ERR" | head -1; }
sv_sim_snapshot() { sed -nE 's/.*snapshot of [0-9]+ messages at offset ([0-9]+).*/\1/p' "$SIM_ERR" | tail -1; }

# sv_checkpoint: the committed offset (or -1).
sv_checkpoint() { cat "$ORA_STATE_DIR/checkpoint" 2>/dev/null || echo -1; }

# sv_wait_checkpoint W SECS: waits until the committed checkpoint is >= W.
sv_wait_checkpoint() {
  local w=$1 t=${2:-60} i c
  for ((i = 0; i < t * 10; i++)); do
    c=$(sv_checkpoint)
    ((c >= w)) && return 0
    sleep 0.1
  done
  echo "checkpoint $(sv_checkpoint) did not reach $w within ${t}s; log tail:" >&2
  tail -30 "$SV_LOG" >&2
  return 1
}

# sv_expected SEED SNAPSHOT_AT COUNT [SIM_OPTS...] > expected.jsonl: the
# outputs the rules require for a session whose snapshot was taken at
# SNAPSHOT_AT followed by COUNT realtime messages. The messages come from
# ora-sim --dump (the input, as the server sends it); the outputs from the
# oracle written from design.md, tests/tools/actors-expect.py (sv_oracle),
# never from the binaries under test. {"PartitionKey","Data"} lines.
sv_expected() (
  seed=$1 at=$2 count=$3 bin=$ORA_BIN
  shift 3
  # ora-sim reads ORA_* settings from the environment: none of the live run's
  for v in $(compgen -e ORA_); do [[ $v == ORA_LOG ]] || unset "$v"; done
  set -o pipefail
  "$bin/ora-sim" --dump --seed "$seed" --snapshot-at "$at" --count "$count" "$@" 2>/dev/null | sv_oracle
)

# sv_oracle < scenario.jsonl > expected.jsonl: ORA data messages (JSON lines,
# in arrival order) to the outputs the oracle requires, as kinesis-put
# delivers them ({"PartitionKey","Data"}): actors-expect.py expect-put. The
# one place that knows the oracle's command line.
sv_oracle() {
  python3 "$TOP/tests/tools/actors-expect.py" expect-put /dev/stdin
}

# sv_compare EXPECTED GOT [--any-flow] [--also FILE]...: compares
# {"PartitionKey","Data"} lines as multisets, ignoring msg_datetime (receive
# time) and msg_flow (the live session's flow differs from the offline one)
# and number spelling (4.0 vs 4). Records of an --also file are tolerated,
# neither required nor unexpected (the outputs of an earlier snapshot that a
# restart without a checkpoint abandoned). Prints one line: expected,
# received, missing, duplicates and their ratio, unexpected; checks msg_flow
# of every received record (unless --any-flow). Returns 1 when anything
# expected is missing, when a record is neither expected (nor tolerated) nor
# a duplicate of an expected one, or when a flow is bad.
sv_compare() {
  python3 - "$@" <<'PY'
import collections, json, sys
flows = {"snapshot", "replay", "realtime"}
badflow = []
def norm(l, check=False):
    r = json.loads(l, parse_int=float)
    d = r["Data"]
    d.pop("msg_datetime", None)
    f = d.pop("msg_flow", None)
    if check and f not in flows and "--any-flow" not in sys.argv[3:]:
        badflow.append(f)
    return json.dumps([r["PartitionKey"], d], sort_keys=True)
opts = sys.argv[3:]
also = set()
for i, a in enumerate(opts):
    if a == "--also":
        also.update(norm(l) for l in open(opts[i + 1]) if l.strip())
exp = collections.Counter(norm(l) for l in open(sys.argv[1]) if l.strip())
got = collections.Counter(norm(l, True) for l in open(sys.argv[2]) if l.strip())
missing = exp - got
extra = got - exp
dups = collections.Counter({k: v for k, v in extra.items() if k in exp})
unexpected = collections.Counter({k: v for k, v in extra.items() if k not in exp and k not in also})
tolerated = sum(v for k, v in extra.items() if k not in exp and k in also)
ne, ng, nm, nd, nu = (sum(c.values()) for c in (exp, got, missing, dups, unexpected))
print("outputs: %d expected, %d received, %d missing, %d duplicates (ratio %.4f), %d unexpected%s"
      % (ne, ng, nm, nd, nd / ne if ne else 0, nu,
         ", %d of an abandoned snapshot" % tolerated if tolerated else ""))
for m in list(missing)[:3]:
    print("missing: " + m[:300])
for u in list(unexpected)[:3]:
    print("unexpected: " + u[:300])
if badflow:
    print("bad msg_flow in %d records, e.g. %r" % (len(badflow), badflow[0]))
sys.exit(1 if nm or nu or badflow or ne == 0 else 0)
PY
}
