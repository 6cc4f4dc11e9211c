#!/usr/bin/env bash
# virtio-net on a TAP (issue 8): the same guest (Debian's cloud kernel, the busybox initramfs of
# scripts/guest-images.sh, 1 vCPU, 512 MiB) under `jkvm run --accel emu --net tap,...` and under
# `qemu-system-x86_64 -accel tcg` with virtio-net-pci on a TAP (vhost=off: this project's hosts have no KVM for
# the guest and no /dev/vhost-net). Everything happens in a network namespace made here (TAP 10.0.2.1/24, guest
# 10.0.2.15). The guest pings the host 20 times, receives SIZE MiB over TCP from busybox nc on the host and sends
# SIZE MiB back; it times both transfers itself (/proc/uptime, 10 ms resolution). Prints ping avg RTT and MB/s each
# way for both VMMs and the ratios.
# iperf3 is not in the guest image (busybox has none), so nc stands in for it: a TCP stream without iperf3's
# tuning, timed end to end.
#   bench/net.sh [SIZE_MIB]      (default 8; needs root, ip, busybox and qemu-system-x86_64)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="${1:-8}"
cd "$root"
. scripts/jdk.sh
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespace, TAP)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "bench: needs qemu-system-x86_64" >&2; exit 2; }
command -v busybox >/dev/null || { echo "bench: needs busybox (nc) on the host" >&2; exit 2; }
images="$(scripts/guest-images.sh --print-dir)"
scripts/guest-images.sh >&2
if [ "${JKVM_NO_BUILD:-0}" != 1 ]; then
  ./mvnw -q -B -DskipTests -pl jkvm-cli -am package
fi
export JKVM_NO_BUILD=1

ns="jkvm-netbench-$$"
work="$(mktemp -d "${TMPDIR:-/tmp}/jkvm-netbench.XXXXXX")"
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev btap0 mode tap vnet_hdr
ip -n "$ns" addr add 10.0.2.1/24 dev btap0
ip -n "$ns" link set btap0 up
dd if=/dev/urandom of="$work/payload" bs=1M count="$size" 2>/dev/null

cat > "$work/net.sh" <<GUEST
#!/bin/sh
bb=/bin/busybox
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
i=0
while [ "\$(cat /sys/class/net/eth0/carrier)" != 1 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done
\$bb ping -c 20 -i 0.2 -W 5 10.0.2.1 > /tmp/ping.txt 2>&1
echo "BENCH-PING=\$(grep -o 'min/avg/max = [0-9./]*' /tmp/ping.txt | cut -d' ' -f3)"
mkfifo /tmp/noeof
exec 3<>/tmp/noeof
t0=\$(cut -d' ' -f1 /proc/uptime)
\$bb nc 10.0.2.1 5001 <&3 > /tmp/in
t1=\$(cut -d' ' -f1 /proc/uptime)
echo "BENCH-RX=\$(wc -c < /tmp/in) \$t0 \$t1"
rm -f /tmp/in
t0=\$(cut -d' ' -f1 /proc/uptime)
dd if=/dev/zero bs=65536 count=$((size * 16)) 2>/dev/null | \$bb nc 10.0.2.1 5002
t1=\$(cut -d' ' -f1 /proc/uptime)
echo "BENCH-TX=$((size << 20)) \$t0 \$t1"
GUEST
scripts/mkinitrd-test.sh "$work/net.cpio.gz" "$work/net.sh"
cat "$images/initramfs.cpio.gz" "$work/net.cpio.gz" > "$work/initrd"
cmdline="console=ttyS0 panic=0"

# One guest under "$@" in the namespace, with host-side nc servers; prints "ping_avg_ms rx_MBps tx_MBps".
one() {
  ip netns exec "$ns" busybox nc -l -p 5001 < "$work/payload" &
  local send=$!
  (sleep 3600 | ip netns exec "$ns" busybox nc -l -p 5002 > "$work/got") &
  local recv=$!
  ip netns exec "$ns" "$@" > "$work/console" 2>&1 < /dev/null || true
  kill "$send" "$recv" 2>/dev/null || true
  local ping rx tx
  ping=$(grep -a '^BENCH-PING=' "$work/console" | cut -d= -f2 | cut -d/ -f2)
  rx=$(grep -a '^BENCH-RX=' "$work/console" | cut -d= -f2)
  tx=$(grep -a '^BENCH-TX=' "$work/console" | cut -d= -f2)
  [ -n "$ping" ] && [ -n "$rx" ] && [ -n "$tx" ] || { echo "bench: '$1' gave no figures" >&2; tail -20 "$work/console" >&2; exit 1; }
  awk -v p="$ping" -v r="$rx" -v t="$tx" 'BEGIN {
    split(r, a, " "); split(t, b, " ");
    printf "%s %.2f %.2f\n", p, a[1] / (a[3] - a[2]) / 1e6, b[1] / (b[3] - b[2]) / 1e6 }'
}

j=$(one ./jkvm run --accel emu --cpus 1 --memory 512M --kernel "$images/vmlinuz" --initrd "$work/initrd" \
      --cmdline "$cmdline" --net tap,ifname=btap0)
q=$(one qemu-system-x86_64 -accel tcg -smp 1 -m 512 -nodefaults -no-user-config -display none -serial stdio \
      -kernel "$images/vmlinuz" -initrd "$work/initrd" -append "$cmdline" \
      -netdev tap,id=n0,ifname=btap0,script=no,downscript=no,vhost=off -device virtio-net-pci,netdev=n0)
echo "virtio-net on a TAP, ${size} MiB each way over TCP (busybox nc), 1 vCPU, $(nproc) host cores"
printf '  %-10s %-16s %-18s %-18s\n' "" "ping avg (ms)" "host->guest MB/s" "guest->host MB/s"
printf '  %-10s %-16s %-18s %-18s\n' "jkvm-emu" $j
printf '  %-10s %-16s %-18s %-18s\n' "qemu-tcg" $q
awk -v j="$j" -v q="$q" 'BEGIN { split(j, a, " "); split(q, b, " ");
  printf "  jkvm/qemu  ping %.2fx, host->guest %.2fx, guest->host %.2fx\n", a[1] / b[1], a[2] / b[2], a[3] / b[3] }'
