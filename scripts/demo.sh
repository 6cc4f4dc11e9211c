#!/usr/bin/env bash
# Sets jkvm up on a fresh Linux x86_64 machine and boots a demo guest.
#  - Where the CPU has hardware virtualization (VMX/SVM) and /dev/kvm: builds the Debian guest images (Debian's
#    linux-image-cloud-amd64 kernel + a busybox initramfs) and boots Linux on KVM to a shell (Ctrl-A x quits).
#  - Elsewhere (a nested cloud VM, or a /dev/kvm without VMX/SVM such as kvm_pvm, which runs guest code far too
#    slowly for Linux), it boots the same kernel and initramfs on jkvm's software CPU (`--accel emu`, about a
#    minute to the shell; `exit` powers the guest off). With a stdin that is not a terminal the guest prints a few
#    lines about itself and powers off.
#  - Where the guest images cannot be built (no access to Debian's mirror), it runs the test guests instead: the
#    mode/SMP tour on /dev/kvm with 4 vCPUs, and the same tour on the software CPU with 2 vCPUs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/jdk.sh"
cd "$root"
for tool in gcc make ld objcopy; do
  command -v "$tool" >/dev/null || { echo "demo: needs $tool (Debian: apt-get install build-essential)" >&2; exit 2; }
done
echo "demo: building jkvm and the test guests..." >&2
./mvnw -q -B -DskipTests -pl jkvm-cli -am package
make -s -C guests

if grep -qE '^flags\s*:.*\b(vmx|svm)\b' /proc/cpuinfo && [ -e /dev/kvm ]; then
  echo "demo: hardware virtualization found: booting Debian's cloud kernel on KVM (Ctrl-A x quits)" >&2
  scripts/guest-images.sh
  images="$(scripts/guest-images.sh --print-dir)"
  exec ./jkvm run --accel kvm --cpus 2 --memory 1G --kernel "$images/vmlinuz" --initrd "$images/initramfs.cpio.gz" \
    --cmdline "console=ttyS0 quiet"
fi

if scripts/guest-images.sh; then
  images="$(scripts/guest-images.sh --print-dir)"
  echo "demo: no VMX/SVM on this CPU: booting Debian's cloud kernel on jkvm's software CPU (--accel emu; about a" \
       "minute to the shell; 'exit' or Ctrl-A x ends it)" >&2
  initrd="$images/initramfs.cpio.gz"
  if [ ! -t 0 ]; then
    # Not a terminal: a serial line has no end of file, so the guest runs a short tour and powers off by itself.
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/jkvm-demo.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    printf '%s\n' '#!/bin/sh' 'echo "demo guest: $(uname -sr) on $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2)"' \
      'echo "demo guest: $(grep -c ^processor /proc/cpuinfo) CPUs, $(grep MemTotal /proc/meminfo)"' \
      'echo "demo guest: up $(cut -d" " -f1 /proc/uptime) s; powering off"' > "$tmp/tour.sh"
    scripts/mkinitrd-test.sh "$tmp/tour.cpio.gz" "$tmp/tour.sh"
    cat "$initrd" "$tmp/tour.cpio.gz" > "$tmp/initrd"
    initrd="$tmp/initrd"
    ./jkvm run --accel emu --cpus 2 --memory 1G --kernel "$images/vmlinuz" --initrd "$initrd" \
      --cmdline "console=ttyS0 quiet"
    exit $?
  fi
  exec ./jkvm run --accel emu --cpus 2 --memory 1G --kernel "$images/vmlinuz" --initrd "$initrd" \
    --cmdline "console=ttyS0 quiet"
fi
echo "demo: the guest images could not be built: running jkvm's test guests instead of Linux (see README)." >&2
if [ -e /dev/kvm ]; then
  echo "demo: \$ ./jkvm run --accel kvm --cpus 4 --memory 128M --kernel guests/build/modes.mb" >&2
  set +e
  ./jkvm run --accel kvm --cpus 4 --memory 128M --kernel guests/build/modes.mb
  status=$?
  set -e
  [ "$status" -eq 1 ] || { echo "demo: the guest reported a failure (exit $status)" >&2; exit 1; }
fi
echo "demo: \$ ./jkvm run --accel emu --cpus 2 --memory 128M --kernel guests/build/modes.mb" >&2
set +e
./jkvm run --accel emu --cpus 2 --memory 128M --kernel guests/build/modes.mb
status=$?
set -e
[ "$status" -eq 1 ] || { echo "demo: the guest on the software CPU did not finish (exit $status)" >&2; exit 1; }
echo "demo: done (status 1 above is the guests' 'success' code through the debug-exit port)" >&2
