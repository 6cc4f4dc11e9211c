#!/usr/bin/env python3
"""Resident memory of a running VMM outside guest RAM.

usage: rss.py GUEST_RAM_MIB -- COMMAND...
Starts COMMAND, waits for its first guest output line, waits one more second, then sums the Rss of every mapping in
/proc/PID/smaps except the guest RAM mapping (the one sized GUEST_RAM_MIB up to 4 MiB more, for alignment), prints
"<rss_total_kib> <guest_ram_rss_kib> <rss_outside_guest_ram_kib>", and kills the process.
"""
import subprocess
import sys
import time


def main():
    ram_kib = int(sys.argv[1]) * 1024
    cmd = sys.argv[sys.argv.index("--") + 1:]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE)
    p.stdout.readline()
    time.sleep(1.0)
    maps = []
    size = rss = 0
    with open(f"/proc/{p.pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                if size:
                    maps.append((size, rss))
                size = rss = 0
            elif parts[0] == "Size:":
                size = int(parts[1])
            elif parts[0] == "Rss:":
                rss = int(parts[1])
    maps.append((size, rss))
    p.kill()
    p.wait()
    total = sum(r for _, r in maps)
    candidates = [m for m in maps if ram_kib <= m[0] <= ram_kib + 4096]
    guest = max(candidates, key=lambda m: m[1], default=(0, 0))
    print(f"{total} {guest[1]} {total - guest[1]}")


if __name__ == "__main__":
    main()
