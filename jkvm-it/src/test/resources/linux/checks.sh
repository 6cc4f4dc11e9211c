#!/bin/sh
# Run inside the Debian guest by jkvm-it's LinuxOnEmuTest (one vCPU): what the guest sees, as KEY=VALUE lines,
# a busybox workload the test repeats on the host, then an idle period while the test measures jkvm's CPU use.
echo "NPROC=$(nproc)"
echo "MEMTOTAL_KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)"
echo "CLOCKSOURCE=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -i -E 'ACPI (BIOS )?(Error|Warning)|calibrat.*(fail|warn|bad)|APIC.*(error|fail|broken|bogus)|TSC.*unstable|clocksource.*(unstable|skew)|BUG:|WARNING:|Call Trace|timed out' | sed 's/^/DMESG_PROBLEM=/'
echo "SEQ_SHA256=$(seq 1 50000 | sha256sum | cut -d' ' -f1)"
echo "SORT_SHA256=$(seq 1 5000 | awk '{ print ($1 * 7919) % 10007 }' | sort -n | sha256sum | cut -d' ' -f1)"
i=0
s=0
while [ $i -lt 1000 ]; do
    s=$(( (s * 31 + i) % 1000003 ))
    i=$((i + 1))
done
echo "LOOP=$s"
echo "GUEST_EPOCH=$(date +%s)"
echo "RTC_IRQS_BEFORE=$(awk '/rtc0/ { print $2 }' /proc/interrupts)"
echo +1 > /sys/class/rtc/rtc0/wakealarm
echo "IDLE=begin"
sleep 10
echo "IDLE=end"
echo "RTC_IRQS_AFTER=$(awk '/rtc0/ { print $2 }' /proc/interrupts)"
