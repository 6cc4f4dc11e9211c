#!/bin/sh
# Run by the Debian guest's /init (jkvm-it SnapshotLinuxTest): a counter the host snapshots and restores in a new
# jkvm process. Once a second: TICK=<n> EPOCH=<guest time, s> and "block-<n>" written to sector n of /dev/vda
# (O_DIRECT, so it reaches the device); a line typed on the console comes back as GOT=<line>.
echo "VDA_SIZE=$(cat /sys/block/vda/size)"
n=0
while [ $n -lt 100000 ]; do
    n=$((n + 1))
    printf 'block-%d\n' "$n" | dd of=/dev/vda bs=512 seek=$n count=1 conv=sync,notrunc oflag=direct 2>/dev/null
    echo "TICK=$n EPOCH=$(date +%s)"
    if read -t 1 line; then
        echo "GOT=$line"
    fi
done
