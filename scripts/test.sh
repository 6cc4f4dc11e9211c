#!/usr/bin/env bash
# Runs all of jkvm's tests: unit tests, native plumbing tests, KVM tests with the test guests, end-to-end CLI tests.
# Needs: a JDK >= 25, gcc/make/binutils (test guests, ABI checks), acpica-tools (iasl), cpio and network access to
# Debian's package mirror (guest images). .ci/run installs these on Debian.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/jdk.sh"
missing=()
for tool in gcc make ld objcopy iasl cpio; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "jkvm: the tests need: ${missing[*]} (Debian: apt-get install build-essential acpica-tools cpio)" >&2
  exit 2
fi
cd "$root"
exec ./mvnw -B -ntp verify "$@"
