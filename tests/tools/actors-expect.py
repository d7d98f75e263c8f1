#!/usr/bin/env python3
"""actors-expect.py: an oracle for ora-actors, written from design.md alone.

What it is: a second implementation of the actor network's observable
behaviour, written from the text of design.md section 2 ("The ORA entity
model: the fields the seed reads") and section 3 ("The actor network",
"Details of the seed's semantics"), and from nothing else: not from
lib/actors.c, lib/outputs.c or cmd/ora-actors.c. It shares no code with
them. Tests run a scenario through both and compare every output record,
so that a rule the C code gets wrong fails a test instead of agreeing with
itself. Where design.md says nothing, the choice made here is stated in a
comment marked "design.md is silent"; ora-actors(1) documents the same
choices. "design.md" here and below is the outside contract the project
builds to, which is not in this repository; doc/design.md §2-4 describes
the code as built and where it differs from that contract.

It also models what ora-actors adds around the rules (doc/design.md §4):
the low watermark W that skips replayed duplicates, a snapshot that starts
over, the offset range 0..2^53-1 (an offset outside it is skipped), and the
pruning of queues after --pending-ttl seconds of stream time.

Scenario files are JSON lines:
  - an ORA data message (the envelope {"offset":N, "<payloadKey>":{...}}),
    optionally with "_flow" (snapshot|replay|realtime, default realtime)
    and "_t" (receive time in seconds after the base time; default: 1 ms
    after the previous line);
  - a control record: {"ctrl": "flow", "flow": "replay", "offset": N}, ...
  - blank lines and lines starting with '#' are skipped.

Commands (the command line is a stable interface: tests/lib/actors.bash and
tests/conformance.bats call it, and end-to-end suites may: run a stream
through ora-order, turn it into a scenario with from-records, and compare
what kinesis-put delivered with expect-put):
  records SCEN [--unrouted]
                          ora-rec pack --meta lines for the scenario (routed
                          MSG records unless --unrouted)
  expect SCEN [opts]      expected OUT records: {"key","offset","data"} lines
  expect-put SCEN [opts]  the same as kinesis-put --stdout prints them:
                          {"PartitionKey","Data"} lines
  compare EXP ACT [--dups-ok]
                          EXP: expect output; ACT: ora-rec unpack --meta output.
                          Exact (same records, same order) unless --dups-ok:
                          then every expected record must be present, in
                          order, and every extra one must duplicate one.
                          Numbers are compared as written (1.90 is not 1.9).
  from-records UNPACKED    ora-rec unpack --meta lines back into a scenario
  gen [--events N] [--offers N] [--updates N] [--seed N] [--holdback P]
                          a realistic mixed scenario in the entity model
                          (snapshot, then updates)
options of expect: --criteria LIST, --jurisdiction NAME=BIT (repeatable),
  --pending-ttl SECONDS (default 300)
"""
import json
import re
import sys

# ora-rec pack --meta reads numbers as JSON doubles (exact up to 2^53 ns, i.e.
# early 1970), so scenario times start there.
BASE_NS = 8000000000000000  # 1970-04-03T14:13:20Z
STEP_NS = 1000000
OFFSET_MAX = 2 ** 53 - 1

# doc/design.md §3: the seed's criteria and jurisdiction table
DEFAULT_CRITERIA = {1001159512, 1001159732, 1001159509}
DEFAULT_JUR = {"jurisdiction1": 1, "jurisdiction2": 2, "jurisdiction3": 4, "jurisdiction4": 8,
               "jurisdiction5": 16}

# doc/design.md §2: payload key -> (actor, where its id is)
ROUTES = {
    "eventAdded": ("event", ("event", "id")), "eventUpdated": ("event", ("event", "id")),
    "eventDeleted": ("event", ("id",)), "eventStatusUpdated": ("event", ("id",)),
    "eventCashOutStatusUpdated": ("event", ("id",)), "eventTagsUpdated": ("event", ("id",)),
    "eventParticipantsUpdated": ("event", ("eventId",)), "eventScoreUpdated": ("event", ("eventId",)),
    "matchClockUpdated": ("event", ("eventId",)),
    "betOfferAdded": ("offer", ("betOffer", "id")), "betOfferUpdated": ("offer", ("betOffer", "id")),
    "betOfferStatusUpdated": ("offer", ("id",)), "betOfferLineTypesUpdated": ("offer", ("id",)),
    "betOfferCashOutStatusUpdated": ("offer", ("id",)), "betOfferDeleted": ("offer", ("betOfferId",)),
    "outcomeOddsUpdated": ("offer", ("betOfferId",)), "outcomeStatusUpdated": ("offer", ("betOfferId",)),
    "outcomeCashoutStatusUpdated": ("offer", ("betOfferId",)),
}
# doc/design.md §3: the Event actor is updated by eventUpdated and
# eventStatusUpdated; the entity model's table lists no field the seed reads
# of the other update kinds, so they change nothing.
UPDATES = {"eventStatusUpdated", "betOfferStatusUpdated", "betOfferLineTypesUpdated",
           "outcomeOddsUpdated", "outcomeStatusUpdated"}

ABSENT = object()  # a field the message does not carry


# ---- numbers as written ---------------------------------------------------
class Num(float):
    """A JSON number that remembers how it was written."""

    def __new__(cls, text):
        o = float.__new__(cls, text)
        o.text = text
        return o


def loads(s):
    return json.loads(s, parse_float=Num, parse_int=Num)


def is_id(v):
    """design.md: ids are whole numbers (JSON doubles hold them up to 2^53)."""
    return isinstance(v, float) and not isinstance(v, bool) and v >= 0 and v == int(v) and v <= 2 ** 53


def plain(v):
    """A parsed value back to plain Python (ids as int) for output."""
    if isinstance(v, Num):
        return int(v) if v == int(v) and abs(v) <= 2 ** 53 and re.fullmatch(r"-?\d+", v.text) else float(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


RAW = "\u0000NUM:"


def dumps(o):
    """JSON with decimals written as they were read (see Decimal below)."""
    s = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    return re.sub(r'"\\u0000NUM:([^"]*)"', r"\1", s)


def canon(v):
    """A value with every number as its text, for comparing as written."""
    if isinstance(v, Num):
        return {"#": v.text}
    if isinstance(v, list):
        return [canon(x) for x in v]
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    return v


# ---- reading the entity model (doc/design.md §2) -------------------------
def path(obj, *keys):
    """The value at obj.keys..., ABSENT when the first key is missing, None
    when a later one is missing. design.md is silent on partial updates:
    a field an update does not carry keeps its stored value (as a map merge
    does), one it carries as null or wrongly typed becomes null."""
    if not isinstance(obj, dict) or keys[0] not in obj:
        return ABSENT
    v = obj[keys[0]]
    for k in keys[1:]:
        v = v.get(k) if isinstance(v, dict) else None
    return v


def text(v):
    return v if isinstance(v, str) else None


def ident(v):
    return int(v) if is_id(v) else None


def strings(v):
    """An array of strings (elements that are not strings are left out), or
    None when it is not an array."""
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else None


def assign(obj, src, fields):
    """For each (attribute, keys, conv) of fields whose first key src has:
    obj.attribute = conv(path(src, *keys)); the other attributes stay."""
    for attr, keys, conv in fields:
        v = path(src, *keys)
        if v is not ABSENT:
            setattr(obj, attr, conv(v))


class Scenario:
    def __init__(self, path_):
        self.path = path_

    def items(self):
        """Yields ('msg', msg, flow, recv_ns) or ('ctrl', obj)."""
        t = BASE_NS
        with open(self.path) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                o = loads(line)
                if "ctrl" in o:
                    yield ("ctrl", plain(o))
                    continue
                flow = o.pop("_flow", "realtime")
                if "_t" in o:
                    t = BASE_NS + int(round(float(o.pop("_t")) * 1e9))
                else:
                    t += STEP_NS
                yield ("msg", o, flow, t)


def route(m):
    for k, (actor, where) in ROUTES.items():
        if k in m:
            v = m[k]
            for key in where:
                v = v.get(key) if isinstance(v, dict) else None
            return k, actor, ident(v)
    return None, None, None


def cmd_records(path_, routed):
    out = []
    for item in Scenario(path_).items():
        if item[0] == "ctrl":
            o = item[1]
            rec = {"type": "CTRL", "kind": o["ctrl"], "data": o}
            if "offset" in o:
                rec["offset"] = o["offset"]
        else:
            _, m, flow, t = item
            rec = {"type": "MSG", "recv_ns": t, "flow": flow, "data": canon_out(m)}
            k, actor, aid = route(m)
            if routed and k is not None and aid is not None:
                rec.update(kind=k, actor_type="event" if actor == "event" else "betOffer", actor_id=aid)
            if isinstance(m.get("offset"), float):
                rec["offset"] = plain(m["offset"])
        out.append(dumps(rec))
    print("\n".join(out))


def canon_out(v):
    """A parsed message back to JSON values, numbers as written."""
    if isinstance(v, Num):
        return RAW + v.text
    if isinstance(v, list):
        return [canon_out(x) for x in v]
    if isinstance(v, dict):
        return {k: canon_out(x) for k, x in v.items()}
    return v


def iso(ns):
    import datetime
    s, rem = divmod(ns, 1000000000)
    d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (rem // 1000000)


# ---- the actor network (doc/design.md §3) ----------------------------------
class Event:
    def __init__(self, eid):
        self.id = eid
        self.starts_at = self.sport = self.status = self.group_id = self.competition = None
        self.participants = ABSENT  # the whole array, as the message had it

    def apply(self, ev):
        """An Event object; returns True when a field of the event_data rule changed."""
        before = (self.starts_at, self.sport, self.group_id, canon(self.participants))
        assign(self, ev, (("starts_at", ("startsAt",), text), ("sport", ("sport",), text),
                          ("status", ("status",), text), ("group_id", ("group", "id"), ident),
                          ("competition", ("competitionName", "defaultTranslation"), text)))
        v = path(ev, "participants")
        if v is not ABSENT:
            # design.md: "participants change" is any change to the whole
            # array, every field, in order. A value that is not an array
            # is treated as an empty array.
            self.participants = v if isinstance(v, list) else []
        return before != (self.starts_at, self.sport, self.group_id, canon(self.participants))

    def output_participants(self):
        parts = self.participants if isinstance(self.participants, list) else []
        out = []
        for p in parts:
            home = path(p, "homeParticipant")
            out.append({"participant_id": ident(path(p, "id")),
                        "participant_name": text(path(p, "name", "defaultTranslation")),
                        "participant_type": text(path(p, "type")),
                        "is_home_participant": home if isinstance(home, bool) else None})
        return out


class Offer:
    def __init__(self, bid):
        self.id = bid
        self.event_id = None
        self.status = self.criterion_id = self.criterion_label = None
        self.line_type = self.tags = None
        self.outcomes = []  # in order of first appearance
        self.ev_group = self.ev_status = None  # the event's, as last published

    def outcome(self, oid):
        for o in self.outcomes:
            if o["id"] == oid:
                return o
        return None

    def apply(self, bo):
        """A BetOffer object (an add or update): fields carried replace the
        stored ones; outcomes merge by id, each named one replaced whole."""
        assign(self, bo, (("criterion_id", ("criterion", "id"), ident),
                          ("criterion_label", ("criterion", "label", "defaultTranslation"), text),
                          ("line_type", ("lineType",), strings), ("tags", ("tags",), strings),
                          ("status", ("status",), text)))
        v = path(bo, "outcomes")
        # design.md: outcomes missing or null are treated as empty
        for x in v if isinstance(v, list) else []:
            oid = ident(path(x, "id"))
            if oid is None:
                continue  # design.md is silent: an outcome without an id cannot be merged
            new = {"id": oid, "label": text(path(x, "label", "defaultTranslation")),
                   "status": text(path(x, "status")), "betOfferId": ident(path(x, "betOfferId")),
                   "odds": odds_of(path(x, "odds"))}
            old = self.outcome(oid)
            if old is None:
                self.outcomes.append(new)
            else:
                old.clear()
                old.update(new)


def odds_of(v):
    """Odds entries: offerings and odds.decimal, the decimal as written."""
    res = []
    for x in v if isinstance(v, list) else []:
        offerings = path(x, "offerings")
        dec = path(x, "odds", "decimal")
        res.append({"offerings": strings(offerings) if offerings is not ABSENT else None,
                    "decimal": dec if isinstance(dec, Num) else None})
    return res


class Model:
    def __init__(self, criteria, jur, ttl):
        self.criteria = criteria
        self.jur = jur
        self.ttl_ns = int(ttl * 1e9)
        self.out = []
        self.in_snapshot = False
        self.reset()

    def reset(self):
        self.events = {}
        self.offers = {}
        self.pending = []  # [actor, id, kind, payload, meta, queued_at]
        self.w = None
        self.applied = set()
        self.now = 0

    # ---- outputs (doc/design.md §3, "The outputs")
    def emit(self, key, meta, data):
        # not in design.md: ora-actors adds the offset of the message that
        # produced an output, which identifies it with its type and key
        # (README, "Durability, precisely")
        data["msg_offset"] = meta["offset"]
        data["msg_flow"] = meta["flow"]
        data["msg_datetime"] = iso(meta["t"])
        self.out.append({"key": str(key), "offset": meta["offset"], "data": data})

    def event_data(self, ev, meta):
        self.emit(ev.id, meta, {
            "type": "event_data", "event_id": ev.id, "competition_name": ev.competition,
            "starts_at": ev.starts_at, "group_id": ev.group_id, "sport": ev.sport,
            "participants": ev.output_participants()})

    def mask(self, offerings):
        # design.md: the sum of the bits of the names (a name listed twice
        # counts twice); an unknown name counts 0
        return sum(self.jur.get(n, 0) for n in offerings or [])

    def offer_out(self, kind, bo, meta, only=None):
        outs = []
        for o in bo.outcomes:
            if only is not None and o["id"] != only:
                continue
            outs.append({"outcome_id": o["id"], "outcome_label": o["label"],
                         "odds": [{"offerings": x["offerings"],
                                   "decimal": RAW + x["decimal"].text if x["decimal"] is not None else None,
                                   "jurisdiction_mask": self.mask(x["offerings"])} for x in o["odds"]]})
        self.emit(bo.id, meta, {
            "type": kind, "event_id": bo.event_id, "bet_offer_id": bo.id,
            "criterion_id": bo.criterion_id, "criterion_label": bo.criterion_label,
            "is_mainline": "MAIN_LINE" in (bo.line_type or []), "outcomes": outs})

    # ---- the actors
    def publish(self, ev):
        """design.md: every update of an event is published to its offers."""
        for bo in self.offers.values():
            if bo.event_id == ev.id:
                bo.ev_group, bo.ev_status = ev.group_id, ev.status

    def create_event(self, k, aid, body, meta):
        ev = self.events.get(aid)
        created = ev is None
        if created:
            ev = self.events[aid] = Event(aid)
        changed = ev.apply(body)
        self.publish(ev)
        if created or changed:
            self.event_data(ev, meta)
        if created:
            self.apply_queue("event", aid)

    def create_offer(self, k, aid, body, meta):
        bo = self.offers.get(aid)
        if bo is not None:
            # design.md: an add of an existing actor is a plain update; an
            # update that changes the status surfaces nothing
            bo.apply(body)
            return
        bo = self.offers[aid] = Offer(aid)
        # design.md: an offer follows the event named by eventId at its creation
        bo.event_id = ident(path(body, "eventId"))
        # "On creation, the actor applies its payload first. Then (BetOffer)
        # it surfaces opened if OPEN and reads the event's group and status.
        # Only then does it apply its queued updates, in arrival order."
        bo.apply(body)
        if bo.status == "OPEN":
            self.offer_out("bet_offer_opened", bo, meta)
        ev = self.events.get(bo.event_id)
        if ev is not None:
            bo.ev_group, bo.ev_status = ev.group_id, ev.status
        self.apply_queue("offer", aid)

    def update(self, k, actor, aid, body, meta):
        """An update of an existing actor; False when the actor does not exist."""
        if actor == "event":
            ev = self.events.get(aid)
            if ev is None:
                return False
            if k == "eventStatusUpdated":
                v = path(body, "status")
                if v is not ABSENT:
                    ev.status = text(v)
                self.publish(ev)
            return True
        bo = self.offers.get(aid)
        if bo is None:
            return False
        if k == "betOfferStatusUpdated":
            old = bo.status
            v = path(body, "status")
            if v is not ABSENT:
                bo.status = text(v)
            if bo.status != old:
                # SUSPENDED, and a status outside OPEN/SUSPENDED/CLOSED, surface nothing
                if bo.status == "OPEN":
                    self.offer_out("bet_offer_opened", bo, meta)
                elif bo.status == "CLOSED":
                    self.offer_out("bet_offer_closed", bo, meta)
        elif k == "betOfferLineTypesUpdated":
            v = path(body, "lineTypes")
            if v is not ABSENT:
                bo.line_type = strings(v)
        elif k in ("outcomeOddsUpdated", "outcomeStatusUpdated"):
            oid = ident(path(body, "outcomeId"))
            if oid is None:
                return True  # design.md is silent: without an outcome id nothing can be updated
            o = bo.outcome(oid)
            if o is None:
                # "an update for an unknown outcome adds what is known"
                o = {"id": oid, "label": None, "status": None, "betOfferId": ident(path(body, "betOfferId")),
                     "odds": []}
                bo.outcomes.append(o)
            if k == "outcomeStatusUpdated":
                v = path(body, "status")
                if v is not ABSENT:
                    o["status"] = text(v)
                return True
            o["odds"] = odds_of(path(body, "odds"))
            if (bo.ev_status == "STARTED" and "MAIN_LINE" in (bo.line_type or [])
                    and "OFFERED_LIVE" in (bo.tags or []) and bo.criterion_id in self.criteria):
                self.offer_out("in_game_odds_update", bo, meta, only=oid)
        return True

    def apply_queue(self, actor, aid):
        mine = [p for p in self.pending if p[0] == actor and p[1] == aid]
        self.pending = [p for p in self.pending if not (p[0] == actor and p[1] == aid)]
        for _, _, k, body, meta, _ in mine:
            self.update(k, actor, aid, body, meta)

    def delete(self, actor, aid):
        table = self.events if actor == "event" else self.offers
        if aid in table:
            # design.md: an offer's cached group and status are not cleared
            # when its event is deleted
            del table[aid]
        else:
            # "A delete for an actor that does not exist discards that id's
            # queued updates."
            self.pending = [p for p in self.pending if not (p[0] == actor and p[1] == aid)]

    def message(self, m, flow, t):
        off = m.get("offset")
        off = int(off) if is_id(off) else None
        meta = {"offset": off if off is not None else -1, "flow": flow, "t": t}
        if off is None or off > OFFSET_MAX:
            return  # outside the offset range: skipped, never applied
        if flow == "snapshot" and not self.in_snapshot:
            self.snapshot()
        tracked = flow != "snapshot" and self.w is not None
        if tracked and (off <= self.w or off in self.applied):
            return  # a duplicate (a replay)
        if tracked:
            self.applied.add(off)
            while self.w + 1 in self.applied:
                self.w += 1
                self.applied.discard(self.w)
        self.now = max(self.now, t)
        if self.ttl_ns:
            self.pending = [p for p in self.pending if p[5] + self.ttl_ns >= self.now]
        k, actor, aid = route(m)
        if k is None or aid is None:
            return
        body = m[k]
        if not isinstance(body, dict):
            return
        if k in ("eventAdded", "eventUpdated"):
            if isinstance(body.get("event"), dict):
                self.create_event(k, aid, body["event"], meta)
        elif k in ("betOfferAdded", "betOfferUpdated"):
            if isinstance(body.get("betOffer"), dict):
                self.create_offer(k, aid, body["betOffer"], meta)
        elif k in ("eventDeleted", "betOfferDeleted"):
            self.delete(actor, aid)
        elif k in UPDATES:
            if not self.update(k, actor, aid, body, meta):
                self.pending.append([actor, aid, k, body, meta, self.now])

    def snapshot(self):
        self.reset()
        self.in_snapshot = True

    def ctrl(self, o):
        if o.get("ctrl") == "flow":
            if o.get("flow") == "snapshot":
                self.snapshot()
            elif o.get("flow") == "replay" and "offset" in o and (self.in_snapshot or self.w is None):
                # the snapshot completes at a known offset: W
                if self.w is None or o["offset"] > self.w:
                    self.w = o["offset"]
                self.applied = {x for x in self.applied if x > self.w}
                while self.w + 1 in self.applied:
                    self.w += 1
                    self.applied.discard(self.w)
                self.in_snapshot = False
            else:
                self.in_snapshot = False
        elif o.get("ctrl") == "connected":
            self.in_snapshot = False


def cmd_expect(path_, args, put):
    criteria, jur, ttl = set(DEFAULT_CRITERIA), dict(DEFAULT_JUR), 300.0
    i = 0
    while i < len(args):
        if args[i] == "--criteria":
            criteria = {int(x) for x in args[i + 1].split(",")}
        elif args[i] == "--jurisdiction":
            name, bit = args[i + 1].rsplit("=", 1)
            jur[name] = int(bit)
        elif args[i] == "--pending-ttl":
            ttl = float(args[i + 1])
        else:
            sys.exit("actors-expect: unknown option " + args[i])
        i += 2
    m = Model(criteria, jur, ttl)
    for item in Scenario(path_).items():
        if item[0] == "ctrl":
            m.ctrl(item[1])
        else:
            m.message(item[1], item[2], item[3])
    for o in m.out:
        print(dumps({"PartitionKey": o["key"], "Data": o["data"]} if put else o))


def load_lines(path_):
    with open(path_) as f:
        return [loads(x) for x in f if x.strip()]


def cmd_compare(exp_path, act_path, dups_ok):
    exp = load_lines(exp_path)
    act = [{"key": r["key"], "offset": r.get("offset", -1), "data": r["data"]}
           for r in load_lines(act_path) if r.get("type") == "OUT"]
    norm = lambda r: json.dumps(canon(r), sort_keys=True, ensure_ascii=False)
    if not dups_ok:
        for i, (e, a) in enumerate(zip(exp, act)):
            if norm(e) != norm(a):
                print("record %d differs:\n expected %s\n actual   %s" % (i, norm(e), norm(a)))
                return 1
        if len(exp) != len(act):
            print("expected %d records, got %d" % (len(exp), len(act)))
            return 1
        return 0
    expset = {norm(e) for e in exp}
    for a in act:
        if norm(a) not in expset:
            print("unexpected record: %s" % norm(a))
            return 1
    j = 0
    for a in act:
        if j < len(exp) and norm(a) == norm(exp[j]):
            j += 1
    if j != len(exp):
        print("missing expected record %d: %s" % (j, norm(exp[j])))
        return 1
    return 0


def cmd_gen(args):
    """A realistic mixed stream in the entity model: a snapshot, then
    replay/realtime updates (odds moves mostly, statuses, line types on and
    off the main line, deletes and re-adds, new events and offers, outcome
    updates for outcomes the offer never listed), with adds/updates held
    back behind finer updates that carry higher offsets, as the ORA server
    does."""
    import random
    opt = {"--events": 20, "--offers": 5, "--updates": 2000, "--seed": 1, "--holdback": 0.05}
    for i in range(0, len(args), 2):
        opt[args[i]] = type(opt[args[i]])(args[i + 1])
    rnd = random.Random(opt["--seed"])
    crit = [1001159512, 1001159732, 1001159509, 1001159999, 1001160000]
    offs = [["jurisdiction1", "jurisdiction2"], ["jurisdiction3"], ["jurisdiction4", "jurisdiction1"],
            ["jurisdiction5", "jurisdiction5"], ["offering-zz"]]
    tr = lambda s: {"defaultTranslation": s}
    lines = []
    state = {"events": {}, "offers": {}}
    next_id = [1000]

    def ev_obj(eid, status):
        return {"id": eid, "startsAt": "2026-11-%02dT18:00:00Z" % (eid % 28 + 1),
                "sport": rnd.choice(["FOOTBALL", "TENNIS"]), "status": status,
                "group": {"id": 2000 + eid % 7}, "competitionName": tr("League %d" % (eid % 7)),
                "participants": [{"id": eid * 10 + 1, "name": tr("H%d" % eid), "type": "TEAM", "homeParticipant": True},
                                 {"id": eid * 10 + 2, "name": tr("A%d" % eid), "type": "TEAM", "homeParticipant": False}]}

    def odds():
        return [{"offerings": o, "odds": {"decimal": rnd.randrange(1010, 12000)}} for o in rnd.sample(offs, 2)]

    def bo_obj(bid, eid):
        return {"id": bid, "eventId": eid, "criterion": {"id": rnd.choice(crit), "label": tr("C")},
                "lineType": [rnd.choice(["MAIN_LINE", "MAIN_LINE", "ALTERNATE_LINE"])],
                "tags": rnd.choice([["OFFERED_LIVE"], ["OFFERED_PREMATCH", "OFFERED_LIVE"], ["OFFERED_PREMATCH"]]),
                "status": rnd.choice(["OPEN", "OPEN", "SUSPENDED"]),
                "outcomes": [{"id": bid * 10 + k, "betOfferId": bid, "label": tr(str(k)), "status": "OPEN",
                              "odds": odds()} for k in range(3)]}

    off = 0
    snap = []
    for _ in range(opt["--events"]):
        eid = next_id[0]
        next_id[0] += 1
        off += 1
        state["events"][eid] = 1
        snap.append({"offset": off, "eventAdded": {"event": ev_obj(eid, rnd.choice(["NOT_STARTED", "STARTED"]))}})
        for _ in range(opt["--offers"]):
            bid = next_id[0]
            next_id[0] += 1
            off += 1
            state["offers"][bid] = eid
            snap.append({"offset": off, "betOfferAdded": {"betOffer": bo_obj(bid, eid)}})
    rnd.shuffle(snap)
    lines.append({"ctrl": "connected", "conn": 1})
    lines.append({"ctrl": "flow", "flow": "snapshot"})
    for m in snap:
        m["_flow"] = "snapshot"
        lines.append(m)
    lines.append({"ctrl": "flow", "flow": "replay", "offset": off})
    held = []
    out = []
    for i in range(opt["--updates"]):
        off += 1
        r = rnd.random()
        offers = list(state["offers"].items())
        events = list(state["events"])
        if r < 0.70 and offers:
            bid, _ = rnd.choice(offers)
            # outcome 3 is never listed by the offer: an unknown outcome
            m = {"offset": off, "outcomeOddsUpdated": {"betOfferId": bid, "outcomeId": bid * 10 + rnd.randrange(4),
                                                        "odds": odds()}}
        elif r < 0.80 and offers:
            bid, _ = rnd.choice(offers)
            m = {"offset": off, "betOfferStatusUpdated": {"id": bid, "status": rnd.choice(["OPEN", "SUSPENDED", "CLOSED"])}}
        elif r < 0.84 and events:
            m = {"offset": off, "eventStatusUpdated": {"id": rnd.choice(events),
                                                        "status": rnd.choice(["STARTED", "STARTED", "FINISHED"])}}
        elif r < 0.87 and offers:
            bid, _ = rnd.choice(offers)
            m = {"offset": off, "betOfferLineTypesUpdated": {"id": bid, "lineTypes": [rnd.choice(["MAIN_LINE", "ALTERNATE_LINE"])]}}
        elif r < 0.88 and offers:
            bid, _ = rnd.choice(offers)
            m = {"offset": off, "outcomeStatusUpdated": {"betOfferId": bid, "outcomeId": bid * 10 + rnd.randrange(4),
                                                          "status": rnd.choice(["OPEN", "SUSPENDED"])}}
        elif r < 0.90 and events:
            eid = rnd.choice(events)
            m = {"offset": off, rnd.choice(["eventScoreUpdated", "matchClockUpdated"]): {"eventId": eid, "x": i}}
        elif r < 0.92 and offers:
            bid, eid = rnd.choice(offers)
            m = {"offset": off, "betOfferDeleted": {"betOfferId": bid, "eventId": eid}}
            out.append(m)
            off += 1
            m = {"offset": off, "betOfferAdded": {"betOffer": bo_obj(bid, eid)}}
        elif r < 0.95 and offers:
            bid, eid = rnd.choice(offers)
            m = {"offset": off, "betOfferUpdated": {"betOffer": bo_obj(bid, eid)}}
        elif r < 0.97:
            eid = next_id[0]
            next_id[0] += 1
            state["events"][eid] = 1
            m = {"offset": off, "eventAdded": {"event": ev_obj(eid, "NOT_STARTED")}}
        else:
            bid = next_id[0]
            next_id[0] += 1
            eid = rnd.choice(events)
            state["offers"][bid] = eid
            m = {"offset": off, "betOfferAdded": {"betOffer": bo_obj(bid, eid)}}
        key = [k for k in m if k != "offset"][0]
        if key in ("betOfferAdded", "betOfferUpdated", "eventAdded", "eventUpdated") and rnd.random() < opt["--holdback"]:
            held.append([m, rnd.randrange(1, 6)])
            continue
        out.append(m)
        for h in held:
            h[1] -= 1
        for h in [h for h in held if h[1] <= 0]:
            out.append(h[0])
            held.remove(h)
    out.extend(h[0] for h in held)
    for m in out:
        m["_flow"] = "realtime"
        lines.append(m)
    for line in lines:
        print(json.dumps(line, separators=(",", ":")))


def cmd_from_records(path_):
    """ora-rec unpack --meta lines back into a scenario (for streams that
    went through another stage, e.g. ora-order)."""
    for r in load_lines(path_):
        if r.get("type") == "CTRL":
            print(dumps(canon_out(r["data"])))
        elif r.get("type") == "MSG":
            m = canon_out(dict(r["data"]))
            m["_flow"] = r.get("flow", "realtime")
            m["_t"] = (int(r.get("recv_ns", BASE_NS)) - BASE_NS) / 1e9
            print(dumps(m))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "records":
        cmd_records(a[1], "--unrouted" not in a[2:])
    elif a[0] == "expect":
        cmd_expect(a[1], a[2:], False)
    elif a[0] == "expect-put":
        cmd_expect(a[1], a[2:], True)
    elif a[0] == "from-records":
        cmd_from_records(a[1])
    elif a[0] == "gen":
        cmd_gen(a[1:])
    elif a[0] == "compare":
        sys.exit(cmd_compare(a[1], a[2], "--dups-ok" in a[3:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
