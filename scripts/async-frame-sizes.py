#!/usr/bin/env python3
"""The largest async frames in a Swift binary, from its async function pointers.

Usage: scripts/async-frame-sizes.py BINARY [COUNT] [FILTER]

Each `…Tu` symbol is an async function pointer: a 32-bit relative offset to the function, then
the 32-bit size of the context (frame) a caller allocates for it on the task's allocator. A task
keeps the slabs of its deepest calls until it ends, so a long-lived task (one per connection)
should only ever run small frames: see `inShortLivedTask` in CHOMCore.
"""
import struct
import subprocess
import sys

binary = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
needle = sys.argv[3] if len(sys.argv) > 3 else ""

sections = []
for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.replace("[ ", "[").split()
    if len(parts) > 6 and parts[0].startswith("[") and parts[1] != ".bss":
        try:
            sections.append((int(parts[3], 16), int(parts[4], 16), int(parts[5], 16)))
        except ValueError:
            pass

data = open(binary, "rb").read()
frames = []
for line in subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) != 3 or not parts[2].endswith("Tu"):
        continue
    address = int(parts[0], 16)
    for start, offset, size in sections:
        if start <= address < start + size:
            at = offset + address - start
            _, context = struct.unpack("<iI", data[at:at + 8])
            frames.append((context, parts[2]))
            break

names = subprocess.run(
    ["swift", "demangle", "--simplified"], input="\n".join(symbol for _, symbol in frames),
    capture_output=True, text=True, check=True).stdout.splitlines()
rows = sorted(((size, name.removeprefix("async function pointer to ")) for (size, _), name in zip(frames, names)), reverse=True)
for size, name in [row for row in rows if needle in row[1]][:count]:
    print(f"{size:>7}  {name[:150]}")
