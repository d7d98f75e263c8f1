#!/usr/bin/env python3
"""ora-client.py: an independent ORA session client for tests (python3 stdlib only).

Connects with TLS and a client certificate, speaks the session protocol of
doc/design.md §2 (gzip members, u32 big-endian length-prefixed JSON frames),
answers pings, and prints every data message it receives as one JSON line (the
frame text exactly as decoded) on stdout.

Exit status: 0 done (--until-offset reached, --max-data reached, or --idle
elapsed), 2 SESSION_ERROR received (code on stderr), 3 the server closed the
connection, 4 corrupt stream, 5 --timeout elapsed, 6 TLS/connect failure,
64 usage.
"""
import argparse
import json
import socket
import ssl
import struct
import sys
import time
import urllib.request
import zlib
import gzip

EX_OK, EX_ERROR, EX_CLOSED, EX_CORRUPT, EX_TIMEOUT, EX_CONNECT = 0, 2, 3, 4, 5, 6


def say(*a):
    print("ora-client:", *a, file=sys.stderr, flush=True)


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.cacert)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    return ctx


def fetch_token(args):
    ctx = tls_context(args)
    with urllib.request.urlopen(args.auth_url, context=ctx, timeout=10) as r:
        return r.read().decode().strip()


def frame(obj):
    data = json.dumps(obj, separators=(",", ":")).encode() if not isinstance(obj, bytes) else obj
    return gzip.compress(struct.pack(">I", len(data)) + data, mtime=0)


class Client:
    def __init__(self, args):
        self.a = args
        self.z = None          # current member's inflater
        self.plain = b""       # inflated bytes not yet framed
        self.members = 0
        self.bytes = 0
        self.data = 0
        self.pings = 0
        self.pongs = 0
        self.flow = None
        self.low = None        # offsets above this complete the stream
        self.missing = None
        self.seen = set()
        self.last_data = time.monotonic()
        self.result = None
        self.error = None
        self.session = []
        self.paused = False

    def send(self, obj):
        self.sock.sendall(frame(obj))

    def feed(self, data):
        self.bytes += len(data)
        while data:
            if self.z is None:
                self.z = zlib.decompressobj(31)
            self.plain += self.z.decompress(data)
            if self.z.eof:
                data = self.z.unused_data
                self.z = None
                self.members += 1
            else:
                data = b""
        frames = []
        while len(self.plain) >= 4:
            n = struct.unpack(">I", self.plain[:4])[0]
            if len(self.plain) < 4 + n:
                break
            frames.append(self.plain[4:4 + n])
            self.plain = self.plain[4 + n:]
        return frames

    def out(self, text, flow):
        if self.a.annotate:
            sys.stdout.write('{"flow":%s,"msg":%s}\n' % (json.dumps(flow), text))
        else:
            sys.stdout.write(text + "\n")

    def start_range(self, low):
        self.low = low
        if self.a.until_offset is not None:
            self.missing = max(0, self.a.until_offset - low)
            self.missing -= len([o for o in self.seen if low < o <= self.a.until_offset])

    def on_frame(self, raw):
        text = raw.decode()
        msg = json.loads(text)
        t = msg.get("type")
        if t is not None:
            if self.a.session:
                self.out(text, "session")
            self.session.append(t)
            return self.on_session(t, msg)
        self.data += 1
        self.last_data = time.monotonic()
        self.out(text, self.flow)
        off = msg.get("offset")
        if self.flow != "snapshot" and isinstance(off, int):
            if off not in self.seen:
                self.seen.add(off)
                if self.missing is not None and self.low is not None and self.low < off <= self.a.until_offset:
                    self.missing -= 1
        if self.a.max_data and self.data >= self.a.max_data:
            return EX_OK
        if self.a.pause_after is not None and not self.paused and self.data >= self.a.pause_after:
            return self.pause()
        return self.done()

    def pause(self):
        # read nothing for --pause seconds (the server's buffers fill up)
        say("pausing for %gs after %d data messages" % (self.a.pause, self.data))
        time.sleep(self.a.pause)
        self.paused = True
        return None

    def done(self):
        # --until-offset: every offset arrived and the replay completed
        if self.missing == 0 and self.flow == "realtime":
            return EX_OK
        return None

    def on_session(self, t, msg):
        a = self.a
        if t == "SESSION_WELCOME":
            if a.raw_init is not None:
                self.sock.sendall(frame(a.raw_init.encode()))
                return None
            init = {"protocolVersion": a.protocol,
                    "offerings": [o for o in a.offerings.split(",") if o]}
            if self.token is not None:
                init["token"] = self.token
            self.send({"type": "SESSION_INITIALIZE", "sessionInitialize": init})
        elif t == "SESSION_INITIALIZED":
            if a.replay is not None:
                self.send({"type": "SESSION_REPLAY", "sessionReplay": {"offset": a.replay}})
                self.flow = "replay"
                self.start_range(a.replay)
            else:
                self.send({"type": "SESSION_SNAPSHOT", "sessionSnapshot": {}})
                self.flow = "snapshot"
        elif t == "SESSION_SNAPSHOT_COMPLETED":
            self.flow = "replay"
            self.snapshot_offset = msg["sessionSnapshotCompleted"]["offset"]
            self.start_range(self.snapshot_offset)
        elif t == "SESSION_REPLAY_COMPLETED":
            self.flow = "realtime"
            self.replay_offset = msg["sessionReplayCompleted"]["offset"]
            return self.done()
        elif t == "SESSION_PING":
            self.pings += 1
            if not a.no_pong:
                self.pongs += 1
                self.send({"type": "SESSION_PONG", "sessionPong": {"id": msg["sessionPing"]["id"]}})
        elif t == "SESSION_ERROR":
            code = msg["sessionError"].get("code")
            self.error = code
            say("SESSION_ERROR", code, msg["sessionError"].get("message", ""))
            if code == "OFFSET_TOO_OLD" and a.on_too_old == "snapshot":
                self.send({"type": "SESSION_SNAPSHOT", "sessionSnapshot": {}})
                self.flow = "snapshot"
                self.low = None
                return None
            return EX_ERROR
        return None

    def run(self):
        a = self.a
        self.token = a.token
        if a.token_file:
            with open(a.token_file) as f:
                self.token = f.read().strip()
        if a.auth_url:
            try:
                self.token = fetch_token(a)
            except Exception as e:  # noqa: BLE001 - report any failure
                say("token fetch failed:", e)
                return EX_CONNECT
        try:
            raw = socket.create_connection((a.host, a.port), timeout=10)
            self.sock = tls_context(a).wrap_socket(raw, server_hostname=a.server_name or a.host)
        except (OSError, ssl.SSLError) as e:
            say("connect failed:", e)
            return EX_CONNECT
        self.sock.settimeout(0.1)
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if a.timeout and now - start > a.timeout:
                say("timeout after %gs" % a.timeout)
                return EX_TIMEOUT
            if a.idle and self.flow == "realtime" and now - self.last_data > a.idle:
                return EX_OK
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ssl.SSLError as e:
                say("TLS failure:", e)
                return EX_CONNECT if self.members == 0 else EX_CLOSED
            except OSError as e:
                say("closed:", e)
                return EX_CLOSED
            if not data:
                say("closed: the server closed the connection after %d data messages, %d bytes"
                    % (self.data, self.bytes))
                return EX_CLOSED
            try:
                frames = self.feed(data)
            except zlib.error as e:
                say("corrupt stream after %d data messages: %s" % (self.data, e))
                return EX_CORRUPT
            for f in frames:
                rc = self.on_frame(f)
                if rc is not None:
                    return rc


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--server-name", help="TLS name to verify (default: --host)")
    p.add_argument("--cacert", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth-url", help="fetch the token here first")
    p.add_argument("--token")
    p.add_argument("--token-file")
    p.add_argument("--offerings", default="offering-se,offering-gb", help="comma-separated ('' = empty list)")
    p.add_argument("--protocol", default="V1")
    p.add_argument("--raw-init", help="send this text as the INITIALIZE frame instead")
    p.add_argument("--replay", type=int, help="SESSION_REPLAY from this offset (default: snapshot)")
    p.add_argument("--on-too-old", choices=["exit", "snapshot"], default="exit")
    p.add_argument("--no-pong", action="store_true", help="never answer pings")
    p.add_argument("--pause-after", type=int, help="after this many data messages stop reading for --pause seconds")
    p.add_argument("--pause", type=float, default=5)
    p.add_argument("--until-offset", type=int,
                   help="stop once every offset up to this one arrived and the replay completed")
    p.add_argument("--max-data", type=int, help="stop after this many data messages")
    p.add_argument("--idle", type=float, help="stop after this many seconds of realtime without data")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--session", action="store_true", help="print session messages too")
    p.add_argument("--annotate", action="store_true", help='print {"flow":F,"msg":M} lines')
    p.add_argument("--stats", help="write counters as JSON to this file at the end")
    a = p.parse_args()
    c = Client(a)
    rc = c.run()
    sys.stdout.flush()
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump({"rc": rc, "data": c.data, "members": c.members, "bytes": c.bytes,
                       "pings": c.pings, "pongs": c.pongs, "error": c.error, "session": c.session,
                       "snapshot_offset": getattr(c, "snapshot_offset", None),
                       "replay_offset": getattr(c, "replay_offset", None)}, f)
            f.write("\n")
    try:
        c.sock.close()
    except Exception:  # noqa: BLE001
        pass
    return rc


if __name__ == "__main__":
    sys.exit(main())
