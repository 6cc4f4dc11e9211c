#!/bin/sh
# Run by the Debian guest's /init (jkvm-it BlockDurabilityLinuxTest). vda: a 64 MiB sparse image on a 4 MiB tmpfs
# (the host runs out of space); vdb: an image on the host's disk. KEY=VALUE lines on the console.
# 1. Fill vda: the host's ENOSPC reaches the guest as I/O errors, and the device keeps working afterwards.
dd if=/dev/urandom of=/tmp/chunk bs=65536 count=1 2>/dev/null
i=0
failed=0
while [ $i -lt 256 ]; do
    if ! dd if=/tmp/chunk of=/dev/vda bs=65536 seek=$i count=1 oflag=direct conv=notrunc 2>/dev/null; then
        failed=1
        break
    fi
    i=$((i + 1))
done
echo "FULL_FAILED=$failed"
echo "FULL_CHUNKS_WRITTEN=$i"
echo "FULL_IOERR_LOGGED=$(dmesg | grep -c 'I/O error, dev vda')"
echo "FULL_READ_AFTER=$(dd if=/dev/vda bs=65536 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
echo "CHUNK_MD5=$(md5sum < /tmp/chunk | cut -d' ' -f1)"
# 2. A pattern on vdb, synced with fsync (a FLUSH request); then the test kills jkvm with SIGKILL.
dd if=/dev/urandom of=/tmp/pattern bs=4096 count=64 2>/dev/null
echo "PATTERN_MD5=$(md5sum < /tmp/pattern | cut -d' ' -f1)"
dd if=/tmp/pattern of=/dev/vdb bs=4096 seek=16 conv=notrunc,fsync 2>/dev/null
echo "FSYNC_STATUS=$?"
echo "FSYNCED=yes"
sleep 600
