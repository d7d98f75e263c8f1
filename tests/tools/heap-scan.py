#!/usr/bin/env python3
"""heap-scan.py PID STRING...: how many times each STRING occurs in the
process's private writable memory (heap, anonymous mappings, stacks), read
through /proc/PID/mem without a core dump. Prints "STRING COUNT" lines.
Needs ptrace rights over PID (root, or the same user with a dumpable
process)."""
import re
import sys

pid = int(sys.argv[1])
needles = [s.encode() for s in sys.argv[2:]]
counts = [0] * len(needles)
longest = max(len(n) for n in needles)
CHUNK = 64 << 20
LARGEST = 4 << 30  # no heap of the tools under test comes near 4 GiB
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if not perms.startswith("rw"):
            continue
        if hi - lo > LARGEST:
            continue  # a sanitizer's shadow memory: reserved, not data
        # read in chunks that overlap by a needle's length less one, so a
        # needle across a chunk boundary is counted once
        pos, tail = lo, b""
        while pos < hi:
            try:
                mem.seek(pos)
                chunk = mem.read(min(CHUNK, hi - pos))
            except OSError:
                break  # guard pages and the like
            if not chunk:
                break
            data = tail + chunk
            for i, n in enumerate(needles):
                counts[i] += data.count(n) - tail.count(n)
            tail = data[-(longest - 1):] if longest > 1 else b""
            pos += len(chunk)
for n, c in zip(sys.argv[2:], counts):
    print(n, c)
