#!/usr/bin/env python3
"""kinesis-fault.py: a fault-injecting stand-in for Kinesis PutRecords.

Listens on 127.0.0.1:PORT (HTTP/1.1, keep-alive) and answers PutRecords as
Kinesis does, except where the plan says otherwise. Every request's SigV4
signature is verified with --secret (a wrong one gets 403
InvalidSignatureException, as AWS answers).

Plan (--plan, comma separated, one action per request in arrival order;
after the list --then applies to every later request):
  ok            accept every entry (minus --fail-rate random entry failures)
  partial:F     fail a fraction F of the entries (half throttled, half
                InternalFailure), accept the rest
  throttle      HTTP 400 ProvisionedThroughputExceededException
  500 / 503     HTTP 500 InternalFailure / 503 ServiceUnavailable
  slow:S        sleep S seconds, then ok
  hangup        close the connection without an answer
  expired       HTTP 400 ExpiredTokenException
  unrecognized  HTTP 400 UnrecognizedClientException
  notfound      HTTP 400 ResourceNotFoundException
  gate          wait while --gate FILE exists, then ok
  validation    HTTP 400 ValidationException (a request Kinesis finds malformed)
  stall         never answer (until the stand-in stops)

Per record, whatever the plan (the data field "i", see --field):
  --fail-first-try-every K  the first try of every record with (i+1) % K == 0
                            fails (InternalFailure): with checkpoints after
                            every K records, the last record before each
                            checkpoint is acknowledged last
  --always-fail I           record I fails every try

Credentials (--issue-creds TTL): the stand-in also plays the credential
source. GET /creds answers as an ECS container endpoint (with --auth-token
T it wants "Authorization: T"), and /latest/... as EC2 instance metadata
(--imds v2: a token by PUT /latest/api/token is required; --imds v1: the
PUT is refused with 405, answers without a token). Each answer issues new
credentials (key ASIASTANDIN<n>) that expire TTL seconds later; PutRecords
must be signed with issued credentials: unknown keys get 403
UnrecognizedClientException, expired ones 400 ExpiredTokenException.
--serve-keys AK:SK[:TOKEN] hands out those keys (with TOKEN, or a made-up one), so
that another Kinesis (moto) can check them.
Requests of the credential side go to creds.jsonl.

--tls CERT KEY serves HTTPS.

Output in --dir:
  accepted.jsonl   {"PartitionKey":..,"Data":<decoded JSON>} per accepted entry
  requests.jsonl   per request: action, status, entries [[key, i]...], failed [idx]
  auth.jsonl       per request: access key, region, token seen
  violations.log   checkpoint-ahead-of-acks violations (--checkpoint FILE:
                   its value W must never exceed the highest i such that
                   every i' <= W was accepted; checked on every request and
                   every 5 ms), and protocol complaints
  port             the port, once listening
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import random
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()


class State:
    def __init__(self, a):
        self.a = a
        self.n = 0
        self.plan = [p for p in a.plan.split(",") if p] if a.plan else []
        self.rng = random.Random(a.seed)
        self.accepted_i = set()
        self.contig = 0  # smallest i not accepted
        self.seq = 0
        d = a.dir
        self.f_acc = open(os.path.join(d, "accepted.jsonl"), "a", buffering=1)
        self.f_req = open(os.path.join(d, "requests.jsonl"), "a", buffering=1)
        self.f_auth = open(os.path.join(d, "auth.jsonl"), "a", buffering=1)
        self.f_vio = open(os.path.join(d, "violations.log"), "a", buffering=1)
        self.f_creds = open(os.path.join(d, "creds.jsonl"), "a", buffering=1)
        self.issued = {}  # access key -> (secret, token, expires)
        self.tries = {}  # record i -> tries seen
        self.imds_tokens = set()

    def issue(self):
        with LOCK:
            k = "ASIASTANDIN%d" % (len(self.issued) + 1)
            sec = "sec-%d-%s" % (len(self.issued) + 1, os.urandom(6).hex())
            if self.a.serve_keys:
                parts = self.a.serve_keys.split(":", 2)
                k, sec = parts[0], parts[1]
                if len(parts) > 2:
                    tok = parts[2]
            tok = "tok-%d-%s" % (len(self.issued) + 1, os.urandom(12).hex())
            exp = time.time() + self.a.issue_creds
            self.issued[k] = (sec, tok, exp)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))
        return {"AccessKeyId": k, "SecretAccessKey": sec, "Token": tok, "Expiration": iso}

    def action(self):
        with LOCK:
            i = self.n
            self.n += 1
        return i, (self.plan[i] if i < len(self.plan) else self.a.then)

    def check_checkpoint(self, where):
        if not self.a.checkpoint:
            return
        try:
            with open(self.a.checkpoint) as f:
                s = f.read()
        except FileNotFoundError:
            return
        except OSError:
            return
        if not s.endswith("\n"):
            self.f_vio.write("%s: checkpoint file without newline: %r\n" % (where, s))
            return
        w = int(s)
        with LOCK:
            if w >= self.contig:
                self.f_vio.write("%s: checkpoint %d but record %d not yet accepted\n" % (where, w, self.contig))

    def accept(self, key, data_b64):
        raw = base64.b64decode(data_b64)
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw.decode("utf-8", "replace")
        with LOCK:
            self.f_acc.write(json.dumps({"PartitionKey": key, "Data": data}, separators=(",", ":")) + "\n")
            i = data.get(self.a.field) if isinstance(data, dict) else None
            if isinstance(i, int):
                self.accepted_i.add(i)
                while self.contig in self.accepted_i:
                    self.contig += 1
            self.seq += 1
            return "%056d" % self.seq, i


def verify_sigv4(h, body, secret):
    """Returns (ok, access_key, region, token, why)."""
    auth = h.get("Authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, None, None, None, "no SigV4 Authorization header"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = parts["Credential"].split("/")
    ak, date, region, service = cred[0], cred[1], cred[2], cred[3]
    signed = parts["SignedHeaders"].split(";")
    amz_date = h.get("X-Amz-Date", "")
    token = h.get("X-Amz-Security-Token")
    if token and "x-amz-security-token" not in signed:
        return False, ak, region, token, "token not signed"
    for need in ("host", "x-amz-date", "x-amz-target", "content-type"):
        if need not in signed:
            return False, ak, region, token, "%s not signed" % need
    canon = "POST\n/\n\n"
    for name in signed:
        v = h.get(name)
        if v is None:
            return False, ak, region, token, "signed header %s missing" % name
        canon += "%s:%s\n" % (name, " ".join(v.split()))
    canon += "\n%s\n%s" % (";".join(signed), hashlib.sha256(body).hexdigest())
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz_date, scope, hashlib.sha256(canon.encode()).hexdigest())
    if callable(secret):
        secret = secret(ak)
        if secret is None:
            return False, ak, region, token, "unknown access key"
    k = ("AWS4" + secret).encode()
    for m in (date, region, service, "aws4_request"):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, parts["Signature"]):
        return False, ak, region, token, "signature mismatch"
    if service != "kinesis" or amz_date[:8] != date:
        return False, ak, region, token, "bad scope"
    return True, ak, region, token, ""


def make_handler(st):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, code, obj, extra=None):
            b = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(b)))
            self.send_header("x-amzn-RequestId", "req-%d" % st.n)
            if extra:
                for k, v in extra.items():
                    self.send_header(k, v)
            self.end_headers()
            self.wfile.write(b)

        def err(self, code, typ, msg):
            self.reply(code, {"__type": typ, "message": msg})

        def text(self, code, body, ctype="text/plain"):
            b = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def log_cred(self, what, code):
            with LOCK:
                st.f_creds.write(json.dumps({"t": time.time(), "method": self.command, "path": self.path, "what": what,
                                             "code": code, "auth": self.headers.get("Authorization"),
                                             "imds_token": self.headers.get("X-aws-ec2-metadata-token")}) + "\n")

        def do_PUT(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            self.rfile.read(n)
            if self.path == "/latest/api/token" and st.a.imds == "v2":
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    self.log_cred("token", 400)
                    return self.text(400, "missing ttl")
                t = "imds-%s" % os.urandom(8).hex()
                with LOCK:
                    st.imds_tokens.add(t)
                self.log_cred("token", 200)
                return self.text(200, t)
            self.log_cred("put", 405)
            return self.text(405, "not allowed")

        def do_GET(self):
            if self.path == "/creds" and st.a.issue_creds:
                if st.a.auth_token and self.headers.get("Authorization") != st.a.auth_token:
                    self.log_cred("container", 401)
                    return self.text(401, "unauthorized")
                self.log_cred("container", 200)
                return self.text(200, json.dumps(st.issue()), "application/json")
            if self.path.startswith("/latest/meta-data/") and st.a.imds:
                if st.a.imds == "v2" and self.headers.get("X-aws-ec2-metadata-token") not in st.imds_tokens:
                    self.log_cred("imds-no-token", 401)
                    return self.text(401, "")
                rest = self.path[len("/latest/meta-data/"):]
                if rest == "iam/security-credentials/":
                    self.log_cred("imds-role", 200)
                    return self.text(200, "kp-role")
                if rest == "iam/security-credentials/kp-role":
                    c = st.issue()
                    c.update({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z"})
                    self.log_cred("imds-creds", 200)
                    return self.text(200, json.dumps(c))
                if rest == "placement/region":
                    self.log_cred("imds-region", 200)
                    return self.text(200, "us-east-1")
                self.log_cred("imds-other", 404)
                return self.text(404, "")
            return self.text(404, "")

        def secret_of(self, ak):
            if not st.a.issue_creds:
                return st.a.secret
            with LOCK:
                c = st.issued.get(ak)
            return c[0] if c else None

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            st.check_checkpoint("request arrival")
            ok, ak, region, token, why = verify_sigv4(self.headers, body, self.secret_of)
            with LOCK:
                st.f_auth.write(json.dumps({"access_key": ak, "region": region, "token": token,
                                            "ok": ok, "why": why}) + "\n")
            if self.headers.get("X-Amz-Target") != "Kinesis_20131202.PutRecords":
                return self.err(400, "UnknownOperationException", "bad target")
            if st.a.issue_creds and why == "unknown access key":
                return self.err(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
            if ok and st.a.expired_first > 0:
                with LOCK:
                    st.a.expired_first -= 1
                    st.f_req.write(json.dumps({"n": -1, "action": "expired-first", "entries": [], "failed": [],
                                               "status": 400, "access_key": ak}) + "\n")
                return self.err(400, "ExpiredTokenException", "The security token included in the request is expired")
            if ok and st.a.issue_creds:
                with LOCK:
                    c = st.issued.get(ak)
                if token != c[1]:
                    return self.err(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
                if time.time() > c[2]:
                    with LOCK:
                        st.f_req.write(json.dumps({"n": -1, "action": "expired-creds", "entries": [], "failed": [],
                                                   "status": 400, "access_key": ak}) + "\n")
                    return self.err(400, "ExpiredTokenException", "The security token included in the request is expired")
            if not ok:
                return self.err(403, "InvalidSignatureException",
                                "The request signature we calculated does not match the signature you provided. (%s)" % why)
            try:
                req = json.loads(body)
                recs = req["Records"]
            except (ValueError, KeyError):
                return self.err(400, "SerializationException", "bad body")
            if st.a.stream and req.get("StreamName") != st.a.stream:
                return self.err(400, "ResourceNotFoundException",
                                "Stream %s under account 000000000000 not found." % req.get("StreamName"))
            idx, act = st.action()
            entries = []
            for r in recs:
                try:
                    d = json.loads(base64.b64decode(r["Data"]))
                    i = d.get(st.a.field) if isinstance(d, dict) else None
                except ValueError:
                    i = None
                entries.append([r["PartitionKey"], i])
            logrec = {"n": idx, "action": act, "entries": entries, "failed": [], "status": 200}
            code = None
            if act.startswith("slow:"):
                time.sleep(float(act[5:]))
                act = "ok"
            if act == "gate":
                while st.a.gate and os.path.exists(st.a.gate):
                    time.sleep(0.01)
                act = "ok"
            if act == "stall":
                while True:
                    time.sleep(1)
            if act == "hangup":
                logrec["status"] = 0
                with LOCK:
                    st.f_req.write(json.dumps(logrec) + "\n")
                self.close_connection = True
                self.connection.shutdown(2)
                return
            errors = {
                "throttle": (400, "ProvisionedThroughputExceededException", "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."),
                "500": (500, "InternalFailure", "internal failure"),
                "503": (503, "ServiceUnavailable", "service unavailable"),
                "expired": (400, "ExpiredTokenException", "The security token included in the request is expired"),
                "unrecognized": (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
                "notfound": (400, "ResourceNotFoundException", "Stream s under account 000000000000 not found."),
                "validation": (400, "ValidationException", "1 validation error detected: Value at 'records' failed to satisfy constraint"),
            }
            if act in errors:
                code, typ, msg = errors[act]
                logrec["status"] = code
                with LOCK:
                    st.f_req.write(json.dumps(logrec) + "\n")
                return self.err(code, typ, msg)
            frac = st.a.fail_rate
            if act.startswith("partial:"):
                frac = float(act[8:])
            elif act != "ok":
                return self.err(500, "InternalFailure", "unknown plan action %s" % act)
            out, failed = [], 0
            for k, r in enumerate(recs):
                i = entries[k][1]
                with LOCK:
                    bad = st.rng.random() < frac
                    if isinstance(i, int):
                        tries = st.tries.get(i, 0) + 1
                        st.tries[i] = tries
                        if st.a.fail_first_try_every and (i + 1) % st.a.fail_first_try_every == 0 and tries == 1:
                            bad = True
                        if st.a.always_fail is not None and i == st.a.always_fail:
                            bad = True
                if bad:
                    failed += 1
                    logrec["failed"].append(k)
                    if k % 2:
                        out.append({"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure."})
                    else:
                        out.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                    "ErrorMessage": "Rate exceeded for shard shardId-000000000001 in stream s under account 000000000000."})
                else:
                    seq, _ = st.accept(r["PartitionKey"], r["Data"])
                    out.append({"SequenceNumber": seq, "ShardId": "shardId-000000000000"})
            with LOCK:
                st.f_req.write(json.dumps(logrec) + "\n")
            st.check_checkpoint("before reply")
            self.reply(200, {"FailedRecordCount": failed, "Records": out})

    return H


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--plan", default="")
    ap.add_argument("--then", default="ok")
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--secret", default="testsecret")
    ap.add_argument("--stream", default="")
    ap.add_argument("--field", default="i", help="data field holding the record index")
    ap.add_argument("--checkpoint", default="")
    ap.add_argument("--gate", default="")
    ap.add_argument("--issue-creds", type=float, default=0)
    ap.add_argument("--auth-token", default="")
    ap.add_argument("--fail-first-try-every", type=int, default=0)
    ap.add_argument("--always-fail", type=int, default=None)
    ap.add_argument("--expired-first", type=int, default=0, help="answer the first N requests ExpiredTokenException")
    ap.add_argument("--serve-keys", default="", help="AK:SK to hand out instead of made-up keys")
    ap.add_argument("--imds", default="", choices=["", "v1", "v2"])
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    st = State(a)
    srv = Server(("127.0.0.1", a.port), make_handler(st))
    if a.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(a.dir, "port"), "w") as f:
        f.write("%d\n" % srv.server_address[1])

    def watch():
        while True:
            st.check_checkpoint("watch")
            time.sleep(0.005)

    if a.checkpoint:
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
