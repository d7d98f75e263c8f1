# tests/lib/connect.bash: helpers for tests/connect.bats (ora-connect against ora-sim).
#   load helper; load lib/sim; load lib/connect
#
# conn_init             sets the array CONN: the flags that connect to the running
#                       sim (sim_start first) with the test PKI, offering-se and a
#                       short backoff.
# messages REC          the JSON messages inside a file of ora-connect records, one
#                       per line: ora-deframe | ora-rec unpack when ora-deframe is
#                       built, else the independent decoder below.
# wire_decode REC       an independent decoder (python, zlib): WIRE records -> the
#                       frames as JSON lines (a record flagged INFLATED holds one
#                       frame as it is); the stream restarts at every CTRL
#                       connected; a connection that ends inside a member or frame
#                       (a dropped link) loses only that tail.
# ctrls REC             the CTRL records of REC as JSON lines (their payloads).
# covers LOG MSGS [W]   checks that every message of LOG (ora-sim --log) with offset
#                       > W (default -1) is in MSGS (same JSON text once parsed);
#                       prints "log=N got=M dup=D"; exit 1 naming what is missing.
# exactly LOG MSGS [W]  the same, and MSGS holds nothing else (each data message
#                       once, none with offset <= W).
# wait_lines FILE N     waits (up to 20 s) until FILE has at least N lines.
# wait_covered LOG SECS CMD...
#                       waits (up to SECS) until the messages that CMD prints
#                       (JSON lines; a line still being written is left out)
#                       cover LOG: what has been sent has arrived, however
#                       slow a busy machine is. 1 when they never do.

conn_init() {
  CONN=(--auth-url "$SIM_AUTH_URL" --host 127.0.0.1 --port "$SIM_PORT"
        --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem"
        --offering offering-se --backoff-min 0.05 --backoff-max 0.3 --connect-timeout 5)
}

messages() {
  if [ -x "$ORA_BIN/ora-deframe" ]; then
    "$ORA_BIN/ora-deframe" <"$1" | "$ORA_BIN/ora-rec" unpack
  else
    wire_decode "$1"
  fi
}

ctrls() {
  "$ORA_BIN/ora-rec" unpack --meta -i "$1" 2>/dev/null | jq -c 'select(.type == "CTRL") | .data'
}

wire_decode() {
  "$ORA_BIN/ora-rec" unpack --meta -i "$1" | python3 -c '
import base64, json, struct, sys, zlib
out = sys.stdout
d = None; buf = b""
def reset():
    global d, buf
    d = zlib.decompressobj(31); buf = b""
reset()
for line in sys.stdin:
    r = json.loads(line)
    if r["type"] == "CTRL":
        if r["data"]["ctrl"] == "connected":
            reset()
        continue
    if r["type"] != "WIRE":
        continue
    raw = base64.b64decode(r["data_base64"])
    if r.get("flags", 0) & 2:   # INFLATED: one whole frame, already inflated
        out.write(raw.decode() + "\n")
        continue
    while raw:
        try:
            buf += d.decompress(raw)
        except zlib.error:
            d = None
            break
        raw = d.unused_data
        if d.eof:
            d = zlib.decompressobj(31)
        while len(buf) >= 4:
            n = struct.unpack_from(">I", buf)[0]
            if len(buf) < 4 + n:
                break
            out.write(buf[4:4 + n].decode() + "\n")
            buf = buf[4 + n:]
    if d is None:
        d = zlib.decompressobj(31)  # corrupt: the rest of this read is lost
'
}

_compare() {
  python3 - "$@" <<'PY'
import json, sys
mode, logf, msgf = sys.argv[1], sys.argv[2], sys.argv[3]
w = int(sys.argv[4]) if len(sys.argv) > 4 else -1
canon = lambda o: json.dumps(o, sort_keys=True)
want = {}
for l in open(logf):
    if l.strip():
        o = json.loads(l)
        if o["offset"] > w:
            want[canon(o)] = o["offset"]
seen = {}
extra = low = 0
for l in open(msgf):
    if not l.strip():
        continue
    o = json.loads(l)
    if "type" in o or "ctrl" in o:   # session messages, control records
        continue
    k = canon(o)
    seen[k] = seen.get(k, 0) + 1
    if k not in want:
        extra += 1
        if o.get("offset", -1) <= w:
            low += 1
missing = [v for k, v in want.items() if k not in seen]
dup = sum(c - 1 for c in seen.values())
print("log=%d got=%d dup=%d extra=%d" % (len(want), sum(seen.values()), dup, extra))
if missing:
    print("missing %d messages, offsets %s" % (len(missing), sorted(missing)[:20]))
    sys.exit(1)
if mode == "exactly" and (dup or extra):
    print("not exactly the log: %d duplicates, %d extra (%d at or below %d)" % (dup, extra, low, w))
    sys.exit(1)
PY
}

covers() { _compare covers "$@"; }

wait_covered() {
  local log=$1 t=$2 i n
  shift 2
  for ((i = 0; i < t * 2; i++)); do
    "$@" >wait_covered.all 2>/dev/null || true
    n=$(wc -l <wait_covered.all)
    head -n "$n" wait_covered.all >wait_covered.jsonl
    covers "$log" wait_covered.jsonl >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "the messages of $log did not all arrive within ${t}s" >&2
  return 1
}
exactly() { _compare exactly "$@"; }

wait_lines() {
  local i
  for ((i = 0; i < 400; i++)); do
    [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.05
  done
  echo "$1 has $(wc -l <"$1" 2>/dev/null) lines, not $2, after 20 s" >&2
  return 1
}

# Waits (up to $2 s, default 20) until file $1 contains the fixed string $3.
wait_grep() {
  local f=$1 t=${2:-20} s=$3 i
  for ((i = 0; i < t * 20; i++)); do
    grep -qF -- "$s" "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "'$s' did not appear in $f within ${t}s" >&2
  return 1
}

# fake_ora PORT LOG SCRIPT: a scripted ORA server (python, TLS with the test
# PKI, client certificate required) on 127.0.0.1:PORT, in the background
# (sets FAKE_PID). SCRIPT is a file of lines, one connection after another
# separated by "--":  send JSON | raw BASE64 | recv | sleep S | close (connections that
# fail the TLS handshake, such as wait_port's, do not count; once the script
# is over the port is closed).  "recv" reads one
# command and appends it to LOG as {"conn":N,"members":M,"frames":F,"cmd":{...}}
# where M and F count the gzip members and frames its bytes held.
fake_ora() {
  python3 - "$1" "$2" "$3" "$PKI_DIR" <<'PY' &
import base64, json, socket, ssl, struct, sys, time, zlib
port, logf, script, pki = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conns = [[]]
for l in open(script):
    l = l.strip()
    if l == "--":
        conns.append([])
    elif l:
        conns[-1].append(l)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + "/server.pem", pki + "/server.key")
ctx.load_verify_locations(pki + "/ca.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
def member(o):
    b = json.dumps(o, separators=(",", ":")).encode()
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    return z.compress(struct.pack(">I", len(b)) + b) + z.flush()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(8)
n = 0
while n < len(conns):
    c, _ = ls.accept()
    c.settimeout(10)
    try:
        t = ctx.wrap_socket(c, server_side=True)   # a bare probe (wait_port) fails here
    except Exception:
        continue
    steps = conns[n]
    n += 1
    t.settimeout(10)
    raw = b""
    for st in steps:
        op, _, arg = st.partition(" ")
        if op == "send":
            t.sendall(member(json.loads(arg)))
        elif op == "raw":
            t.sendall(base64.b64decode(arg))
        elif op == "sleep":
            time.sleep(float(arg))
        elif op == "close":
            break
        elif op == "recv":
            # read until one whole frame is inflated; count members and frames
            members, plain = 0, b""
            while True:
                while raw:
                    d = zlib.decompressobj(31)
                    try:
                        out = d.decompress(raw)
                    except zlib.error:
                        raw = b""; break
                    if not d.eof:
                        break
                    members += 1; plain += out; raw = d.unused_data
                if len(plain) >= 4 and len(plain) >= 4 + struct.unpack(">I", plain[:4])[0]:
                    break
                x = t.recv(65536)
                if not x:
                    break
                raw += x
            frames, i = 0, 0
            while i + 4 <= len(plain):
                i += 4 + struct.unpack(">I", plain[i:i + 4])[0]; frames += 1
            cmd = json.loads(plain[4:4 + struct.unpack(">I", plain[:4])[0]]) if len(plain) >= 4 else None
            with open(logf, "a") as f:
                f.write(json.dumps({"conn": n, "members": members, "frames": frames, "cmd": cmd}) + "\n")
    try:
        t.close()
    except Exception:
        pass
ls.close()   # the script is over: later connections are refused
time.sleep(30)
PY
  FAKE_PID=$!
}
