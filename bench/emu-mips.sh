#!/usr/bin/env bash
# Software-CPU speed (issue: emu LAPIC): jkvm --accel emu beside QEMU TCG on the same guests, RUNS runs each,
# wall time min/median/max, the ratio jkvm/QEMU, and guest MIPS.
#   bench/emu-mips.sh [RUNS]        (default 5; needs qemu-system-x86_64, no /dev/kvm)
# Guests (make -C guests bench all; sources in guests/bench/bench.S), multiboot, 32-bit protected mode, no paging:
#   bench-compute.mb  600,000,008 instructions: a 6-instruction register loop (ADD, XOR, IMUL, ROL, DEC, JNZ)
#   bench-memory.mb   560,000,008 instructions: a 7-instruction loop with a load and a store per iteration,
#                     striding 68 bytes through 16 MiB
#   hello.mb          ~1,500 instructions: the start-up floor (process start to debug exit)
# "MIPS" is instructions / median wall time, start-up included; "net" subtracts hello.mb's median wall time from
# both VMMs' figures (QEMU boots SeaBIOS first, jkvm starts a JVM).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
cd "$root"
. scripts/jdk.sh
command -v qemu-system-x86_64 >/dev/null || { echo "bench: needs qemu-system-x86_64" >&2; exit 2; }
make -s -C guests all bench
if [ "${JKVM_NO_BUILD:-0}" != 1 ]; then
  ./mvnw -q -B -DskipTests -pl jkvm-cli -am package
fi
export JKVM_NO_BUILD=1

jkvm_cmd=(./jkvm run --accel emu --memory 128M --kernel)
qemu_cmd=(qemu-system-x86_64 -accel tcg -m 128 -display none -serial stdio -no-reboot
          -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel)

# Runs "$@" RUNS times; prints one wall time in seconds per line; fails unless the guest exited with status 1.
times() {
  for ((i = 0; i < runs; i++)); do
    local t0 t1 rc=0
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 </dev/null || rc=$?
    t1=$(date +%s%N)
    [ "$rc" = 1 ] || { echo "bench: '$*' exited with $rc, expected 1 (guest success)" >&2; exit 1; }
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e9}'
  done
}
stat3() { sort -n | awk '{v[NR]=$1} END {printf "%.2f / %.2f / %.2f", v[1], v[int((NR+1)/2)], v[NR]}'; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A insns=([hello]=0 [bench-compute]=600000008 [bench-memory]=560000008)
declare -A jmed qmed
echo "emu speed, $runs runs each, wall seconds min / median / max ($(nproc) host cores)"
for g in hello bench-compute bench-memory; do
  j="$(times "${jkvm_cmd[@]}" "guests/build/$g.mb")"
  q="$(times "${qemu_cmd[@]}" "guests/build/$g.mb")"
  jmed[$g]="$(median <<<"$j")"
  qmed[$g]="$(median <<<"$q")"
  printf '  %-14s jkvm %-20s qemu-tcg %-20s jkvm/qemu %s\n' "$g" "$(stat3 <<<"$j")" "$(stat3 <<<"$q")" \
    "$(awk -v a="${jmed[$g]}" -v b="${qmed[$g]}" 'BEGIN {printf "%.1fx", a / b}')"
done
for g in bench-compute bench-memory; do
  awk -v n="${insns[$g]}" -v j="${jmed[$g]}" -v q="${qmed[$g]}" -v j0="${jmed[hello]}" -v q0="${qmed[hello]}" -v g="$g" \
    'BEGIN {
       jn = j - j0; qn = q - q0
       qm = "n/a"; r = "n/a"
       if (qn > 0.005) { qm = sprintf("%.0f", n / qn / 1e6); r = sprintf("%.1fx", jn / qn) }
       printf "  %-14s jkvm %.0f MIPS (net of start-up %.0f), qemu-tcg %.0f MIPS (net %s), net ratio %s\n", g,
              n / j / 1e6, n / jn / 1e6, n / q / 1e6, qm, r
     }'
done
