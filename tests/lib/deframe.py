#!/usr/bin/env python3
"""Test inputs for ora-deframe, made independently of our C encoder.

  deframe.py gz [--per-member A..B] [--level N] [--seed S]  < jsonl > raw
      JSON lines -> [u32 BE length][line] frames in gzip members (Python's
      zlib), A..B frames per member.
  deframe.py split [--per-member-bytes A..B] [--seed S]     < jsonl > raw
      the frames of all lines as one byte stream, cut into members at
      arbitrary byte offsets (frames span members).
  deframe.py wire [--conn N] [--chunk A..B] [--seed S] [--flip AT] < raw > meta
      raw bytes -> `ora-rec pack --meta` lines of WIRE records, cut A..B
      bytes each; --flip AT xors the byte at AT with 0x55.
  deframe.py inflated [--conn N] [--flags F]                < jsonl > meta
      one WIRE record flagged INFLATED (2, or F) per line, the line as its
      payload: what ora-connect hands on by default.
  deframe.py ctrl JSON                                       > meta
      one CTRL record's meta line from its JSON payload.
"""
import base64, json, random, struct, sys, zlib


def rng_range(s):
    a, _, b = s.partition('..')
    return int(a), int(b or a)


def opts(argv):
    o = {}
    i = 0
    while i < len(argv):
        o[argv[i].lstrip('-')] = argv[i + 1]
        i += 2
    return o


def member(data, level):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def frames():
    for line in sys.stdin.buffer:
        line = line.rstrip(b'\n')
        yield struct.pack('>I', len(line)) + line


def main():
    cmd = sys.argv[1]
    o = opts(sys.argv[2:]) if cmd != 'ctrl' else {}
    rnd = random.Random(int(o.get('seed', 1)))
    out = sys.stdout.buffer
    if cmd == 'gz':
        a, b = rng_range(o.get('per-member', '1'))
        level = int(o.get('level', 6))
        fs = list(frames())
        i = 0
        while i < len(fs):
            k = rnd.randint(a, b)
            out.write(member(b''.join(fs[i:i + k]), level))
            i += k
    elif cmd == 'split':
        a, b = rng_range(o.get('per-member-bytes', '1..300'))
        d = b''.join(frames())
        i = 0
        while i < len(d):
            k = rnd.randint(a, b)
            out.write(member(d[i:i + k], 6))
            i += k
    elif cmd == 'wire':
        a, b = rng_range(o.get('chunk', '1..3000'))
        conn = int(o.get('conn', 1))
        d = bytearray(sys.stdin.buffer.read())
        if 'flip' in o:
            d[int(o['flip'])] ^= 0x55
        i = 0
        while i < len(d):
            k = rnd.randint(a, b)
            rec = {'type': 'WIRE', 'conn': conn,
                   'data_base64': base64.b64encode(bytes(d[i:i + k])).decode()}
            out.write((json.dumps(rec) + '\n').encode())
            i += k
    elif cmd == 'inflated':
        conn = int(o.get('conn', 1))
        flags = int(o.get('flags', 2))
        for line in sys.stdin.buffer:
            rec = {'type': 'WIRE', 'flags': flags, 'conn': conn,
                   'data_base64': base64.b64encode(line.rstrip(b'\n')).decode()}
            out.write((json.dumps(rec) + '\n').encode())
    elif cmd == 'ctrl':
        p = json.loads(sys.argv[2])
        rec = {'type': 'CTRL', 'kind': p['ctrl'], 'data': p}
        for f in ('conn', 'offset', 'flow'):
            if f in p:
                rec[f] = p[f]
        out.write((json.dumps(rec) + '\n').encode())
    else:
        sys.exit('deframe.py: unknown command ' + cmd)


main()
