#!/usr/bin/env bash
# Start-up benchmark (issue: foundation): process start to first guest output and to exit for the smallest test
# guest (guests/build/hello.mb: prints one line, exits through the debug-exit port), RUNS runs each, min/median/max,
# side by side with QEMU on the same guest and accelerator; then resident memory outside guest RAM, jkvm beside QEMU,
# with a guest that prints one line and spins.
#   bench/startup.sh [RUNS]        (default 10; needs qemu-system-x86 and /dev/kvm)
# QEMU runs its lightest machine for this guest, `-M microvm` (qboot firmware, no PCI), with -nodefaults.
# jkvm runs through its launcher with the JDK 25 AOT cache, which this script trains first (bench/startup.sh is what
# creates jkvm-cli/target/jkvm.aot).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-10}"
cd "$root"
. scripts/jdk.sh
command -v qemu-system-x86_64 >/dev/null || { echo "bench: needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 2; }
[ -e /dev/kvm ] || { echo "bench: needs /dev/kvm" >&2; exit 2; }
./mvnw -q -B -DskipTests -pl jkvm-cli -am package
make -s -C guests
guest=guests/build/hello.mb
export JKVM_NO_BUILD=1

# Train the AOT cache (JEP 514) on the real work: a few boots of the guest.
aot=jkvm-cli/target/jkvm.aot
rm -f "$aot"
JKVM_JAVA_OPTS="-XX:AOTCacheOutput=$aot -Xlog:aot=error -Xlog:cds=error" ./jkvm run --accel kvm --memory 64M --kernel "$guest" >/dev/null || true
[ -f "$aot" ] || echo "bench: warning: no AOT cache was written; timing without it" >&2

spin="$(mktemp -d)/spin.mb"
# multiboot a.out kludge at 1 MiB: print "B\n" on COM1, then spin
printf '\x02\xb0\xad\x1b\x00\x00\x01\x00\xfe\x4f\x51\xe4\x00\x00\x10\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x10\x00\x66\xba\xf8\x03\xb0\x42\xee\xb0\x0a\xee\xeb\xfe' > "$spin"

jkvm_cmd=(./jkvm run --accel kvm --memory 64M --kernel)
qemu_cmd=(qemu-system-x86_64 -M microvm -accel kvm -m 64 -nodefaults -no-user-config -display none -serial stdio
          -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel)

stats() { # reads "first exit code" lines; prints min/median/max of both columns
  sort -n -k"$1" | awk -v c="$1" '{v[NR]=$c} END {printf "%.1f / %.1f / %.1f", v[1], v[int((NR+1)/2)], v[NR]}'
}
median() { sort -n -k"$1" | awk -v c="$1" '{v[NR]=$c} END {print v[int((NR+1)/2)]}'; }

j="$(python3 bench/lib/startup.py "$runs" -- "${jkvm_cmd[@]}" "$guest")"
q="$(python3 bench/lib/startup.py "$runs" -- "${qemu_cmd[@]}" "$guest")"
echo "start-up, $runs runs, guest $guest, ms min / median / max"
printf '  %-6s first output %-24s exit %s\n' jkvm "$(stats 1 <<<"$j")" "$(stats 2 <<<"$j")"
printf '  %-6s first output %-24s exit %s\n' qemu "$(stats 1 <<<"$q")" "$(stats 2 <<<"$q")"
awk -v a="$(median 1 <<<"$j")" -v b="$(median 1 <<<"$q")" -v c="$(median 2 <<<"$j")" -v d="$(median 2 <<<"$q")" \
  'BEGIN {printf "  ratio jkvm/qemu (median): first output %.2fx, exit %.2fx\n", a/b, c/d}'

jr="$(python3 bench/lib/rss.py 64 -- "${jkvm_cmd[@]}" "$spin")"
qr="$(python3 bench/lib/rss.py 64 -- "${qemu_cmd[@]}" "$spin")"
echo "resident memory outside guest RAM (KiB): jkvm $(cut -d' ' -f3 <<<"$jr"), qemu $(cut -d' ' -f3 <<<"$qr")"
awk -v a="$(cut -d' ' -f3 <<<"$jr")" -v b="$(cut -d' ' -f3 <<<"$qr")" 'BEGIN {printf "  ratio jkvm/qemu: %.2fx\n", a/b}'
