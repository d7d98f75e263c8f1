# tests/lib/net.bash: ports on 127.0.0.1, for the suites (tests/helper.bash
# loads it) and for the benchmarks that start the suites' servers
# (bench/lib.sh). Plain bash: no bats needed.

# A free TCP port on 127.0.0.1 (racy in theory; tests bind at once).
free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# Waits up to $2 seconds (default 10) for 127.0.0.1:$1 to accept.
wait_port() {
  local port=$1 t=${2:-10} i
  for ((i = 0; i < t * 20; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $port did not open within ${t}s" >&2
  return 1
}
