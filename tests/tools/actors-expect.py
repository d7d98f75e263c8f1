#!/usr/bin/env python3
"""actors-expect.py: an independent model of ora-actors' business rules
(design.md section 3), written from the design text, sharing no code with
the C implementation. Used by tests/actors.bats to compute expected outputs.

Scenario files are JSON lines:
  - an ORA data message, optionally with "_flow" (snapshot|replay|realtime,
    default realtime) and "_t" (receive time in seconds after the base time;
    default: 1 ms after the previous line);
  - a control record: {"ctrl": "flow", "flow": "replay", "offset": N}, ...

Commands:
  records SCEN [--unrouted]
                          ora-rec pack --meta lines for the scenario (routed
                          MSG records unless --unrouted)
  expect SCEN [opts]      expected OUT records: {"key","offset","data"} lines
  compare EXP ACT [--dups-ok]
                          EXP: expect output; ACT: ora-rec unpack --meta output.
                          Exact (same records, same order) unless --dups-ok:
                          then every expected record must be present, in
                          order, and every extra one must duplicate one.
  from-records UNPACKED    ora-rec unpack --meta lines back into a scenario
  gen [--events N] [--offers N] [--updates N] [--seed N] [--holdback P]
                          a realistic mixed scenario (snapshot, then updates)
options of expect: --criteria LIST, --jurisdiction NAME=BIT (repeatable),
  --pending-ttl SECONDS (default 300)
"""
import json
import sys

# ora-rec pack --meta reads numbers as JSON doubles (exact up to 2^53 ns, i.e.
# early 1970), so scenario times start there.
BASE_NS = 8000000000000000  # 1970-04-03T14:13:20Z
STEP_NS = 1000000

DEFAULT_CRITERIA = {1001159512, 1001159732, 1001159509}
DEFAULT_JUR = {"offering-se": 1, "offering-dk": 2, "offering-gb": 4, "offering-us": 8}

EVENT_KEYS = {
    "eventAdded": ("event", "id"), "eventUpdated": ("event", "id"),
    "eventDeleted": (None, "id"), "eventStatusUpdated": (None, "id"),
    "eventCashOutStatusUpdated": (None, "id"), "eventTagsUpdated": (None, "id"),
    "eventParticipantsUpdated": (None, "eventId"), "eventScoreUpdated": (None, "eventId"),
    "matchClockUpdated": (None, "eventId"),
}
OFFER_KEYS = {
    "betOfferAdded": ("betOffer", "id"), "betOfferUpdated": ("betOffer", "id"),
    "betOfferStatusUpdated": (None, "id"), "betOfferLineTypesUpdated": (None, "id"),
    "betOfferCashOutStatusUpdated": (None, "id"), "betOfferDeleted": (None, "betOfferId"),
    "outcomeOddsUpdated": (None, "betOfferId"), "outcomeStatusUpdated": (None, "betOfferId"),
    "outcomeCashoutStatusUpdated": (None, "betOfferId"),
}
NO_STATE = {"eventCashOutStatusUpdated", "eventScoreUpdated", "matchClockUpdated",
            "betOfferCashOutStatusUpdated", "outcomeCashoutStatusUpdated"}


def scenario(path):
    """Yields ('msg', msg, flow, recv_ns) or ('ctrl', obj)."""
    t = BASE_NS
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            o = json.loads(line)
            if "ctrl" in o:
                yield ("ctrl", o)
                continue
            flow = o.pop("_flow", "realtime")
            if "_t" in o:
                t = BASE_NS + int(round(o.pop("_t") * 1e9))
            else:
                t += STEP_NS
            yield ("msg", o, flow, t)


def cmd_records(path, routed):
    out = []
    probe = Model(set(), {}, 0)
    for item in scenario(path):
        if item[0] == "ctrl":
            o = item[1]
            rec = {"type": "CTRL", "kind": o["ctrl"], "data": o}
            if "offset" in o:
                rec["offset"] = o["offset"]
        else:
            _, m, flow, t = item
            rec = {"type": "MSG", "recv_ns": t, "flow": flow, "data": m}
            k, actor, aid = probe.route(m)
            if routed and k is not None:
                rec.update(kind=k, actor_type="event" if actor == "event" else "betOffer", actor_id=aid)
            if "offset" in m:
                rec["offset"] = m["offset"]
        out.append(json.dumps(rec, separators=(",", ":")))
    print("\n".join(out))


def iso(ns):
    import datetime
    s, rem = divmod(ns, 1000000000)
    d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (rem // 1000000)


class Model:
    def __init__(self, criteria, jur, ttl):
        self.criteria = criteria
        self.jur = jur
        self.ttl_ns = int(ttl * 1e9)
        self.out = []
        self.reset()
        self.in_snapshot = False

    def reset(self):
        self.events = {}
        self.offers = {}
        self.pending = []  # [kind_actor, id, msg, meta, t]
        self.w = None
        self.applied = set()
        self.now = 0

    # ---- output
    def emit(self, key, meta, data):
        data["msg_flow"] = meta["flow"]
        data["msg_datetime"] = iso(meta["t"])
        self.out.append({"key": str(key), "offset": meta["offset"], "data": data})

    def event_data(self, ev, meta):
        self.emit(ev["id"], meta, {
            "type": "event_data", "event_id": ev["id"], "competition_name": ev["group_name"],
            "starts_at": ev["starts_at"], "group_id": ev["group_id"], "sport": ev["sport"],
            "participants": [{"participant_id": p[0], "participant_name": p[1],
                              "participant_type": p[2], "is_home_participant": p[3]}
                             for p in ev["participants"]]})

    def offer_out(self, kind, bo, meta, only=None):
        outs = []
        for o in bo["outcomes"]:
            if only is not None and o["id"] != only:
                continue
            odds = []
            for offerings, dec in o["odds"]:
                mask = 0
                for name in offerings:
                    mask |= self.jur.get(name, 0)
                odds.append({"offerings": offerings, "decimal": dec, "jurisdiction_mask": mask})
            outs.append({"outcome_id": o["id"], "outcome_label": o["label"], "odds": odds})
        self.emit(bo["id"], meta, {
            "type": kind, "event_id": bo["event_id"], "bet_offer_id": bo["id"],
            "criterion_id": bo["criterion_id"], "criterion_label": bo["criterion_label"],
            "is_mainline": "MAIN_LINE" in (bo["line_types"] or []), "outcomes": outs})

    # ---- events
    @staticmethod
    def parts(arr):
        res = []
        for p in arr or []:
            home = p.get("home")
            res.append((p.get("id"), p.get("name"), p.get("type"),
                        home if isinstance(home, bool) else None))
        return res

    def offers_of(self, eid):
        return [b for b in self.offers.values() if b["event_id"] == eid]

    def propagate(self, ev):
        for b in self.offers_of(ev["id"]):
            b["group_id"] = ev["group_id"]
            b["ev_status"] = ev["status"]

    def event_set(self, ev, obj):
        before = (ev["starts_at"], ev["sport"], ev["group_id"], ev["participants"])
        for src, dst in (("startsAt", "starts_at"), ("sport", "sport"), ("status", "status"),
                         ("name", "name")):
            if src in obj:
                v = obj[src]
                ev[dst] = v if isinstance(v, str) else None
        if "group" in obj:
            g = obj["group"]
            if isinstance(g, dict):
                gid = g.get("id")
                ev["group_id"] = gid if isinstance(gid, int) and not isinstance(gid, bool) else None
                if "name" in g:
                    ev["group_name"] = g["name"] if isinstance(g["name"], str) else None
            else:
                ev["group_id"] = None
                ev["group_name"] = None
        if "participants" in obj:
            ev["participants"] = self.parts(obj["participants"])
        after = (ev["starts_at"], ev["sport"], ev["group_id"], ev["participants"])
        return before != after

    def new_event(self, eid):
        return {"id": eid, "name": None, "group_id": None, "group_name": None, "sport": None,
                "starts_at": None, "status": None, "participants": []}

    # ---- bet offers
    def new_offer(self, bid):
        return {"id": bid, "event_id": None, "criterion_id": None, "criterion_label": None,
                "line_types": None, "tags": None, "status": None, "ev_status": None,
                "group_id": None, "outcomes": []}

    @staticmethod
    def odds(arr):
        def dec(v):
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 else None
        return [(list(x.get("offerings") or []), dec(x.get("decimal"))) for x in arr]

    def outcome(self, bo, oid):
        for o in bo["outcomes"]:
            if o["id"] == oid:
                return o
        o = {"id": oid, "label": None, "status": None, "odds": []}
        bo["outcomes"].append(o)
        return o

    def offer_set(self, bo, obj, whole):
        if "eventId" in obj and obj["eventId"] != bo["event_id"]:
            bo["event_id"] = obj["eventId"]
            ev = self.events.get(bo["event_id"])
            if ev:
                bo["group_id"] = ev["group_id"]
                bo["ev_status"] = ev["status"]
        if "criterion" in obj:
            c = obj["criterion"]
            bo["criterion_id"] = c.get("id") if isinstance(c, dict) else None
            if isinstance(c, dict):
                if "label" in c:
                    bo["criterion_label"] = c["label"]
            else:
                bo["criterion_label"] = None
        if "lineType" in obj:
            bo["line_types"] = obj["lineType"]
        if "tags" in obj:
            bo["tags"] = obj["tags"]
        if "status" in obj:
            bo["status"] = obj["status"]
        if whole:
            bo["outcomes"] = []
        for x in obj.get("outcomes") or []:
            o = self.outcome(bo, x["id"])
            if "label" in x:
                o["label"] = x["label"]
            if "status" in x:
                o["status"] = x["status"]
            if "odds" in x:
                o["odds"] = self.odds(x["odds"])

    def status_change(self, bo, old, meta, created):
        new = bo["status"]
        if created:
            if new == "OPEN":
                self.offer_out("bet_offer_opened", bo, meta)
            return
        if new == old:
            return
        if new == "OPEN":
            self.offer_out("bet_offer_opened", bo, meta)
        elif new == "CLOSED":
            self.offer_out("bet_offer_closed", bo, meta)

    # ---- dispatch
    def route(self, m):
        for k, (nest, idk) in EVENT_KEYS.items():
            if k in m:
                body = m[k][nest] if nest else m[k]
                return k, "event", body[idk]
        for k, (nest, idk) in OFFER_KEYS.items():
            if k in m:
                body = m[k][nest] if nest else m[k]
                return k, "offer", body[idk]
        return None, None, None

    def apply_queue(self, actor, aid, meta):
        mine = [p for p in self.pending if p[0] == actor and p[1] == aid]
        self.pending = [p for p in self.pending if not (p[0] == actor and p[1] == aid)]
        for _, _, k, body, pmeta, _ in mine:
            if pmeta["offset"] >= 0 and meta["offset"] >= 0 and pmeta["offset"] < meta["offset"]:
                continue  # stale: the creating message is newer
            self.existing(k, actor, aid, body, pmeta)

    def existing(self, k, actor, aid, body, meta):
        """Returns False when the actor does not exist (queue it)."""
        if actor == "event":
            ev = self.events.get(aid)
            if not ev:
                return False
            if k == "eventStatusUpdated":
                if "status" in body:
                    ev["status"] = body["status"] if isinstance(body["status"], str) else None
                self.propagate(ev)
            elif k == "eventParticipantsUpdated":
                new = self.parts(body.get("participants"))
                if new != ev["participants"]:
                    ev["participants"] = new
                    self.event_data(ev, meta)
            return True
        bo = self.offers.get(aid)
        if not bo:
            return False
        if k == "betOfferStatusUpdated":
            old = bo["status"]
            if "status" in body:
                bo["status"] = body["status"]
            self.status_change(bo, old, meta, False)
        elif k == "betOfferLineTypesUpdated":
            if "lineType" in body:
                bo["line_types"] = body["lineType"]
        elif k == "outcomeOddsUpdated":
            o = self.outcome(bo, body["outcomeId"])
            o["odds"] = self.odds(body["odds"])
            if (bo["ev_status"] == "STARTED" and "MAIN_LINE" in (bo["line_types"] or [])
                    and "OFFERED_LIVE" in (bo["tags"] or []) and bo["criterion_id"] in self.criteria):
                self.offer_out("in_game_odds_update", bo, meta, only=o["id"])
        elif k == "outcomeStatusUpdated":
            self.outcome(bo, body["outcomeId"])["status"] = body["status"]
        return True

    def message(self, m, flow, t):
        off = m.get("offset", -1)
        meta = {"offset": off, "flow": flow, "t": t}
        if flow == "snapshot" and not self.in_snapshot:
            self.snapshot()
        tracked = flow != "snapshot" and off >= 0 and self.w is not None
        if tracked and (off <= self.w or off in self.applied):
            return
        if tracked:
            self.applied.add(off)
        self.now = max(self.now, t)
        if self.ttl_ns:
            self.pending = [p for p in self.pending if p[5] + self.ttl_ns >= self.now]
        k, actor, aid = self.route(m)
        if k is None or k in NO_STATE:
            return
        body = m[k]
        if k in ("eventAdded", "eventUpdated"):
            ev = self.events.get(aid)
            created = ev is None
            if created:
                ev = self.events[aid] = self.new_event(aid)
            changed = self.event_set(ev, body["event"])
            self.propagate(ev)
            if created or changed:
                self.event_data(ev, meta)
            if created:
                self.apply_queue("event", aid, meta)
        elif k == "eventDeleted":
            if aid in self.events:
                del self.events[aid]
            else:
                self.pending = [p for p in self.pending if not (p[0] == "event" and p[1] == aid)]
        elif k in ("betOfferAdded", "betOfferUpdated"):
            bo = self.offers.get(aid)
            created = bo is None
            if created:
                bo = self.offers[aid] = self.new_offer(aid)
            old = bo["status"]
            obj = body["betOffer"]
            if created and "eventId" in obj:
                bo["event_id"] = obj["eventId"]
                ev = self.events.get(bo["event_id"])
                if ev:
                    bo["group_id"] = ev["group_id"]
                    bo["ev_status"] = ev["status"]
            self.offer_set(bo, obj, created or k == "betOfferAdded")
            self.status_change(bo, old, meta, created)
            if created:
                self.apply_queue("offer", aid, meta)
        elif k == "betOfferDeleted":
            if aid in self.offers:
                del self.offers[aid]
            else:
                self.pending = [p for p in self.pending if not (p[0] == "offer" and p[1] == aid)]
        else:
            if not self.existing(k, actor, aid, body, meta):
                self.pending.append([actor, aid, k, body, meta, self.now])

    def snapshot(self):
        self.reset()
        self.in_snapshot = True

    def ctrl(self, o):
        if o.get("ctrl") == "flow":
            if o.get("flow") == "snapshot":
                self.snapshot()
            elif o.get("flow") == "replay" and "offset" in o and (self.in_snapshot or self.w is None):
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


def cmd_expect(path, args):
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
    for item in scenario(path):
        if item[0] == "ctrl":
            m.ctrl(item[1])
        else:
            m.message(item[1], item[2], item[3])
    for o in m.out:
        print(json.dumps(o, separators=(",", ":")))


def load_lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def cmd_compare(exp_path, act_path, dups_ok):
    exp = load_lines(exp_path)
    act = [{"key": r["key"], "offset": r.get("offset", -1), "data": r["data"]}
           for r in load_lines(act_path) if r.get("type") == "OUT"]
    canon = lambda r: json.dumps(r, sort_keys=True)
    if not dups_ok:
        for i, (e, a) in enumerate(zip(exp, act)):
            if canon(e) != canon(a):
                print("record %d differs:\n expected %s\n actual   %s" % (i, canon(e), canon(a)))
                return 1
        if len(exp) != len(act):
            print("expected %d records, got %d" % (len(exp), len(act)))
            return 1
        return 0
    expset = {canon(e) for e in exp}
    for a in act:
        if canon(a) not in expset:
            print("unexpected record: %s" % canon(a))
            return 1
    j = 0
    for a in act:
        if j < len(exp) and canon(a) == canon(exp[j]):
            j += 1
    if j != len(exp):
        print("missing expected record %d: %s" % (j, canon(exp[j])))
        return 1
    return 0


def cmd_gen(args):
    """A realistic mixed stream: a snapshot, then replay/realtime updates
    (odds moves mostly, statuses, line types, deletes and re-adds, new
    events), with adds/updates held back behind finer updates that carry
    higher offsets, as the ORA server does."""
    import random
    opt = {"--events": 20, "--offers": 5, "--updates": 2000, "--seed": 1, "--holdback": 0.05}
    for i in range(0, len(args), 2):
        opt[args[i]] = type(opt[args[i]])(args[i + 1])
    rnd = random.Random(opt["--seed"])
    crit = [1001159512, 1001159732, 1001159509, 1001159999, 1001160000]
    offs = [["offering-se", "offering-dk"], ["offering-gb"], ["offering-us", "offering-se"], ["offering-zz"]]
    lines = []
    state = {"events": {}, "offers": {}}
    next_id = [1000]

    def ev_obj(eid, status):
        return {"id": eid, "name": "E%d" % eid, "group": {"id": 2000 + eid % 7, "name": "G%d" % (eid % 7)},
                "sport": rnd.choice(["FOOTBALL", "TENNIS"]), "startsAt": "2026-11-%02dT18:00:00Z" % (eid % 28 + 1),
                "status": status, "participants": [{"id": eid * 10 + 1, "name": "H%d" % eid, "type": "TEAM", "home": True},
                                                   {"id": eid * 10 + 2, "name": "A%d" % eid, "type": "TEAM", "home": False}]}

    def odds():
        return [{"offerings": o, "decimal": round(rnd.uniform(1.01, 12), rnd.choice([1, 2, 3]))}
                for o in rnd.sample(offs, 2)]

    def bo_obj(bid, eid):
        return {"id": bid, "eventId": eid, "criterion": {"id": rnd.choice(crit), "label": "C"},
                "lineType": [rnd.choice(["MAIN_LINE", "MAIN_LINE", "ALTERNATE_LINE"])],
                "tags": rnd.choice([["OFFERED_LIVE"], ["OFFERED_PREMATCH", "OFFERED_LIVE"], ["OFFERED_PREMATCH"]]),
                "status": rnd.choice(["OPEN", "OPEN", "SUSPENDED"]),
                "outcomes": [{"id": bid * 10 + k, "label": str(k), "status": "OPEN", "odds": odds()} for k in range(3)]}

    off = 0
    snap = []
    for _ in range(opt["--events"]):
        eid = next_id[0]; next_id[0] += 1
        off += 1
        state["events"][eid] = 1
        snap.append({"offset": off, "eventAdded": {"event": ev_obj(eid, rnd.choice(["NOT_STARTED", "STARTED"]))}})
        for _ in range(opt["--offers"]):
            bid = next_id[0]; next_id[0] += 1
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
            bid, eid = rnd.choice(offers)
            m = {"offset": off, "outcomeOddsUpdated": {"betOfferId": bid, "eventId": eid,
                                                        "outcomeId": bid * 10 + rnd.randrange(4), "odds": odds()}}
        elif r < 0.80 and offers:
            bid, _ = rnd.choice(offers)
            m = {"offset": off, "betOfferStatusUpdated": {"id": bid, "status": rnd.choice(["OPEN", "SUSPENDED", "CLOSED"])}}
        elif r < 0.85 and events:
            m = {"offset": off, "eventStatusUpdated": {"id": rnd.choice(events),
                                                        "status": rnd.choice(["STARTED", "STARTED", "FINISHED"])}}
        elif r < 0.88 and offers:
            bid, _ = rnd.choice(offers)
            m = {"offset": off, "betOfferLineTypesUpdated": {"id": bid, "lineType": [rnd.choice(["MAIN_LINE", "ALTERNATE_LINE"])]}}
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
            eid = next_id[0]; next_id[0] += 1
            state["events"][eid] = 1
            m = {"offset": off, "eventAdded": {"event": ev_obj(eid, "NOT_STARTED")}}
        else:
            bid = next_id[0]; next_id[0] += 1
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
    for l in lines:
        print(json.dumps(l, separators=(",", ":")))


def cmd_from_records(path):
    """ora-rec unpack --meta lines back into a scenario (for streams that
    went through another stage, e.g. ora-order)."""
    for r in load_lines(path):
        if r.get("type") == "CTRL":
            print(json.dumps(r["data"], separators=(",", ":")))
        elif r.get("type") == "MSG":
            m = dict(r["data"])
            m["_flow"] = r.get("flow", "realtime")
            m["_t"] = (r.get("recv_ns", BASE_NS) - BASE_NS) / 1e9
            print(json.dumps(m, separators=(",", ":")))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    if a[0] == "records":
        cmd_records(a[1], "--unrouted" not in a[2:])
    elif a[0] == "expect":
        cmd_expect(a[1], a[2:])
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
