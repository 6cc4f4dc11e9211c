#!/bin/sh
# Run by the Debian guest's /init (jkvm-it BlockDurabilityLinuxTest). vda: an image on the host's disk; hvc0: a
# virtio console to a file. KEY=VALUE lines on the console.
# A line on hvc0 (the write returns once the device has taken it), then a pattern on vda synced with fsync (a FLUSH
# request); then the test kills jkvm with SIGKILL.
echo "HVC0-TO-FILE-BEFORE-KILL" > /dev/hvc0
echo "HVC_STATUS=$?"
dd if=/dev/urandom of=/tmp/pattern bs=4096 count=64 2>/dev/null
echo "PATTERN_MD5=$(md5sum < /tmp/pattern | cut -d' ' -f1)"
dd if=/tmp/pattern of=/dev/vda bs=4096 seek=16 conv=notrunc,fsync 2>/dev/null
echo "FSYNC_STATUS=$?"
echo "FSYNCED=yes"
sleep 600
