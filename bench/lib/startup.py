#!/usr/bin/env python3
"""Times a VMM command: process start to the first byte of guest output on stdout, and to process exit.

usage: startup.py RUNS -- COMMAND...   prints one line per run: "<first_output_ms> <exit_ms> <exit_code>"
"""
import os
import subprocess
import sys
import time


def one(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    first = p.stdout.read(1)
    t1 = time.perf_counter()
    p.stdout.read()
    code = p.wait()
    t2 = time.perf_counter()
    if not first:
        raise SystemExit("no guest output from: " + " ".join(cmd))
    return (t1 - t0) * 1000, (t2 - t0) * 1000, code


def main():
    runs = int(sys.argv[1])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    for _ in range(runs):
        f, e, c = one(cmd)
        print(f"{f:.1f} {e:.1f} {c}", flush=True)


if __name__ == "__main__":
    main()
