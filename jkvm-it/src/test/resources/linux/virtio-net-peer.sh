#!/bin/sh
# Run by the Debian guest's /init (jkvm-it VirtioNetBridgeLinuxTest): two such guests on one Linux bridge. The
# kernel command line gives this guest's address (jkvm.ip=) and its peer's (jkvm.peer=). Each waits for the other
# to answer, pings it, receives a line over TCP from the peer with the lower address, and stays up a little so
# that the peer finishes too.
bb=/bin/busybox
for w in $(cat /proc/cmdline); do
    case "$w" in
        jkvm.ip=*) me=${w#jkvm.ip=} ;;
        jkvm.peer=*) peer=${w#jkvm.peer=} ;;
    esac
done
ip link set lo up
ip addr add "$me/24" dev eth0
ip link set eth0 up
echo "PEER-ME=$me"
i=0
until $bb ping -c 1 -W 2 "$peer" > /dev/null 2>&1; do
    i=$((i+1))
    [ $i -ge 150 ] && break
done
$bb ping -c 3 -W 5 "$peer" > /tmp/ping.txt 2>&1
echo "PEER-PING-STATUS=$?"
echo "PEER-PING-RECEIVED=$(grep -o '[0-9]* packets received' /tmp/ping.txt | cut -d' ' -f1)"
echo "PEER-MAC=$(ip neigh show "$peer" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)"
if [ "${me##*.}" -lt "${peer##*.}" ]; then
    # the lower address serves one line; busybox nc ends at its stdin's EOF, after sending it
    echo "HELLO-FROM-$me" | $bb nc -l -p 7000
    echo "PEER-SERVED=$?"
else
    sleep 3
    mkfifo /tmp/noeof
    exec 3<>/tmp/noeof # stdin that never ends: nc ends when the server closes
    i=0
    until $bb nc "$peer" 7000 <&3 > /tmp/line 2>/dev/null && [ -s /tmp/line ]; do
        i=$((i+1))
        [ $i -ge 30 ] && break
        sleep 2
    done
    echo "PEER-LINE=$(cat /tmp/line)"
fi
sleep 10
echo "PEER-SCRIPT=done"
