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
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        lo, hi, perms = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if not perms.startswith("rw"):
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue  # guard pages and the like
        for i, n in enumerate(needles):
            counts[i] += data.count(n)
for n, c in zip(sys.argv[2:], counts):
    print(n, c)
