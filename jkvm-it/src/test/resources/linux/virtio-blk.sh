#!/bin/sh
# Run by the Debian guest's /init (jkvm-it VirtioBlkLinuxTest): what the guest sees of its virtio-blk disks,
# as KEY=VALUE lines on the console. vda: 16 MiB, writable, serial jkvm-serial-1; vdb: 8 MiB, readonly=on; vdc: a
# 64 MiB sparse image on a 4 MiB host tmpfs (the host runs out of space); 2 vCPUs (2 request queues per disk);
# a virtio-rng device; a virtio-console on a socket, 132x50.
for d in /sys/bus/pci/devices/*; do
    echo "PCI-$(basename "$d")=$(cat "$d/vendor"):$(cat "$d/device"):$(cat "$d/class")"
done
echo "VDA-EXISTS=$([ -b /dev/vda ] && echo yes || echo no)"
echo "VDA-SECTORS=$(cat /sys/block/vda/size)"
echo "VDA-RO=$(cat /sys/block/vda/ro)"
echo "VDA-SERIAL=$(cat /sys/block/vda/serial)"
echo "VDB-SECTORS=$(cat /sys/block/vdb/size)"
echo "VDB-RO=$(cat /sys/block/vdb/ro)"
echo "VDA-HEAD=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 16)"
echo "VDB-HEAD=$(dd if=/dev/vdb bs=512 count=1 2>/dev/null | head -c 17)"

# A small write at sector 8, then 1 MiB of random data at 1 MiB (many descriptors per request).
printf 'JKVM-GUEST-WROTE-THIS' > /tmp/small
dd if=/tmp/small of=/dev/vda bs=512 seek=8 conv=notrunc,fsync 2>/dev/null # fsync: a FLUSH request
dd if=/dev/urandom of=/tmp/random bs=65536 count=16 2>/dev/null
dd if=/tmp/random of=/dev/vda bs=65536 seek=16 conv=notrunc 2>/dev/null
echo "VDA-WRITE-STATUS=$?"
sync
echo "VDA-RANDOM-MD5=$(md5sum /tmp/random | cut -d' ' -f1)"
echo 3 > /proc/sys/vm/drop_caches
echo "VDA-REREAD-MD5=$(dd if=/dev/vda bs=65536 skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1)"

# Unbind and rebind vda's PCI function: the driver resets the device (status 0) and sets it up from scratch.
echo 0000:00:01.0 > /sys/bus/pci/drivers/virtio-pci/unbind
echo "VDA-AFTER-UNBIND=$([ -b /dev/vda ] && echo present || echo gone)"
echo 0000:00:01.0 > /sys/bus/pci/drivers/virtio-pci/bind
sleep 1
echo "VDA-REBOUND-MD5=$(dd if=/dev/vda bs=65536 skip=16 count=16 2>/dev/null | md5sum | cut -d' ' -f1)"

if dd if=/tmp/small of=/dev/vdb bs=512 seek=8 conv=notrunc 2>/dev/null; then
    echo "VDB-WRITE=accepted"
else
    echo "VDB-WRITE=refused"
fi
# Discard (punch a hole in the host file): 1 MiB at 4 MiB reads back as zeros.
echo "VDA-DISCARD-MAX=$(cat /sys/block/vda/queue/discard_max_bytes)"
echo "VDA-WRITE-ZEROES-MAX=$(cat /sys/block/vda/queue/write_zeroes_max_bytes)"
blkdiscard -o 4194304 -l 1048576 /dev/vda
echo "VDA-DISCARD-STATUS=$?"
echo "VDA-DISCARDED-MD5=$(dd if=/dev/vda bs=65536 skip=64 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
echo "ZERO-MD5=$(dd if=/dev/zero bs=65536 count=16 2>/dev/null | md5sum | cut -d' ' -f1)"
# Fill vdc: the host's ENOSPC reaches the guest as I/O errors; the disk still reads; the machine powers off cleanly.
dd if=/dev/urandom of=/tmp/chunk bs=65536 count=1 2>/dev/null
i=0
failed=0
while [ $i -lt 256 ]; do
    if ! dd if=/tmp/chunk of=/dev/vdc bs=65536 seek=$i count=1 oflag=direct conv=notrunc 2>/dev/null; then
        failed=1
        break
    fi
    i=$((i + 1))
done
echo "FULL_FAILED=$failed"
echo "FULL_CHUNKS_WRITTEN=$i"
echo "FULL_IOERR_LOGGED=$(dmesg | grep -c 'I/O error, dev vdc')"
echo "FULL_READ_AFTER=$(dd if=/dev/vdc bs=65536 count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)"
echo "CHUNK_MD5=$(md5sum < /tmp/chunk | cut -d' ' -f1)"
echo "MSIX-VDA-REQ=$(grep 'virtio0-req.0' /proc/interrupts | grep -c PCI-MSI)"
echo "MSIX-VDA-COUNT=$(grep 'virtio0-req.0' /proc/interrupts | awk '{print $2}')"
# Multiqueue: one request queue per vCPU (2 here), each with its own MSI-X vector.
echo "VDA-MQ=$(ls /sys/block/vda/mq | wc -l)"
echo "MSIX-VDA-QUEUES=$(grep -c 'virtio0-req\.' /proc/interrupts)"
# virtio-rng (--rng): the kernel's hw_random core picks it; /dev/hwrng reads come from the host's getrandom.
echo "RNG-CURRENT=$(cat /sys/devices/virtual/misc/hw_random/rng_current)"
echo "RNG-BYTES=$(head -c 8192 /dev/hwrng | wc -c)"
echo "RNG-DISTINCT=$(head -c 4096 /dev/hwrng | od -An -v -tx1 | tr -s ' ' '\n' | grep -v '^$' | sort -u | wc -l)"
# virtio-console (--console-dev socket=...): hvc0; the test's client reads a line, then sends one back.
echo "HVC0=$([ -c /dev/hvc0 ] && echo present || echo missing)"
# One descriptor kept open: hvc resets its termios on every open, and raw mode (no echo, no \n -> \r\n) must hold.
exec 3<>/dev/hvc0
stty raw -echo <&3
echo "GUEST-TO-HOST-VIA-HVC0" >&3
if read -t 120 -r line <&3; then echo "HVC-RX=$line"; else echo "HVC-RX=timeout"; fi
# --console-dev ...,cols=132,rows=50: VIRTIO_CONSOLE_F_SIZE; Linux sets hvc0's window size when the tty opens.
echo "HVC-SIZE=$(stty size <&3)"
exec 3<&-
echo "VIRTIO-BLK-SCRIPT=done"
# The test reads query-blockstats when it sees the line above: stay up a little while it asks.
sleep 3
