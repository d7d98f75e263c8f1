#!/usr/bin/env python3
"""Independent helpers for the record suites (tests/records.bats, tests/rec-cli.bats).

Written from the format as documented (lib/record.h, man/ora-records.5), not from
lib/record.c, so that the suites check ora-rec against a second implementation.

  records.py parse FILE          one JSON object per record: header fields, at, sums ok
  records.py starts FILE         "AT LEN" per record (trusts lengths; for sound streams)
  records.py flip FILE AT [XOR]  xor one byte in place (default 0xff)
  records.py encode              meta JSON lines (as unpack --meta prints) in, records out,
                                 an independent encoder (SipHash-2-4 written here)
  records.py wiredec [b64]       gzip members of u32 BE frames in (raw, or base64 lines of
                                 WIRE payloads), one frame per line out; stderr: members and
                                 frames per member
  records.py gen N SEED [MIN MAX] N JSON lines of length MIN..MAX, with unicode and escapes
"""
import base64, json, random, struct, sys, zlib

KEY = b"ora-records-v1!\0"
MAGIC = b"\x93ORA"
HDR = struct.Struct("<4sBBHIIQqQBBBBHHQQ")
TYPES = {1: "WIRE", 2: "MSG", 3: "CTRL", 4: "OUT"}
FLOWS = {0: None, 1: "snapshot", 2: "replay", 3: "realtime"}
M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def siphash24(key, data):
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rnd():
        nonlocal v0, v1, v2, v3
        v0 = (v0 + v1) & M64; v1 = _rotl(v1, 13); v1 ^= v0; v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & M64; v3 = _rotl(v3, 16); v3 ^= v2
        v0 = (v0 + v3) & M64; v3 = _rotl(v3, 21); v3 ^= v0
        v2 = (v2 + v1) & M64; v1 = _rotl(v1, 17); v1 ^= v2; v2 = _rotl(v2, 32)

    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m = struct.unpack_from("<Q", data, i)[0]
        v3 ^= m; rnd(); rnd(); v0 ^= m
    tail = data[end:] + b"\0" * (7 - n % 8) + bytes([n & 0xFF])
    m = struct.unpack("<Q", tail)[0]
    v3 ^= m; rnd(); rnd(); v0 ^= m
    v2 ^= 0xFF
    rnd(); rnd(); rnd(); rnd()
    return v0 ^ v1 ^ v2 ^ v3


def parse(path):
    d = open(path, "rb").read()
    i = 0
    while i + 64 <= len(d):
        f = HDR.unpack_from(d, i)
        (magic, ver, typ, flags, ln, conn, recv, off, actor, flow, kind, atype, r1, klen, r2, psum, hsum) = f
        rec = {"at": i, "magic_ok": magic == MAGIC, "version": ver, "type": TYPES.get(typ, typ),
               "flags": flags, "len": ln, "conn": conn, "recv_ns": recv, "offset": off,
               "actor_id": actor, "flow": flow, "kind": kind, "actor_type": atype,
               "reserved": [r1, r2], "key_len": klen,
               "hsum_ok": hsum == siphash24(KEY, d[i:i + 56])}
        p = d[i + 64:i + 64 + ln]
        rec["psum_ok"] = len(p) == ln and psum == siphash24(KEY, p)
        rec["payload_b64"] = base64.b64encode(p).decode()
        print(json.dumps(rec))
        i += 64 + ln
    if i != len(d):
        print(json.dumps({"at": i, "trailing": len(d) - i}))


def starts(path):
    d = open(path, "rb").read()
    i = 0
    while i + 64 <= len(d):
        ln = struct.unpack_from("<I", d, i + 8)[0]
        print(i, ln)
        i += 64 + ln


def flip(path, at, x):
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ x]))


KINDS = [None, "eventAdded", "eventUpdated", "eventDeleted", "eventStatusUpdated",
         "eventCashOutStatusUpdated", "eventTagsUpdated", "eventParticipantsUpdated",
         "eventScoreUpdated", "matchClockUpdated", "betOfferAdded", "betOfferUpdated",
         "betOfferStatusUpdated", "betOfferLineTypesUpdated", "betOfferCashOutStatusUpdated",
         "betOfferDeleted", "outcomeOddsUpdated", "outcomeStatusUpdated",
         "outcomeCashoutStatusUpdated"]
CTRLS = [None, "connected", "disconnected", "flow", "checkpoint", "caught_up"]


def encode():
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\n")
        if not line:
            continue
        m = json.loads(line)
        typ = {v: k for k, v in TYPES.items()}[m["type"]]
        kind = m.get("kind", 0)
        if isinstance(kind, str):
            kind = (CTRLS if typ == 3 else KINDS).index(kind)
        atype = {"event": 1, "betOffer": 2}.get(m.get("actor_type"), 0)
        flow = {v: k for k, v in FLOWS.items() if v}.get(m.get("flow"), 0)
        key = m.get("key", "").encode()
        if "data_base64" in m:
            data = base64.b64decode(m["data_base64"])
        else:
            # The payload bytes as they appear in the line (unpack --meta prints them verbatim).
            s = line.decode()
            j = s.index('"data":') + len('"data":')
            data = s[j:-1].encode()
        payload = key + data
        flags = m.get("flags", 0)
        hdr = HDR.pack(MAGIC, 1, typ, flags, len(payload), m.get("conn", 0), m.get("recv_ns", 0),
                       m.get("offset", -1), m.get("actor_id", 0), flow, kind, atype, 0, len(key), 0,
                       siphash24(KEY, payload), 0)[:56]
        out.write(hdr + struct.pack("<Q", siphash24(KEY, hdr)) + payload)


def wiredec(b64):
    raw = sys.stdin.buffer.read()
    if b64:
        raw = b"".join(base64.b64decode(l) for l in raw.split(b"\n") if l)
    buf = b""
    per = []
    while raw:
        d = zlib.decompressobj(31)
        part = d.decompress(raw)
        if not d.eof:
            sys.exit("wiredec: truncated gzip member")
        # Count the frames wholly inside this member (the encoder never splits one).
        k = i = 0
        while i < len(part):
            if i + 4 > len(part):
                sys.exit("wiredec: frame split across members")
            n = struct.unpack_from(">I", part, i)[0]
            i += 4 + n
            k += 1
        if i != len(part):
            sys.exit("wiredec: frame split across members")
        per.append(k)
        buf += part
        raw = d.unused_data
    i = 0
    out = sys.stdout.buffer
    while i < len(buf):
        n = struct.unpack_from(">I", buf, i)[0]
        out.write(buf[i + 4:i + 4 + n] + b"\n")
        i += 4 + n
    print(len(per), " ".join(map(str, per)), file=sys.stderr)


WORDS = ["Arsenal", "Chelsea", "Malmö FF", "Atlético", "Beşiktaş", "Ñandú", "日本", "Zürich",
         "emoji 🎉", "tab\\there", "quote \\\"q\\\"", "back\\\\slash", "\\u00e9scaped", "nl\\nx"]


def gen(n, seed, lo, hi):
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        want = rng.randint(lo, hi)
        head = '{"offset":%d,"betOfferUpdated":{"betOffer":{"id":%d,"label":"' % (i + 1, rng.randint(1, 10**9))
        tail = '"}}}'
        body = []
        size = len(head.encode()) + len(tail)
        while size < want and size < 4096:
            w = rng.choice(WORDS)
            body.append(w)
            size += len(w.encode()) + 1
        text = " ".join(body)
        if size < want:  # long lines: repeat the text, then pad with ASCII to the exact length
            unit = text + " "
            k = (want - size) // len(unit.encode())
            text = unit * k + text
            size += k * len(unit.encode())
        text += "x" * max(0, want - size)
        out.write(head + text + tail + "\n")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "parse":
        parse(a[1])
    elif a[0] == "starts":
        starts(a[1])
    elif a[0] == "flip":
        flip(a[1], int(a[2]), int(a[3], 0) if len(a) > 3 else 0xFF)
    elif a[0] == "encode":
        encode()
    elif a[0] == "wiredec":
        wiredec(len(a) > 1 and a[1] == "b64")
    elif a[0] == "gen":
        gen(int(a[1]), int(a[2]), int(a[3]) if len(a) > 3 else 200, int(a[4]) if len(a) > 4 else 600)
    else:
        sys.exit("usage: records.py parse|starts|flip|encode|wiredec|gen ...")
