#!/usr/bin/env bash
# virtio-blk under fio (issue 5): the Debian 12 image of scripts/debian-image.sh (its own kernel and initrd,
# systemd, fio) boots with `jkvm.fio=1`; its jkvm-fio service runs three fio jobs with O_DIRECT and libaio against
# a second disk (/dev/vdb): sequential read and write with 1 MiB blocks (iodepth 4), random 4 KiB reads at
# iodepth 32, each for RUNTIME seconds. The same jobs run
#   - on the host, against the data file itself (fio --direct=1, libaio): the disk's own speed;
#   - under jkvm (--accel emu, --disk ...,cache=none);
#   - under QEMU (-accel tcg, virtio-blk-pci, cache=none) with aio=threads and with aio=io_uring.
# Prints MiB/s and IOPS per job and the jkvm/QEMU and guest/host ratios. All guests: 1 vCPU, 1 GiB.
# On a host without hardware virtualization both VMMs emulate the guest CPU, so the guest's own cost of issuing
# I/O (fio, the block layer, the driver) dominates the small-block figures: see docs/virtio.md.
#   bench/blk-fio.sh [RUNTIME_S]     (default 10; needs root for the image build, qemu-system-x86_64, fio)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runtime="${1:-10}"
cd "$root"
. scripts/jdk.sh
command -v qemu-system-x86_64 >/dev/null || { echo "bench: needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 2; }
command -v fio >/dev/null || { echo "bench: needs fio on the host (apt-get install fio)" >&2; exit 2; }
scripts/debian-image.sh >&2
images="$(scripts/debian-image.sh --print-dir)"
if [ "${JKVM_NO_BUILD:-0}" != 1 ]; then
  ./mvnw -q -B -DskipTests -pl jkvm-cli -am package
fi

# Under target/ (a real disk, not a tmpfs; ignored by git): O_DIRECT needs a file system that supports it.
mkdir -p "$root/target"
work="$(mktemp -d "$root/target/bench-fio.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The data disk: 512 MiB of written (not sparse) blocks, so reads touch the disk.
dd if=/dev/zero of="$work/data.img" bs=1M count=512 conv=fsync status=none

# Host: the same jobs on the file.
host() {
  local name=$1 rw=$2 bs=$3 depth=$4
  fio --name="$name" --filename="$work/data.img" --direct=1 --ioengine=libaio --rw="$rw" --bs="$bs" \
      --iodepth="$depth" --runtime="$runtime" --time_based --size=256M --output-format=terse --terse-version=3 \
    | awk -F';' -v n="$name" '{ printf "FIO %s %.1f %.0f\n", n, ($7 + $48) / 1024, $8 + $49 }'
}
{ host seq-read read 1M 4; host seq-write write 1M 4; host rand-read-4k randread 4k 32; } > "$work/host.out"

cmdline="root=/dev/vda rw console=ttyS0 panic=0 jkvm.fio=1 jkvm.fio_runtime=$runtime jkvm.poweroff=1"
# One guest: "$@" is the VMM's command line (the root disk is $work/root.img); FIO lines go to $work/$tag.out.
guest() {
  local tag=$1
  shift
  cp --sparse=always "$images/root.img" "$work/root.img"
  timeout 3600 "$@" > "$work/$tag.console" 2>&1 < /dev/null || true
  # -o: under QEMU the serial getty's autologin prompt can precede the first line ("root@jkvm-debian:~# FIO ...")
  grep -a -o 'FIO [a-z0-9-]* [0-9.]* [0-9]*\|FIO done' "$work/$tag.console" > "$work/$tag.out" || true
  grep -q '^FIO done' "$work/$tag.out" || { echo "bench: $tag gave no fio figures" >&2; tail -30 "$work/$tag.console" >&2; exit 1; }
}
guest jkvm ./jkvm run --accel emu --cpus 1 --memory 1G --kernel "$images/vmlinuz" --initrd "$images/initrd.img" \
  --disk "path=$work/root.img" --disk "path=$work/data.img,cache=none" --cmdline "$cmdline"
for aio in threads io_uring; do
  guest "qemu-$aio" qemu-system-x86_64 -accel tcg -smp 1 -m 1024 -nodefaults -no-user-config -display none \
    -serial stdio -kernel "$images/vmlinuz" -initrd "$images/initrd.img" -append "$cmdline" \
    -drive "file=$work/root.img,if=none,id=root,format=raw" -device virtio-blk-pci,drive=root \
    -drive "file=$work/data.img,if=none,id=data,format=raw,cache=none,aio=$aio" -device virtio-blk-pci,drive=data
done

echo "virtio-blk, fio in the guest (O_DIRECT, libaio, ${runtime} s per job), 1 vCPU, $(nproc) host cores"
printf '  %-14s %-22s %-22s %-22s %-22s\n' "job" "host" "jkvm-emu" "qemu-tcg aio=threads" "qemu-tcg io_uring"
for job in seq-read seq-write rand-read-4k; do
  row=()
  for tag in host jkvm qemu-threads qemu-io_uring; do
    row+=("$(awk -v j="$job" '$2 == j { printf "%s MiB/s %s IOPS", $3, $4 }' "$work/$tag.out")")
  done
  printf '  %-14s %-22s %-22s %-22s %-22s\n' "$job" "${row[@]}"
done
echo "ratios (MiB/s):"
for job in seq-read seq-write rand-read-4k; do
  awk -v j="$job" 'FNR == 1 { f++ } $2 == j { v[f] = $3 }
    END { printf "  %-14s jkvm/qemu-threads %.2fx, jkvm/qemu-io_uring %.2fx, jkvm/host %.3fx\n",
          j, v[2] / v[3], v[2] / v[4], v[2] / v[1] }' \
    "$work/host.out" "$work/jkvm.out" "$work/qemu-threads.out" "$work/qemu-io_uring.out"
done
