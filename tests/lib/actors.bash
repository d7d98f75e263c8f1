# tests/lib/actors.bash: helpers for tests/actors.bats.
AEXP="$TOP/tests/tools/actors-expect.py"
AFIX="$FIXTURES/actors"

# act_rec SCEN OUT.rec [--unrouted]: the scenario as records.
act_rec() {
  "$AEXP" records "$1" "${@:3}" | ora-rec pack --meta 2>/dev/null >"$2"
}

# act_cmp EXPECTED.jsonl OUT.rec [--dups-ok]: OUT records equal the expectation.
act_cmp() {
  ora-rec unpack --meta <"$2" 2>/dev/null >"$2.jsonl"
  "$AEXP" compare "$1" "$2.jsonl" "${@:3}"
}

# act_types OUT.rec: the data types of OUT records, space separated.
act_types() {
  ora-rec unpack --meta <"$1" 2>/dev/null | jq -r 'select(.type=="OUT") | .data.type' | tr '\n' ' ' | sed 's/ $//'
}

# act_scenario NAME [ora-actors options]: runs a fixture scenario and
# compares with the independent model given the same options.
act_scenario() {
  local s=$AFIX/$1.jsonl d=$BATS_TEST_TMPDIR
  shift
  act_rec "$s" "$d/in.rec"
  ora-actors "$@" <"$d/in.rec" >"$d/out.rec" 2>"$d/err" || { cat "$d/err"; return 1; }
  "$AEXP" expect "$s" "$@" >"$d/exp.jsonl"
  act_cmp "$d/exp.jsonl" "$d/out.rec"
}

# ctrl_offsets OUT.rec: the offsets of checkpoint CTRL records.
ckpt_offsets() {
  ora-rec unpack --meta <"$1" 2>/dev/null | jq -r 'select(.type=="CTRL" and .data.ctrl=="checkpoint") | .data.offset' | tr '\n' ' ' | sed 's/ $//'
}

# conf_run NAME > got.jsonl: the conformance pair NAME's input through the
# pipeline's stages, as kinesis-put --stdout prints what it would send.
conf_run() {
  grep -v '^#' "$FIXTURES/conformance/$1.in.jsonl" | ora-rec pack --flow realtime 2>/dev/null |
    ora-order -b 1 -t 0 2>/dev/null | ora-actors 2>"$BATS_TEST_TMPDIR/$1.err" | kinesis-put --stdout 2>/dev/null
}

# conf_compare EXPECTED GOT: {"PartitionKey","Data"} lines equal per partition
# key, in order (Kinesis keeps order per key only), every field but
# msg_datetime, numbers as written (1.950 is not 1.95). Prints the first
# difference and returns 1.
conf_compare() {
  python3 - "$1" "$2" <<'PY'
import collections, json, re, sys
class Num(float):
    def __new__(cls, t):
        o = float.__new__(cls, t); o.text = t; return o
def canon(v):
    if isinstance(v, Num): return {"#": v.text}
    if isinstance(v, list): return [canon(x) for x in v]
    if isinstance(v, dict): return {k: canon(x) for k, x in v.items()}
    return v
def load(path, got):
    per = collections.OrderedDict()
    for n, line in enumerate(open(path), 1):
        if not line.strip():
            continue
        r = json.loads(line, parse_float=Num, parse_int=Num)
        d = r["Data"]
        t = d.pop("msg_datetime", None)
        if got and not (isinstance(t, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t)):
            sys.exit("%s:%d: msg_datetime %r" % (path, n, t))
        per.setdefault(r["PartitionKey"], []).append(json.dumps(canon(d), sort_keys=True))
    return per
exp, got = load(sys.argv[1], False), load(sys.argv[2], True)
for k in sorted(set(exp) | set(got)):
    e, g = exp.get(k, []), got.get(k, [])
    for i in range(max(len(e), len(g))):
        if i >= len(e) or i >= len(g) or e[i] != g[i]:
            print("partition key %s, record %d:" % (k, i + 1))
            print("  expected %s" % (e[i] if i < len(e) else "nothing"))
            print("  got      %s" % (g[i] if i < len(g) else "nothing"))
            sys.exit(1)
PY
}

# state_forge IN OUT [W [BEYOND]]: a copy of state file IN with its W and
# its list of applied offsets above W replaced (BEYOND: a Python expression
# of a list of offsets), its BLAKE2b-256 sum made right again: a file that
# passes the checksum and lies (tests of the loader's other checks).
state_forge() {
  python3 - "$@" <<'PY'
import hashlib, struct, sys
src, dst = sys.argv[1], sys.argv[2]
b = open(src, "rb").read()[:-32]
magic, ver, w, now, nb = struct.unpack_from("<8sIqQI", b, 0)
head = 8 + 4 + 8 + 8 + 4
body = b[head + 8 * nb:]
beyond = list(struct.unpack_from("<%dq" % nb, b, head))
if len(sys.argv) > 3:
    w = int(sys.argv[3])
if len(sys.argv) > 4:
    beyond = list(eval(sys.argv[4]))
out = struct.pack("<8sIqQI", magic, ver, w, now, len(beyond)) + struct.pack("<%dQ" % len(beyond), *beyond) + body
open(dst, "wb").write(out + hashlib.blake2b(out, digest_size=32).digest())
PY
}

# state_name W: the file name of the state for W.
state_name() { printf 'actors-%020d.state' "$1"; }
