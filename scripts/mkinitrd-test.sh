#!/usr/bin/env bash
# Builds a small gzip'd newc cpio archive holding one file, /jkvm-test.sh (mode 755), from SCRIPT.
# Concatenate it after initramfs.cpio.gz (Linux unpacks concatenated archives; later files win):
#   scripts/mkinitrd-test.sh test.cpio.gz my-test.sh
#   cat "$(scripts/guest-images.sh --print-dir)/initramfs.cpio.gz" test.cpio.gz > initrd
# The image's /init runs it after printing JKVM-INIT-OK, prints JKVM-TEST-EXIT=<status> and powers off.
# See docs/guests.md.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 OUT.cpio.gz SCRIPT" >&2
    exit 2
fi
out=$1
script=$2
[[ -f "$script" ]] || { echo "mkinitrd-test: no such file: $script" >&2; exit 1; }
command -v cpio >/dev/null || { echo "mkinitrd-test: cpio is missing (apt-get install cpio)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/jkvm-mkinitrd-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$script" "$work/jkvm-test.sh"
chmod 755 "$work/jkvm-test.sh"
touch -d @0 "$work/jkvm-test.sh"
(cd "$work" && echo jkvm-test.sh | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -n -9 > "$out.tmp"
mv -f "$out.tmp" "$out"
