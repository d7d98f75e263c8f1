# tests/lib/service.bash: a local server that a suite starts in the
# background on a 127.0.0.1 port and stops in teardown (kinesalite, moto,
# the Kinesis fault stand-in). Loaded by lib/kinesis and lib/moto.
#
#   service_start NAME SECONDS PORT RUN [ARGS...]
#                     up to three tries: RUN PORT ARGS... in the background
#                     (RUN serves on PORT; a function must exec the server,
#                     so that SERVICE_PID is the server's own pid; an
#                     empty PORT: a free one each try), then waits SECONDS
#                     for the port. Sets SERVICE_PID and SERVICE_PORT and
#                     returns 0; a try that does not open the port is
#                     killed. After three, says "NAME did not start" and
#                     returns 1.
#   service_stop VAR  kills the process whose pid is in the variable VAR
#                     (if any), reaps it and empties VAR; always returns 0.

service_start() {
  local name=$1 secs=$2 fixed=$3 run=$4 i
  shift 4
  for i in 1 2 3; do
    SERVICE_PORT=${fixed:-$(free_port)}
    "$run" "$SERVICE_PORT" "$@" &
    SERVICE_PID=$!
    wait_port "$SERVICE_PORT" "$secs" && return 0
    kill "$SERVICE_PID" 2>/dev/null; wait "$SERVICE_PID" 2>/dev/null
  done
  echo "$name did not start" >&2
  return 1
}

service_stop() {
  local pid=${!1:-}
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    printf -v "$1" ''
  fi
  return 0
}
