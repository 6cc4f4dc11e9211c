#!/bin/sh
# Run by the Debian guest's /init (jkvm-it VirtioNetLinuxTest): one virtio-net NIC on a TAP whose host side is
# 10.0.2.1/24 in the test's network namespace. Reports KEY=VALUE lines on the console; the host side runs TCP
# servers on 5001 (sends a file) and 5002 (receives one) and sets the link down and up through QMP.
bb=/bin/busybox
ip link set lo up
echo "NET-IFACES=$(ls /sys/class/net | tr '\n' ' ')"
echo "NET-DRIVER=$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
echo "NET-MAC=$(cat /sys/class/net/eth0/address)"
echo "NET-MTU=$(cat /sys/class/net/eth0/mtu)"
echo "NET-VIRTIO-FEATURES=$(cat /sys/class/net/eth0/device/features)"
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo "NET-CARRIER=$(cat /sys/class/net/eth0/carrier)"
echo "NET-OPERSTATE=$(cat /sys/class/net/eth0/operstate)"
$bb ping -c 3 -W 10 10.0.2.1 > /tmp/ping.txt 2>&1
echo "PING-STATUS=$?"
echo "PING-RECEIVED=$(grep -o '[0-9]* packets received' /tmp/ping.txt | cut -d' ' -f1)"
echo "PING-RTT=$(grep -o 'min/avg/max = [0-9./]*' /tmp/ping.txt | cut -d' ' -f3)"

# host -> guest: the host sends its file when we connect. busybox nc stops at the first end of file on either side,
# so its stdin is a FIFO held open here (never at EOF): it ends when the host closes.
mkfifo /tmp/noeof
exec 3<>/tmp/noeof
$bb nc 10.0.2.1 5001 <&3 > /tmp/fromhost
exec 3>&-
echo "FROMHOST-BYTES=$(wc -c < /tmp/fromhost)"
echo "FROMHOST-SHA256=$($bb sha256sum /tmp/fromhost | cut -d' ' -f1)"
# guest -> host: 4 MiB of random data
dd if=/dev/urandom of=/tmp/tohost bs=65536 count=64 2>/dev/null
echo "TOHOST-SHA256=$($bb sha256sum /tmp/tohost | cut -d' ' -f1)"
$bb nc 10.0.2.1 5002 < /tmp/tohost
echo "TOHOST-NC-STATUS=$?"
echo "NET-RX-PACKETS=$(cat /sys/class/net/eth0/statistics/rx_packets)"
echo "NET-TX-PACKETS=$(cat /sys/class/net/eth0/statistics/tx_packets)"
echo "NET-RX-ERRORS=$(cat /sys/class/net/eth0/statistics/rx_errors)"
echo "NET-RX-LENGTH-ERRORS=$(cat /sys/class/net/eth0/statistics/rx_length_errors)"

# the host sets the link down (QMP set_link), then up again
echo "LINK-TEST=ready"
i=0
while [ "$(cat /sys/class/net/eth0/carrier)" != 0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
echo "CARRIER-AFTER-DOWN=$(cat /sys/class/net/eth0/carrier)"
echo "OPERSTATE-AFTER-DOWN=$(cat /sys/class/net/eth0/operstate)"
i=0
while [ "$(cat /sys/class/net/eth0/carrier)" != 1 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done
echo "CARRIER-AFTER-UP=$(cat /sys/class/net/eth0/carrier)"
$bb ping -c 1 -W 10 10.0.2.1 > /dev/null 2>&1
echo "PING-AFTER-UP=$?"
echo "VIRTIO-NET-SCRIPT=done"
