#!/usr/bin/env bats
# ora-sim: the local ORA server. Driven by an independent client
# (tests/tools/ora-client.py: python3 stdlib ssl/zlib), curl and openssl,
# never by ora-connect. Ground truth: ora-sim --dump and the --log file.

setup() {
  load helper
  load lib/sim
  pki_setup
  T=$BATS_TEST_TMPDIR
}

teardown() {
  sim_stop
  return 0
}

# strip_flow: {"flow":F,"msg":RAW} lines (ora-client --annotate) -> RAW, for flow F
only_flow() {
  grep -F "{\"flow\":\"$1\"," | sed -E 's/^\{"flow":"[a-z]+","msg":(.*)\}$/\1/'
}

# the session messages a client saw (--stats FILE), pings left out: a ping
# may come between any two, however long the session takes
session_seen() {
  jq -c "[.session[] | select(. != \"SESSION_PING\")]$2" "$1"
}

# initial head (offsets of the initial population) for the given model options
initial_head() {
  ora-sim --dump --count 0 "$@" 2>/dev/null | wc -l
}

# ---- usage -------------------------------------------------------------------

@test "help, version and usage errors" {
  run ora-sim --help
  assert_success
  assert_output --partial "usage: ora-sim"
  run ora-sim --version
  assert_success
  run_split ora-sim --bogus
  assert_equal "$status" 64
  run_split ora-sim --dump --seed x
  assert_equal "$status" 64
  assert_equal "$(echo "$stderr" | head -1)" "ora-sim: error: unable to use --seed: invalid value 'x'; try 'ora-sim --help'"
  run_split ora-sim --dump --offers-per-event 5..2
  assert_equal "$status" 64
  run_split ora-sim --dump --reorder 1.5
  assert_equal "$status" 64
  run_split ora-sim --port 0
  assert_equal "$status" 64
  assert_output ""
  [[ "$stderr" == *"--cert, --key and --cacert are required"* ]]
  run_split ora-sim --dump stray
  assert_equal "$status" 64
}

@test "bad certificate or key is a configuration error (78)" {
  run_split ora-sim --cert /nonexistent --key "$PKI_DIR/server.key" --cacert "$PKI_DIR/ca.pem" --port 0 --auth-port 0
  assert_equal "$status" 78
  [[ "$stderr" == *"unable to load the server certificate"* ]]
  run_split ora-sim --cert "$PKI_DIR/server.pem" --key "$PKI_DIR/client.key" --cacert "$PKI_DIR/ca.pem" --port 0 --auth-port 0
  assert_equal "$status" 78
}

# ---- the model (--dump) ----------------------------------------------------------

@test "dump is deterministic for a seed and differs between seeds" {
  ora-sim --dump --seed 7 --count 3000 -o "$T/a.jsonl"
  ora-sim --dump --seed 7 --count 3000 >"$T/b.jsonl"
  ora-sim --dump --seed 8 --count 3000 >"$T/c.jsonl"
  cmp "$T/a.jsonl" "$T/b.jsonl"
  run cmp -s "$T/a.jsonl" "$T/c.jsonl"
  assert_failure
  [ "$(wc -l <"$T/a.jsonl")" -gt 3000 ]
}

# The entity model of doc/design.md §2 ("The entity model: the fields the
# seed reads"), written out by hand from its table: every path a reader
# takes, with its type. Prints one line per violation.
model_check() {
  python3 - "$@" <<'PY'
import json, sys
bad = []
seen = set()
def err(n, why): bad.append("line %d: %s" % (n, why))
def is_num(v): return isinstance(v, (int, float)) and not isinstance(v, bool)
def is_int(v): return isinstance(v, int) and not isinstance(v, bool)
def is_str(v): return isinstance(v, str) and v != ""
def is_strs(v): return isinstance(v, list) and all(isinstance(x, str) for x in v)
def is_text(v): return isinstance(v, dict) and is_str(v.get("defaultTranslation"))
def participants(n, ps):
    if not isinstance(ps, list) or not ps: return err(n, "participants")
    for p in ps:
        if not (is_num(p.get("id")) and is_text(p.get("name")) and is_str(p.get("type"))
                and isinstance(p.get("homeParticipant"), bool)):
            err(n, "participant %r" % p)
    if sum(p.get("homeParticipant") is True for p in ps) != 1: err(n, "not one home participant")
def event(n, e):
    if not isinstance(e, dict): return err(n, "event")
    for k, ok in (("id", is_num), ("startsAt", is_str), ("sport", is_str), ("status", is_str)):
        if not ok(e.get(k)): err(n, "event." + k)
    if not (isinstance(e.get("group"), dict) and is_num(e["group"].get("id"))): err(n, "event.group.id")
    if not is_text(e.get("competitionName")): err(n, "event.competitionName.defaultTranslation")
    participants(n, e.get("participants"))
def odds(n, l):
    if not isinstance(l, list) or not l: return err(n, "odds")
    for o in l:
        if not (is_strs(o.get("offerings")) and o["offerings"]): err(n, "odds[].offerings")
        d = o.get("odds", {}).get("decimal") if isinstance(o.get("odds"), dict) else None
        if not (is_int(d) and 1000 < d <= 1000000): err(n, "odds[].odds.decimal %r" % d)
def offer(n, b):
    if not isinstance(b, dict): return err(n, "betOffer")
    for k in ("id", "eventId"):
        if not is_num(b.get(k)): err(n, "betOffer." + k)
    if b.get("status") not in ("OPEN", "SUSPENDED", "CLOSED"): err(n, "betOffer.status")
    c = b.get("criterion")
    if not (isinstance(c, dict) and is_num(c.get("id")) and is_text(c.get("label"))): err(n, "criterion")
    if not is_strs(b.get("lineType")): err(n, "lineType")
    if not is_strs(b.get("tags")): err(n, "tags")
    if not isinstance(b.get("outcomes"), list) or not b["outcomes"]: return err(n, "outcomes")
    for o in b["outcomes"]:
        if not (is_num(o.get("id")) and o.get("betOfferId") == b.get("id") and is_str(o.get("status"))
                and is_text(o.get("label"))):
            err(n, "outcome %r" % {k: v for k, v in o.items() if k != "odds"})
        odds(n, o.get("odds"))
def ids(*keys):
    return lambda n, p: [err(n, k) for k in keys if not is_num(p.get(k))]
check = {
    "eventAdded": lambda n, p: event(n, p.get("event")),
    "eventUpdated": lambda n, p: event(n, p.get("event")),
    "eventStatusUpdated": lambda n, p: (ids("id")(n, p), is_str(p.get("status")) or err(n, "status")),
    "eventDeleted": ids("id"),
    "eventCashOutStatusUpdated": ids("id"),
    "eventTagsUpdated": lambda n, p: (ids("id")(n, p), is_strs(p.get("tags")) or err(n, "tags")),
    "eventParticipantsUpdated": lambda n, p: (ids("eventId")(n, p), participants(n, p.get("participants"))),
    "eventScoreUpdated": ids("eventId"),
    "matchClockUpdated": ids("eventId"),
    "betOfferAdded": lambda n, p: offer(n, p.get("betOffer")),
    "betOfferUpdated": lambda n, p: offer(n, p.get("betOffer")),
    "betOfferStatusUpdated": lambda n, p: (ids("id")(n, p),
        p.get("status") in ("OPEN", "SUSPENDED", "CLOSED") or err(n, "status")),
    "betOfferLineTypesUpdated": lambda n, p: (ids("id")(n, p), is_strs(p.get("lineTypes")) or err(n, "lineTypes")),
    "betOfferCashOutStatusUpdated": ids("id"),
    "betOfferDeleted": ids("betOfferId"),
    "outcomeOddsUpdated": lambda n, p: (ids("betOfferId", "outcomeId")(n, p), odds(n, p.get("odds"))),
    "outcomeStatusUpdated": lambda n, p: (ids("betOfferId", "outcomeId")(n, p), is_str(p.get("status")) or err(n, "status")),
    "outcomeCashoutStatusUpdated": ids("betOfferId", "outcomeId"),
}
# the old flat shape, anywhere
def flat(n, v, key=None):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("name", "label") and isinstance(x, str): err(n, "bare string %s %r" % (k, x))
            if k == "home" and key == "participants": err(n, "participant with home")
            if k == "decimal" and "offerings" in v: err(n, "decimal directly in an odds entry")
            flat(n, x, k)
    elif isinstance(v, list):
        for x in v: flat(n, x, key)
for n, line in enumerate(open(sys.argv[1]), 1):
    m = json.loads(line)
    keys = [k for k in m if k != "offset"]
    if not is_int(m.get("offset")) or len(keys) != 1:
        err(n, "offset and one payload key"); continue
    k = keys[0]
    if k not in check:
        err(n, "unknown payload key " + k); continue
    seen.add(k)
    if not isinstance(m[k], dict):
        err(n, k + " is not an object"); continue
    check[k](n, m[k])
    if k == "betOfferLineTypesUpdated" and "lineType" in m[k]: err(n, "lineType in a line-types update")
    flat(n, m, None)
for k in sorted(set(check) - seen): bad.append("never seen: " + k)
print("\n".join(bad[:20]))
PY
}

@test "dump: every payload key of doc/design.md §2, with the entity model's field paths, none in the old flat shape" {
  ora-sim --dump --seed 1 --count 3000 >"$T/d.jsonl"
  run model_check "$T/d.jsonl"
  assert_output ""
  # the checker catches each old flat shape (a fixture per shape, written by hand)
  for old in '{"offset":1,"eventAdded":{"event":{"id":1,"startsAt":"2026-12-01T12:00:00Z","sport":"FOOTBALL","status":"STARTED","group":{"id":2},"competitionName":{"defaultTranslation":"L"},"participants":[{"id":3,"name":"A","type":"TEAM","homeParticipant":true}]}}}' \
             '{"offset":1,"eventAdded":{"event":{"id":1,"startsAt":"2026-12-01T12:00:00Z","sport":"FOOTBALL","status":"STARTED","group":{"id":2},"competitionName":{"defaultTranslation":"L"},"participants":[{"id":3,"name":{"defaultTranslation":"A"},"type":"TEAM","home":true}]}}}' \
             '{"offset":1,"outcomeOddsUpdated":{"betOfferId":1,"outcomeId":2,"odds":[{"offerings":["jurisdiction1"],"decimal":1.9}]}}' \
             '{"offset":1,"betOfferLineTypesUpdated":{"id":1,"lineType":["MAIN_LINE"]}}'; do
    printf '%s\n' "$old" >"$T/old"
    run model_check "$T/old"
    [[ "$output" == *"line 1:"* ]] || fail "the checker accepts $old"
  done
  printf '%s\n' '{"offset":1,"betOfferLineTypesUpdated":{"id":1,"lineTypes":["MAIN_LINE"]}}' >"$T/new"
  run model_check "$T/new"
  [[ "$output" != *"line 1:"* ]] || fail "the checker refuses the table's shape: $output"
  # a snapshot taken later is in the same model
  m=$(initial_head --seed 1)
  ora-sim --dump --seed 1 --snapshot-at $((m + 2000)) --count 10 >"$T/s.jsonl"
  run model_check "$T/s.jsonl"
  assert_output --partial "never seen"
  refute_output --partial "line "
}

@test "dump: realistic values: milli-odds, offerings from --jurisdictions, main line off and back, tags, unlisted outcomes" {
  ora-sim --dump --seed 1 --count 5000 >"$T/d.jsonl"
  # integer milli-odds, most of them on the grid of hundredths
  run jq -s '[.[] | .. | objects | select(has("offerings")) | .odds.decimal] | (length > 1000) and all(. == floor and . > 1000)' "$T/d.jsonl"
  assert_output true
  # offering names: the seed's jurisdiction table by default, or the configured names
  offs=$(jq -r '.. | objects | select(has("offerings")) | .offerings[]' "$T/d.jsonl" | sort -u | xargs)
  assert_equal "$offs" "jurisdiction1 jurisdiction2 jurisdiction3 jurisdiction4 jurisdiction5"
  ora-sim --dump --seed 1 --count 200 --jurisdictions se-retail,dk.online,gb >"$T/j.jsonl"
  offs=$(jq -r '.. | objects | select(has("offerings")) | .offerings[]' "$T/j.jsonl" | sort -u | xargs)
  assert_equal "$offs" "dk.online gb se-retail"
  run_split ora-sim --dump --jurisdictions 'a,,b'
  assert_equal "$status" 64
  run_split ora-sim --dump --jurisdictions "$(seq -s, 17)"
  assert_equal "$status" 64
  # line-type updates take an offer off MAIN_LINE and put one back on it
  python3 - "$T/d.jsonl" <<'PY'
import json, sys
main, off_and_back = {}, 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    b = m.get("betOfferAdded", m.get("betOfferUpdated", {})).get("betOffer")
    if b: main[b["id"]] = "MAIN_LINE" in b["lineType"]
    u = m.get("betOfferLineTypesUpdated")
    if u and u["id"] in main:
        now = "MAIN_LINE" in u["lineTypes"]
        if main[u["id"]] is False and now: off_and_back += 1
        main[u["id"]] = now
assert off_and_back > 0, off_and_back
PY
  # bet offers with and without OFFERED_LIVE
  run jq -s '[.[] | (.betOfferAdded // .betOfferUpdated // empty) | .betOffer.tags | index("OFFERED_LIVE") != null] | unique' "$T/d.jsonl"
  assert_equal "$(echo "$output" | jq -c .)" '[false,true]'
  # odds and status updates for outcomes that no bet offer message listed yet
  python3 - "$T/d.jsonl" <<'PY'
import json, sys
listed, odds, status = set(), 0, 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    b = m.get("betOfferAdded", m.get("betOfferUpdated", {})).get("betOffer")
    if b: listed.update(o["id"] for o in b["outcomes"])
    for k in ("outcomeOddsUpdated", "outcomeStatusUpdated"):
        u = m.get(k)
        if u and u["outcomeId"] not in listed:
            odds += k == "outcomeOddsUpdated"; status += k == "outcomeStatusUpdated"
assert odds > 0 and status > 0, (odds, status)
PY
}

@test "dump: every payload key within the first 100 realtime messages" {
  for seed in 1 2 3; do
    n=$(ora-sim --dump --seed $seed --count 100 | tail -n 100 | jq -r 'del(.offset) | keys[0]' | sort -u | wc -l)
    assert_equal "$n" 18
  done
}

@test "dump: criteria, line types, tags and statuses the business rules need" {
  ora-sim --dump --seed 1 --count 3000 >"$T/d.jsonl"
  crit=$(jq -r '.. | objects | select(has("criterion")) | .criterion.id' "$T/d.jsonl" | sort -u)
  for c in 1001159512 1001159732 1001159509; do grep -qx "$c" <<<"$crit"; done
  [ "$(wc -l <<<"$crit")" -gt 3 ] # unwatched ones too
  lt=$(jq -rc '.. | objects | select(has("lineType")) | .lineType' "$T/d.jsonl" | sort -u)
  grep -qx '\["MAIN_LINE"\]' <<<"$lt"
  grep -qx '\["ALTERNATE_LINE"\]' <<<"$lt"
  jq -e -s '[.[] | .. | objects | select(has("betOffer")) | .betOffer.tags | index("OFFERED_LIVE")] | any' "$T/d.jsonl"
  evs=$(jq -r '(.eventAdded.event.status // .eventUpdated.event.status // .eventStatusUpdated.status) // empty' "$T/d.jsonl" | sort -u | xargs)
  assert_equal "$evs" "FINISHED NOT_STARTED STARTED"
  ofs=$(jq -r '(.betOfferAdded.betOffer.status // .betOfferStatusUpdated.status) // empty' "$T/d.jsonl" | sort -u | xargs)
  assert_equal "$ofs" "CLOSED OPEN SUSPENDED"
  # in-game odds updates are possible: a started event with a main-line, live, watched offer
  run jq -e -s '
    (map(select(.eventAdded.event.status == "STARTED") | .eventAdded.event.id)) as $live |
    [.[] | .betOfferAdded.betOffer // empty | select(.eventId as $e | $live | index($e))
         | select((.lineType | index("MAIN_LINE")) and (.tags | index("OFFERED_LIVE"))
                  and ([.criterion.id] | inside([1001159512,1001159732,1001159509])))] | length > 0' "$T/d.jsonl"
  assert_success
}

@test "dump: offsets contiguous; deletes followed by re-adds of the same id" {
  ora-sim --dump --seed 3 --count 5000 >"$T/d.jsonl"
  m=$(initial_head --seed 3)
  # the realtime part is in offset order, contiguous after the initial head
  tail -n 5000 "$T/d.jsonl" | jq .offset >"$T/offs"
  seq $((m + 1)) $((m + 5000)) | diff - "$T/offs"
  # snapshot part: one message per entity, offsets <= m, unique
  head -n "$m" "$T/d.jsonl" | jq .offset | sort -n | uniq -d >"$T/dups"
  [ ! -s "$T/dups" ]
  run jq -r -s '[range(1; length) as $i | select(.[$i-1].betOfferDeleted and .[$i].betOfferAdded
      and .[$i-1].betOfferDeleted.betOfferId == .[$i].betOfferAdded.betOffer.id)] | length' "$T/d.jsonl"
  [ "$output" -gt 0 ]
  run jq -r -s '[range(1; length) as $i | select(.[$i-1].eventDeleted and .[$i].eventAdded
      and .[$i-1].eventDeleted.id == .[$i].eventAdded.event.id)] | length' "$T/d.jsonl"
  [ "$output" -gt 0 ]
}

@test "dump --snapshot-at: the state at an offset carries each entity's last offset" {
  ora-sim --dump --seed 4 --events 20 --count 3000 >"$T/all.jsonl"
  m=$(initial_head --seed 4 --events 20)
  h=$((m + 1500))
  ora-sim --dump --seed 4 --events 20 --snapshot-at $h --count 1500 >"$T/s.jsonl"
  # after the snapshot, the same realtime messages
  diff <(tail -n 1500 "$T/all.jsonl") <(tail -n 1500 "$T/s.jsonl")
  n=$(($(wc -l <"$T/s.jsonl") - 1500))
  head -n "$n" "$T/s.jsonl" >"$T/snap.jsonl"
  # every snapshot offset <= h; each is the last offset touching that entity in the log
  run jq -e -s 'map(.offset <= '$h') | all' "$T/snap.jsonl"
  assert_success
  python3 - "$T/all.jsonl" "$T/snap.jsonl" "$h" <<'PY'
import json, sys
ev_keys = {"eventAdded", "eventUpdated", "eventDeleted", "eventStatusUpdated", "eventCashOutStatusUpdated",
           "eventTagsUpdated", "eventParticipantsUpdated", "eventScoreUpdated", "matchClockUpdated"}
def ident(m):
    k = next(k for k in m if k != "offset"); v = m[k]
    if k in ("eventAdded", "eventUpdated"): return ("E", v["event"]["id"])
    if k in ("betOfferAdded", "betOfferUpdated"): return ("B", v["betOffer"]["id"])
    if k in ("eventParticipantsUpdated", "eventScoreUpdated", "matchClockUpdated"): return ("E", v["eventId"])
    if k in ev_keys: return ("E", v["id"])
    if "betOfferId" in v: return ("B", v["betOfferId"])
    return ("B", v["id"])
h = int(sys.argv[3]); last = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["offset"] <= h: last[ident(m)] = m["offset"]
for line in open(sys.argv[2]):
    m = json.loads(line)
    assert last[ident(m)] == m["offset"], (ident(m), last[ident(m)], m["offset"])
PY
  run_split ora-sim --dump --seed 4 --events 20 --snapshot-at 1
  assert_equal "$status" 64
}

# ---- PKI and the auth endpoint -----------------------------------------------------

@test "gen-test-pki: CA, server for localhost and a wildcard, trusted and untrusted clients" {
  d=$T/pki
  run gen-test-pki "$d"
  assert_success
  for f in ca.pem server.pem server.key client.pem client.key untrusted-client.pem untrusted-client.key; do
    [ -s "$d/$f" ]
  done
  openssl verify -CAfile "$d/ca.pem" "$d/server.pem" "$d/client.pem"
  run openssl verify -CAfile "$d/ca.pem" "$d/untrusted-client.pem"
  assert_failure
  san=$(openssl x509 -in "$d/server.pem" -noout -ext subjectAltName)
  [[ "$san" == *"DNS:localhost"* && "$san" == *"IP Address:127.0.0.1"* && "$san" == *"DNS:*.ora-sim.test"* ]]
  [ "$(stat -c %a "$d/client.key")" = 600 ]
  # kept unless -f
  sum=$(md5sum <"$d/ca.pem")
  gen-test-pki "$d"
  [ "$(md5sum <"$d/ca.pem")" = "$sum" ]
  gen-test-pki -f "$d"
  [ "$(md5sum <"$d/ca.pem")" != "$sum" ]
  run gen-test-pki
  assert_equal "$status" 64
}

@test "auth: client certificate gets a signed JWT with an expiry" {
  sim_start --token-ttl 120
  t0=$(date +%s)
  sim_token "$T/tok"
  t1=$(date +%s)
  tok=$(cat "$T/tok")
  [[ "$tok" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]
  b64() { local s=${1//-/+}; s=${s//_//}; while (( ${#s} % 4 )); do s+="="; done; echo "$s" | base64 -d; }
  hdr=$(b64 "$(cut -d. -f1 <<<"$tok")")
  assert_equal "$(jq -r .alg <<<"$hdr")" HS256
  claims=$(b64 "$(cut -d. -f2 <<<"$tok")")
  exp=$(jq -r .exp <<<"$claims")
  # issued between t0 and t1, valid 120 s
  [ "$exp" -ge $((t0 + 120)) ] || fail "exp $exp is not 120 s after the request ($t0)"
  [ "$exp" -le $((t1 + 120)) ] || fail "exp $exp is more than 120 s after the answer ($t1)"
  assert_equal "$(jq -r .sub <<<"$claims")" ora-test-client
  # the token never appears in ora-sim's diagnostics
  run grep -qF "$(cut -d. -f3 <<<"$tok")" "$SIM_ERR"
  assert_failure
}

@test "auth: no or untrusted client certificate fails the TLS handshake; 404, 405" {
  sim_start
  run curl -sS --cacert "$PKI_DIR/ca.pem" "$SIM_AUTH_URL"
  assert_failure
  run curl -sS --cacert "$PKI_DIR/ca.pem" --cert "$PKI_DIR/untrusted-client.pem" --key "$PKI_DIR/untrusted-client.key" "$SIM_AUTH_URL"
  assert_failure
  C=(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI_DIR/ca.pem" --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key")
  assert_equal "$("${C[@]}" "https://127.0.0.1:$SIM_AUTH_PORT/nope")" 404
  assert_equal "$("${C[@]}" -X POST "$SIM_AUTH_URL")" 405
  assert_equal "$("${C[@]}" "https://127.0.0.1:$SIM_AUTH_PORT/token")" 200
  # openssl s_client without a certificate: the server asks for one and refuses
  run bash -c "echo | timeout 5 openssl s_client -connect 127.0.0.1:$SIM_AUTH_PORT -CAfile '$PKI_DIR/ca.pem' -quiet 2>&1"
  [[ "$output" == *"alert"* || "$output" == *"error"* ]]
  for i in $(seq 100); do grep -q "TLS handshake failed" "$SIM_ERR" && break; sleep 0.1; done
  grep -q "TLS handshake failed" "$SIM_ERR"
}

# ---- session protocol ----------------------------------------------------------------

@test "session messages are built and parsed in one module (lib/smsg.c) for ora-connect and ora-sim" {
  # no JSON text of a session message or of its body written by hand on either side
  run grep -nE '\\"(SESSION_[A-Z_]+|session[A-Z][A-Za-z]*)\\"' "$TOP/lib/session.c" "$TOP/cmd/ora-connect.c" \
    "$TOP/cmd/ora-sim.c" "$TOP"/sim/*.c
  assert_output ""
  grep -q 'ora_smsg_build' "$TOP/sim/sim_session.c"
  grep -q 'ora_smsg_build' "$TOP/cmd/ora-connect.c"
}

@test "ORA port: an untrusted or missing client certificate never gets a session" {
  sim_start
  sim_token "$T/tok"
  run python3 "$TOP/tests/tools/ora-client.py" --port "$SIM_PORT" --cacert "$PKI_DIR/ca.pem" \
    --cert "$PKI_DIR/untrusted-client.pem" --key "$PKI_DIR/untrusted-client.key" \
    --token-file "$T/tok" --stats "$T/st.json" --timeout 10
  [ "$status" -eq 6 ] || [ "$status" -eq 3 ]
  assert_equal "$(jq -c .session "$T/st.json")" "[]"
  run python3 "$TOP/tests/tools/ora-client.py" --port "$SIM_PORT" --cacert "$PKI_DIR/ca.pem" \
    --token-file "$T/tok" --stats "$T/st.json" --timeout 10
  [ "$status" -eq 6 ] || [ "$status" -eq 3 ]
  assert_equal "$(jq -c .session "$T/st.json")" "[]"
  # and the server checks the server name the client wants: the cert names *.ora-sim.test
  sim_client --token-file "$T/tok" --server-name feed.ora-sim.test --max-data 1 >/dev/null
  run sim_client --token-file "$T/tok" --server-name feed.kambi.test --max-data 1
  assert_equal "$status" 6
}

@test "token checks: missing, garbage, expired, foreign -> SESSION_ERROR INVALID_TOKEN" {
  sim_start --token-ttl 0
  sim_token "$T/expired"
  run_split sim_client --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_TOKEN
  run_split sim_client --token garbage --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_TOKEN
  run_split sim_client --token-file "$T/expired" --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_TOKEN
  [[ "$stderr" == *"expired"* ]]
  # a token signed by another server instance
  sim_stop
  sim_start
  run_split sim_client --token-file "$T/expired" --stats "$T/st.json"
  assert_equal "$status" 2
  [[ "$stderr" == *"INVALID_TOKEN bad signature"* ]]
  # a fresh one works
  sim_client --auth-url "$SIM_AUTH_URL" --max-data 5 >"$T/out"
  assert_equal "$(wc -l <"$T/out")" 5
}

@test "INITIALIZE checks: protocol version, offerings, junk" {
  sim_start --init-timeout 3
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --protocol V2 --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_PROTOCOL_VERSION
  run_split sim_client --token-file "$T/tok" --offerings '' --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_OFFERING
  run_split sim_client --token-file "$T/tok" --offerings offering-se,offering-xx --stats "$T/st.json"
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_OFFERING
  run_split sim_client --raw-init '{"type":"SESSION_INITIALIZE","sessionInitialize":{"protocolVersion":"V1","offerings":"offering-se","token":"x"}}' --stats "$T/st.json"
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_OFFERING
  # not JSON, then silence: the server gives up after --init-timeout
  run_split sim_client --raw-init 'not json at all' --stats "$T/st.json" --timeout 20
  assert_equal "$status" 3
  grep -q "ignoring a frame from the client" "$SIM_ERR"
  # the server is still serving
  sim_client --token-file "$T/tok" --max-data 3 >/dev/null
}

@test "session: snapshot, SNAPSHOT_COMPLETED, replay, REPLAY_COMPLETED, realtime = --dump (seed 1, rate 2000)" {
  m=$(initial_head --seed 1)
  sim_start --seed 1 --rate 2000 --max-messages 3000
  sim_token "$T/tok"
  sim_client --token-file "$T/tok" --annotate --session --until-offset $((m + 3000)) --stats "$T/st.json" >"$T/got"
  assert_equal "$(session_seen "$T/st.json" '[0:4]')" \
    '["SESSION_WELCOME","SESSION_INITIALIZED","SESSION_SNAPSHOT_COMPLETED","SESSION_REPLAY_COMPLETED"]'
  h=$(jq .snapshot_offset "$T/st.json")
  # session messages come in this order in the stream, data between them
  only_flow session <"$T/got" | jq -r .type | grep -v PING | head -4 | xargs >"$T/order"
  assert_equal "$(cat "$T/order")" "SESSION_WELCOME SESSION_INITIALIZED SESSION_SNAPSHOT_COMPLETED SESSION_REPLAY_COMPLETED"
  only_flow snapshot <"$T/got" >"$T/snap"
  n=$(wc -l <"$T/snap")
  [ "$n" -gt 0 ]
  ora-sim --dump --seed 1 --snapshot-at "$h" --count $((m + 3000 - h)) >"$T/dump"
  # the snapshot byte for byte, in order
  head -n "$n" "$T/dump" | cmp - "$T/snap"
  # replay + realtime: the same messages (delivery order differs)
  cat <(only_flow replay <"$T/got") <(only_flow realtime <"$T/got") | sort >"$T/rest"
  tail -n +$((n + 1)) "$T/dump" | sort | cmp - "$T/rest"
  # and they are the --log after the snapshot offset
  tail -n +$((h + 1)) "$SIM_LOG" | sort | cmp - "$T/rest"
  # the snapshot offset is the head the server reported
  assert_equal "$(only_flow session <"$T/got" | jq -r 'select(.type=="SESSION_SNAPSHOT_COMPLETED") | .sessionSnapshotCompleted.offset')" "$h"
}

# waits (up to 30 s) for ora-sim's snapshot cache
sim_cache_ready() {
  for i in $(seq 300); do grep -q "snapshot cache ready" "$SIM_ERR" && return 0; sleep 0.1; done
  fail "ora-sim's snapshot cache not ready: $(cat "$SIM_ERR")"
}

@test "snapshot cache: the messages of --dump, as a snapshot compressed for the connection; whole frames per member" {
  m=$(initial_head --seed 3 --events 300)
  ora-sim --dump --seed 3 --events 300 --count 0 >"$T/dump"
  sim_start --seed 3 --events 300 --rate 0 --per-member 1..5 --split 0.2
  sim_cache_ready
  sim_client --auth-url "$SIM_AUTH_URL" --until-offset "$m" --stats "$T/st.json" >"$T/cached"
  cmp "$T/dump" "$T/cached"
  d=$(jq .data "$T/st.json"); mem=$(jq .members "$T/st.json")
  [ "$mem" -ge $((d / 5)) ] || fail "$mem members for $d frames with --per-member 1..5"
  # pieces left unchanged are not compressed again: a second snapshot is the same
  sim_client --auth-url "$SIM_AUTH_URL" --until-offset "$m" >"$T/again"
  cmp "$T/dump" "$T/again"
  sim_stop
  sim_start --seed 3 --events 300 --rate 0 --per-member 1..5 --split 0.2 --no-snapshot-cache
  sim_client --auth-url "$SIM_AUTH_URL" --until-offset "$m" >"$T/fresh"
  cmp "$T/dump" "$T/fresh"
  run grep -c "snapshot cache ready" "$SIM_ERR"
  assert_output 0
}

@test "snapshot cache: a fault counted in messages still fires at its count inside a snapshot" {
  sim_start --events 300 --rate 0 --drop-after-msgs 700 --fault-once
  sim_cache_ready
  run_split sim_client --auth-url "$SIM_AUTH_URL" --stats "$T/st.json"
  assert_equal "$status" 3
  assert_equal "$(jq -r .data "$T/st.json")" 700
  # once fired, the next snapshot comes from the cache, whole
  m=$(initial_head --events 300)
  sim_client --auth-url "$SIM_AUTH_URL" --until-offset "$m" >"$T/all"
  assert_equal "$(wc -l <"$T/all")" "$m"
}

@test "session: out-of-order delivery present; the delivered set equals the --log" {
  sim_start --seed 5 --rate 3000 --max-messages 3000 --reorder 0.2
  m=$(initial_head --seed 5)
  sim_token "$T/tok"
  sim_client --token-file "$T/tok" --replay 0 --until-offset $((m + 3000)) --stats "$T/st.json" >"$T/got"
  # offsets not monotonic in the stream
  inv=$(jq .offset "$T/got" | awk 'NR > 1 && $1 < p { n++ } { p = $1 } END { print n + 0 }')
  [ "$inv" -gt 10 ]
  # finer updates delivered before the held-back add/update of their entity
  python3 - "$T/got" <<'PY'
import json, sys
def ent(m):
    k = next(k for k in m if k != "offset"); v = m[k]
    if k in ("betOfferAdded", "betOfferUpdated"): return ("B", v["betOffer"]["id"]), True
    if k in ("eventAdded", "eventUpdated"): return ("E", v["event"]["id"]), True
    if "betOfferId" in v: return ("B", v["betOfferId"]), False
    if k.startswith("betOffer"): return ("B", v["id"]), False
    if "eventId" in v: return ("E", v["eventId"]), False
    return ("E", v["id"]), False
seen_fine = {}   # entity -> offsets of finer updates delivered so far
cases = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    e, whole = ent(m)
    if whole:
        cases += any(o > m["offset"] for o in seen_fine.get(e, ()))
    else:
        seen_fine.setdefault(e, []).append(m["offset"])
print("held-back entities overtaken by their own updates:", cases)
assert cases >= 5, cases
PY
  sort "$T/got" | cmp - <(sort "$SIM_LOG")
  assert_equal "$(wc -l <"$T/got")" $((m + 3000))
  # same seed, no reorder: offsets in order
  sim_stop
  sim_start --seed 5 --rate 3000 --max-messages 3000 --reorder 0
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset $((m + 3000)) >"$T/got0"
  inv=$(jq .offset "$T/got0" | awk 'NR > 1 && $1 < p { n++ } { p = $1 } END { print n + 0 }')
  assert_equal "$inv" 0
}

@test "session: the served log is the same for a seed, and is what --dump writes" {
  sim_start --seed 9 --rate 4000 --max-messages 2000
  m=$(initial_head --seed 9)
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset $((m + 2000)) >/dev/null
  cp "$SIM_LOG" "$T/log1"
  sim_stop
  sim_start --seed 9 --rate 4000 --max-messages 2000
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset $((m + 2000)) >/dev/null
  cmp "$T/log1" "$SIM_LOG"
  # --dump: the initial population then the realtime messages; the log is
  # the same messages in offset order
  ora-sim --dump --seed 9 --count 2000 | sort >"$T/dump"
  sort "$T/log1" | cmp - "$T/dump"
  jq .offset "$T/log1" | diff - <(seq 1 $((m + 2000)))
}

@test "wire: members with several frames, frames spanning members (--split), small writes" {
  sim_start --seed 6 --rate 4000 --max-messages 1000 --split 1 --per-member 1..1 --chunk 1..200
  m=$(initial_head --seed 6)
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset $((m + 1000)) --stats "$T/st.json" >"$T/got"
  sort "$T/got" | cmp - <(sort "$SIM_LOG")
  # each frame split over two members (plus one member per session message)
  d=$(jq .data "$T/st.json"); mem=$(jq .members "$T/st.json")
  [ "$mem" -ge $((2 * d)) ]
  sim_stop
  # --per-member 8..8: a member holds 8 frames, fewer only when it ends what
  # was ready to send (the log's end, or a batch of 512 read from it); how
  # much is ready depends on timing while messages are generated, so the
  # exact packing is checked on a fixed log (--rate 0), the bounds while
  # generating
  sim_start --seed 6 --rate 0 --split 0 --per-member 8..8
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset "$m" --stats "$T/st.json" >"$T/got"
  sort "$T/got" | cmp - <(sort "$SIM_LOG")
  d=$(jq .data "$T/st.json"); dm=$(( $(jq .members "$T/st.json") - $(jq '.session | length' "$T/st.json") ))
  assert_equal "$d" "$m"
  [ "$dm" -ge $(((d + 7) / 8)) ] || fail "$dm members for $d frames: some hold more than 8"
  [ "$dm" -le $(((d + 7) / 8 + (d + 511) / 512)) ] || fail "$dm members for $d frames ready at once"
  sim_stop
  sim_start --seed 6 --rate 4000 --max-messages 1000 --split 0 --per-member 8..8
  sim_client --auth-url "$SIM_AUTH_URL" --replay 0 --until-offset $((m + 1000)) --stats "$T/st.json" >"$T/got"
  sort "$T/got" | cmp - <(sort "$SIM_LOG")
  d=$(jq .data "$T/st.json"); dm=$(( $(jq .members "$T/st.json") - $(jq '.session | length' "$T/st.json") ))
  [ "$dm" -ge $(((d + 7) / 8)) ] || fail "$dm members for $d frames: some hold more than 8"
  # the initial population was in the log before the client came: packed
  [ "$dm" -le $(((m + 7) / 8 + (m + 511) / 512 + d - m)) ] || fail "$dm members for $d frames"
}

@test "session: replay from an offset sends exactly the later messages" {
  sim_start --seed 2 --rate 4000 --max-messages 2000
  m=$(initial_head --seed 2)
  sim_token "$T/tok"
  x=$((m + 700))
  sim_client --token-file "$T/tok" --replay $x --annotate --session --until-offset $((m + 2000)) --stats "$T/st.json" >"$T/got"
  assert_equal "$(session_seen "$T/st.json" '[0:3]')" '["SESSION_WELCOME","SESSION_INITIALIZED","SESSION_REPLAY_COMPLETED"]'
  cat <(only_flow replay <"$T/got") <(only_flow realtime <"$T/got") | sort >"$T/rest"
  tail -n +$((x + 1)) "$SIM_LOG" | sort | cmp - "$T/rest"
  run jq -e -s 'map(.offset > '$x') | all' "$T/rest"
  assert_success
}

@test "session: OFFSET_TOO_OLD beyond --retain; then a snapshot on the same connection" {
  sim_start --seed 3 --rate 5000 --max-messages 3000 --retain 500
  m=$(initial_head --seed 3)
  for i in $(seq 300); do [ "$(wc -l <"$SIM_LOG")" -ge $((m + 3000)) ] && break; sleep 0.1; done
  [ "$(wc -l <"$SIM_LOG")" -ge $((m + 3000)) ] || fail "ora-sim generated $(wc -l <"$SIM_LOG") of $((m + 3000))"
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --replay 10 --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .error "$T/st.json")" OFFSET_TOO_OLD
  # a recent offset is still served
  sim_client --token-file "$T/tok" --replay $((m + 2800)) --until-offset $((m + 3000)) >"$T/recent"
  assert_equal "$(wc -l <"$T/recent")" 200
  # the client may ask for a snapshot instead
  sim_client --token-file "$T/tok" --replay 10 --on-too-old snapshot --idle 0.5 --stats "$T/st.json" >/dev/null
  assert_equal "$(session_seen "$T/st.json" '[0:5]')" \
    '["SESSION_WELCOME","SESSION_INITIALIZED","SESSION_ERROR","SESSION_SNAPSHOT_COMPLETED","SESSION_REPLAY_COMPLETED"]'
}

@test "ping/pong: pings every interval; a client that never answers is dropped" {
  # a client that answers is never dropped: its pongs echo the ids (a
  # mismatch would leave the ping unanswered, and the client dropped
  # after --pong-timeout, well within the 4 s the client stays)
  sim_start --ping-interval 0.2 --pong-timeout 1.5 --rate 10
  sim_token "$T/tok"
  sim_client --token-file "$T/tok" --idle 100 --timeout 4 --stats "$T/st.json" >/dev/null || true
  assert_equal "$(jq -r .rc "$T/st.json")" 5   # still connected when the client gave up
  [ "$(jq -r .pings "$T/st.json")" -ge 3 ]
  assert_equal "$(jq -r .pongs "$T/st.json")" "$(jq -r .pings "$T/st.json")"
  run_split sim_client --token-file "$T/tok" --no-pong --idle 100 --timeout 30 --stats "$T/st.json"
  assert_equal "$status" 3
  [ "$(jq -r .pings "$T/st.json")" -ge 1 ]
  grep -q "no pong within 1.5s" "$SIM_ERR"
}

@test "a client that stops reading is dropped after --write-timeout" {
  # the pause is long enough for the server to fill the socket buffers
  # (several MB) and then wait its second, even with both cores busy
  sim_start --rate 50000 --write-timeout 1 --chunk 16384 --per-member 64 --level 1
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --replay 0 --pause-after 100 --pause 12 --timeout 40 --stats "$T/st.json"
  assert_equal "$status" 3
  grep -q "the client read nothing for 1s: dropping it" "$SIM_ERR"
}

@test "a client that falls behind the retained log is disconnected" {
  sim_start --rate 50000 --retain 2000 --write-timeout 0 --per-member 64
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --replay 0 --on-too-old snapshot --pause-after 100 --pause 6 --timeout 40
  assert_equal "$status" 3
  grep -q "client fell behind the retained log" "$SIM_ERR"
}

# ---- faults -------------------------------------------------------------------------

@test "fault --drop-after-msgs: exactly N messages, then the connection ends; --fault-once" {
  sim_start --drop-after-msgs 100 --fault-once
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --stats "$T/st.json"
  assert_equal "$status" 3
  assert_equal "$(jq -r .data "$T/st.json")" 100
  grep -q "fault drop-after-msgs after 100 messages" "$SIM_ERR"
  # once: the next connection is served past 100
  sim_client --token-file "$T/tok" --max-data 500 >/dev/null
}

@test "fault --drop-after-bytes: the stream is cut inside a member, every connection" {
  sim_start --drop-after-bytes 5000
  sim_token "$T/tok"
  for i in 1 2; do
    run_split sim_client --token-file "$T/tok" --stats "$T/st.json"
    assert_equal "$status" 3
    assert_equal "$(jq -r .bytes "$T/st.json")" 5000
  done
}

@test "fault --corrupt-after: a corrupt gzip member after N messages" {
  sim_start --corrupt-after 50
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --stats "$T/st.json"
  assert_equal "$status" 4
  assert_equal "$(jq -r .data "$T/st.json")" 50
  [[ "$stderr" == *"corrupt stream after 50 data messages"* ]]
}

@test "fault --invalid-token-after: SESSION_ERROR INVALID_TOKEN mid-session" {
  sim_start --invalid-token-after 30
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --stats "$T/st.json"
  assert_equal "$status" 2
  assert_equal "$(jq -r .data "$T/st.json")" 30
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_TOKEN
}

@test "fault --stall-after: no data and no pings after N messages" {
  # pings every second until the stall (which comes at once), none after:
  # 5 s of session would show 4 or more
  sim_start --stall-after 20 --ping-interval 1
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --timeout 5 --stats "$T/st.json"
  assert_equal "$status" 5
  assert_equal "$(jq -r .data "$T/st.json")" 20
  [ "$(jq -r .pings "$T/st.json")" -le 2 ]
  grep -q "fault stall-after after 20 messages" "$SIM_ERR"
}

@test "fault --reject-token and --offset-too-old, once" {
  sim_start --reject-token --offset-too-old --fault-once
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --stats "$T/st.json"
  assert_equal "$(jq -r .error "$T/st.json")" INVALID_TOKEN
  sim_client --token-file "$T/tok" --max-data 1 >/dev/null
  run_split sim_client --token-file "$T/tok" --replay 0 --stats "$T/st.json"
  assert_equal "$(jq -r .error "$T/st.json")" OFFSET_TOO_OLD
  sim_client --token-file "$T/tok" --replay 0 --max-data 10 >/dev/null
}

@test "fault --refuse-for: the ORA port refuses connections at first, then serves" {
  # long enough that the first try comes within it, even on a busy machine
  t0=$(date +%s)
  sim_start --refuse-for 10
  sim_token "$T/tok"
  run_split sim_client --token-file "$T/tok" --max-data 1
  [ $(($(date +%s) - t0)) -lt 10 ] || skip "the machine took 10 s to try once"
  assert_equal "$status" 6
  [[ "$stderr" == *"refused"* ]]
  wait_port "$SIM_PORT" 30
  sim_client --token-file "$T/tok" --max-data 1 >/dev/null
}

@test "fault --auth-fail: the first N token requests get 503" {
  sim_start --auth-fail 2
  C=(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI_DIR/ca.pem" --cert "$PKI_DIR/client.pem" --key "$PKI_DIR/client.key")
  assert_equal "$("${C[@]}" "$SIM_AUTH_URL")" 503
  assert_equal "$("${C[@]}" "$SIM_AUTH_URL")" 503
  assert_equal "$("${C[@]}" "$SIM_AUTH_URL")" 200
}

@test "hostile clients: junk bytes, a huge frame length, silence; the server keeps serving" {
  sim_start --init-timeout 1
  sim_token "$T/tok"
  # not gzip at all
  run bash -c "printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:$SIM_PORT \
      -CAfile '$PKI_DIR/ca.pem' -cert '$PKI_DIR/client.pem' -key '$PKI_DIR/client.key' -quiet -ign_eof 2>/dev/null | wc -c"
  [ "$output" -gt 10 ] # the WELCOME member arrived before the server hung up
  # a frame announcing 2 GiB
  python3 - "$SIM_PORT" "$PKI_DIR" <<'PY'
import gzip, socket, ssl, struct, sys
port, pki = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.pem")
ctx.load_cert_chain(pki + "/client.pem", pki + "/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(gzip.compress(struct.pack(">I", 0x7fffffff) + b"{" * 1000))
s.settimeout(10)
while s.recv(65536):
    pass
PY
  # a TCP connection that never starts TLS
  exec 5<>/dev/tcp/127.0.0.1/"$SIM_PORT"
  for i in $(seq 300); do grep -q "corrupt stream from the client" "$SIM_ERR" && [ "$(grep -c 'corrupt stream from the client' "$SIM_ERR")" -ge 2 ] && break; sleep 0.1; done
  [ "$(grep -c 'corrupt stream from the client' "$SIM_ERR")" -ge 2 ]
  sim_client --token-file "$T/tok" --max-data 10 >"$T/out"
  assert_equal "$(wc -l <"$T/out")" 10
  exec 5>&-
}

@test "I/O errors: dump to a full disk, unwritable log, port in use" {
  run_split ora-sim --dump --count 100000 -o /dev/full
  assert_equal "$status" 74
  [[ "$stderr" == *"unable to write"* ]]
  run_split bash -c 'ora-sim --dump --count 100000 >/dev/full'
  assert_equal "$status" 74
  run_split ora-sim --cert "$PKI_DIR/server.pem" --key "$PKI_DIR/server.key" --cacert "$PKI_DIR/ca.pem" --log /nonexistent/dir/log
  assert_equal "$status" 74
  sim_start
  run_split ora-sim --cert "$PKI_DIR/server.pem" --key "$PKI_DIR/server.key" --cacert "$PKI_DIR/ca.pem" --port "$SIM_PORT" --auth-port 0
  assert_equal "$status" 69
  [[ "$stderr" == *"unable to listen on 127.0.0.1"* ]]
}

# ---- process -------------------------------------------------------------------------

@test "SIGUSR1 prints a summary; SIGTERM exits 0 with one" {
  sim_start
  sim_token >/dev/null
  kill -USR1 "$SIM_PID"
  for i in $(seq 200); do grep -q "summary:" "$SIM_ERR" && break; sleep 0.05; done
  grep -q "ora-sim: summary: .* 1 tokens" "$SIM_ERR"
  sim_stop # fails the test unless ora-sim exits 0
  [ "$(grep -c "summary:" "$SIM_ERR")" -eq 2 ]
}

# ---- documentation -------------------------------------------------------------------

@test "ora-sim(1) EXAMPLES run; --help and the man page name the same options" {
  load lib/man
  cd "$T"
  man_examples "$TOP/man/ora-sim.1" >examples.sh
  [ "$(grep -c ora-sim examples.sh)" -ge 4 ]
  run bash -euo pipefail examples.sh
  assert_success
  [ "$(wc -l <a.jsonl)" -gt 100 ]
  [[ "$(cat token)" == *.*.* ]]
  [ -s sim.log ]
  ora-sim --help | grep -o -- '--[a-z-]*' | sort -u >help.opts
  grep -o 'Fl Fl [a-z-]*' "$TOP/man/ora-sim.1" | sed 's/Fl Fl /--/' | sort -u >man.opts
  diff help.opts man.opts
}
