# tests/lib/supervise.bash: running scripts/ora-supervise in the background
# from a bats test, waiting on its log, and cleaning up.
#   sv_start ARGS...     starts it (stdout -> $SV_OUT, stderr log -> $SV_LOG)
#   sv_wait_log RE [S]   waits up to S s (default 20) for an ERE in the log
#   sv_count RE          number of log lines matching the ERE
#   sv_stage_pid NAME    pid of the latest start of a stage
#   sv_wait_exit [S]     waits up to S s (default 60) for it to end; sets sv_status
#   sv_stop              teardown: TERM, then KILL, the supervisor and its stages
SV_PID=""
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
