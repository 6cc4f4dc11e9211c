#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) root disk for jkvm with debootstrap and caches it in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/jkvm/images/debian12/
#     root.img      raw ext4 image (sparse, 2 GiB): systemd, udev, fio, iproute2, procps, the cloud kernel
#     vmlinuz       the image's own kernel (linux-image-cloud-amd64)
#     initrd.img    the image's own initramfs-tools initrd (virtio_blk and ext4 included)
#     versions      what it was built from
# Boot it on virtio-blk with its own kernel and initrd:
#   ./jkvm run --accel emu --memory 1G --kernel DIR/vmlinuz --initrd DIR/initrd.img --disk path=DIR/root.img \
#              --cmdline 'root=/dev/vda rw console=ttyS0'
# The image's jkvm-ready.service prints JKVM-DEBIAN-READY on the console once multi-user.target is reached, and
# powers the machine off when the kernel command line has jkvm.poweroff=1. root has no password on the serial console.
#
# Usage: scripts/debian-image.sh [--force] [--print-dir] [--help]
# Needs root (debootstrap, chroot), debootstrap, mke2fs (e2fsprogs) and Debian's mirror (deb.debian.org).
# Idempotent: an image whose stamp matches is kept. See docs/guests.md.
set -euo pipefail

FORMAT=3
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
IMAGE_BYTES=$((2 << 30))
PACKAGES=systemd,systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,e2fsprogs,kmod,iproute2,procps,fio,util-linux
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/jkvm/images/debian12"

die() { echo "debian-image: $*" >&2; exit 1; }
log() { echo "debian-image: $*" >&2; }

force=0
for arg in "$@"; do
    case "$arg" in
        --print-dir) echo "$CACHE_DIR"; exit 0 ;;
        --force) force=1 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $arg (see --help)" ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v mke2fs >/dev/null || die "mke2fs is missing: apt-get install e2fsprogs"

stamp="format=$FORMAT
suite=$SUITE
packages=$PACKAGES"
if [[ $force -eq 0 && -f "$CACHE_DIR/root.img" && -f "$CACHE_DIR/stamp" && "$(cat "$CACHE_DIR/stamp")" == "$stamp" ]]; then
    log "up to date: $CACHE_DIR"
    exit 0
fi

mkdir -p "$CACHE_DIR"
work=$(mktemp -d "${TMPDIR:-/tmp}/jkvm-debian.XXXXXX")
cleanup() {
    for m in proc sys dev; do umount "$work/root/$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
root="$work/root"

log "debootstrap $SUITE from $MIRROR (a few minutes)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

# System configuration: the disk is /dev/vda; the serial console logs root in without a password.
echo jkvm-debian > "$root/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"
sed -i 's/^root:[^:]*:/root::/' "$root/etc/shadow"
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
cat > "$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOF
cat > "$root/usr/local/sbin/jkvm-ready" <<'EOF'
#!/bin/sh
# Reports the boot on the console; powers off when asked on the kernel command line (jkvm's tests). Writes go to
# /dev/console: serial-getty's vhangup of ttyS0 would cut off a descriptor of /dev/ttyS0 itself.
echo "JKVM-DEBIAN-READY uptime=$(cut -d' ' -f1 /proc/uptime) units-failed=$(systemctl --failed --no-legend | wc -l)" > /dev/console
if grep -qw jkvm.fio=1 /proc/cmdline; then
    /usr/local/sbin/jkvm-fio > /dev/console 2>&1
fi
if grep -qw jkvm.poweroff=1 /proc/cmdline; then
    systemctl --no-block poweroff
fi
EOF
chmod 755 "$root/usr/local/sbin/jkvm-ready"
# bench/blk-fio.sh: fio against the second disk (/dev/vdb) with O_DIRECT; one "FIO <job> <MiB/s> <IOPS>" line each
# (terse format v3: field 7 read KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS).
cat > "$root/usr/local/sbin/jkvm-fio" <<'EOF'
#!/bin/sh
runtime=$(sed -n 's/.*jkvm.fio_runtime=\([0-9]*\).*/\1/p' /proc/cmdline)
runtime=${runtime:-10}
job() {   # name rw bs iodepth
    fio --name="$1" --filename=/dev/vdb --direct=1 --ioengine=libaio --rw="$2" --bs="$3" --iodepth="$4" \
        --runtime="$runtime" --time_based --size=256M --output-format=terse --terse-version=3 2>/dev/null \
      | awk -F';' -v n="$1" '{ printf "FIO %s %.1f %.0f\n", n, ($7 + $48) / 1024, $8 + $49 }'
}
job seq-read read 1M 4
job seq-write write 1M 4
job rand-read-4k randread 4k 32
echo "FIO done"
EOF
chmod 755 "$root/usr/local/sbin/jkvm-fio"
cat > "$root/etc/systemd/system/jkvm-ready.service" <<'EOF'
[Unit]
Description=Report to jkvm that the system is up
After=multi-user.target
Wants=multi-user.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=/usr/local/sbin/jkvm-ready

[Install]
WantedBy=default.target
EOF
ln -sf /etc/systemd/system/jkvm-ready.service "$root/etc/systemd/system/default.target.wants/jkvm-ready.service" 2>/dev/null \
    || { mkdir -p "$root/etc/systemd/system/default.target.wants"; \
         ln -sf /etc/systemd/system/jkvm-ready.service "$root/etc/systemd/system/default.target.wants/jkvm-ready.service"; }
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"

kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
[[ -n "$initrd" ]] || die "no initrd in the image's /boot (initramfs-tools did not run)"
cp "$kernel" "$CACHE_DIR/vmlinuz.new"
cp "$initrd" "$CACHE_DIR/initrd.img.new"

log "writing a $((IMAGE_BYTES >> 30)) GiB ext4 image"
rm -f "$CACHE_DIR/root.img.new"
truncate -s "$IMAGE_BYTES" "$CACHE_DIR/root.img.new"
mke2fs -q -t ext4 -L jkvm-root -d "$root" "$CACHE_DIR/root.img.new" || die "mke2fs failed"

mv "$CACHE_DIR/vmlinuz.new" "$CACHE_DIR/vmlinuz"
mv "$CACHE_DIR/initrd.img.new" "$CACHE_DIR/initrd.img"
mv "$CACHE_DIR/root.img.new" "$CACHE_DIR/root.img"
{
    echo "# jkvm Debian 12 root image, built by scripts/debian-image.sh (format $FORMAT)"
    echo "kernel: $(basename "$kernel")"
    chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' systemd linux-image-cloud-amd64 fio 2>/dev/null || true
} > "$CACHE_DIR/versions"
echo "$stamp" > "$CACHE_DIR/stamp"
log "built $CACHE_DIR ($(du -h --apparent-size "$CACHE_DIR/root.img" | cut -f1) apparent, $(du -h "$CACHE_DIR/root.img" | cut -f1) used)"
