#!/usr/bin/env bash
# Linux on the software CPU (issue: Linux on emu): Debian's cloud kernel with the busybox initramfs of
# scripts/guest-images.sh, booted RUNS times by `jkvm run --accel emu` and by `qemu-system-x86_64 -accel tcg` with
# the same kernel, initramfs, command line, memory and vCPUs. The guest's /init prints JKVM-INIT-OK, runs an
# appended script that powers off at once, and the VMM exits. Prints, min / median / max in seconds:
#   marker   process start to JKVM-INIT-OK on the serial console
#   exit     process start to process exit (after the guest's poweroff)
#   ratio    jkvm / QEMU of the medians
#   bench/linux-boot.sh [RUNS] [CPUS]      (default 5 runs, 1 vCPU; needs qemu-system-x86_64)
# A profile of the jkvm side: JKVM_JFR=out.jfr bench/linux-boot.sh 1 (JDK Flight Recorder, then `jfr print`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
cpus="${2:-1}"
cd "$root"
. scripts/jdk.sh
command -v qemu-system-x86_64 >/dev/null || { echo "bench: needs qemu-system-x86_64" >&2; exit 2; }
images="$(scripts/guest-images.sh --print-dir)"
scripts/guest-images.sh >&2
if [ "${JKVM_NO_BUILD:-0}" != 1 ]; then
  ./mvnw -q -B -DskipTests -pl jkvm-cli -am package
fi
export JKVM_NO_BUILD=1

work="$(mktemp -d "${TMPDIR:-/tmp}/jkvm-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\ntrue\n' > "$work/exit.sh"
scripts/mkinitrd-test.sh "$work/exit.cpio.gz" "$work/exit.sh"
cat "$images/initramfs.cpio.gz" "$work/exit.cpio.gz" > "$work/initrd"
cmdline="console=ttyS0 panic=0"

jkvm_cmd=(./jkvm run --accel emu --cpus "$cpus" --memory 512M --kernel "$images/vmlinuz" --initrd "$work/initrd"
          --cmdline "$cmdline")
if [ -n "${JKVM_JFR:-}" ]; then
  export JAVA_TOOL_OPTIONS="-XX:StartFlightRecording=filename=$JKVM_JFR,settings=profile"
fi
qemu_cmd=(qemu-system-x86_64 -accel tcg -smp "$cpus" -m 512 -nodefaults -no-user-config -display none -serial stdio
          -kernel "$images/vmlinuz" -initrd "$work/initrd" -append "$cmdline")

# One run of "$@": prints "<seconds to marker> <seconds to exit>"; fails unless the marker came and the exit was 0.
one() {
  local log="$work/console" t0 tm="" rc=0
  : >"$log"   # emptied here: the background redirection may come after the first grep, which must not see the last run
  t0=$(date +%s%N)
  "$@" >"$log" 2>&1 </dev/null &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ -z "$tm" ] && grep -q JKVM-INIT-OK "$log"; then tm=$(date +%s%N); fi
    sleep 0.02
  done
  wait "$pid" || rc=$?
  local t1; t1=$(date +%s%N)
  [ -z "$tm" ] && grep -q JKVM-INIT-OK "$log" && tm=$t1
  [ -n "$tm" ] && [ "$rc" = 0 ] || { echo "bench: '$*' exited with $rc, marker ${tm:-missing}" >&2; tail -5 "$log" >&2; exit 1; }
  awk -v a="$t0" -v m="$tm" -v b="$t1" 'BEGIN {printf "%.3f %.3f\n", (m - a) / 1e9, (b - a) / 1e9}'
}
stat3() { sort -n | awk '{v[NR]=$1} END {printf "%.2f / %.2f / %.2f", v[1], v[int((NR+1)/2)], v[NR]}'; }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

j=""; q=""
for ((i = 0; i < runs; i++)); do
  j+="$(one "${jkvm_cmd[@]}")"$'\n'
  q+="$(one "${qemu_cmd[@]}")"$'\n'
done
echo "Linux boot, $cpus vCPU(s), 512 MiB, $runs runs each, seconds min / median / max ($(nproc) host cores)"
for col in 1 2; do
  name=$([ "$col" = 1 ] && echo "to marker" || echo "to exit  ")
  js="$(awk -v c="$col" 'NF {print $c}' <<<"$j")"
  qs="$(awk -v c="$col" 'NF {print $c}' <<<"$q")"
  printf '  %s  jkvm-emu %-22s qemu-tcg %-20s jkvm/qemu %s\n' "$name" "$(stat3 <<<"$js")" "$(stat3 <<<"$qs")" \
    "$(awk -v a="$(median <<<"$js")" -v b="$(median <<<"$qs")" 'BEGIN {printf "%.1fx", a / b}')"
done
