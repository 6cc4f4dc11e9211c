#!/bin/sh
# Run inside the Debian guest by jkvm-it's LinuxOnEmuTest (two vCPUs): then the kernel panics on purpose.
echo "NPROC=$(nproc)"
dmesg | grep -i -E 'ACPI (BIOS )?(Error|Warning)|calibrat.*(fail|warn|bad)|APIC.*(error|fail|broken|bogus)|TSC.*unstable|clocksource.*(unstable|skew)|BUG:|WARNING:|Call Trace|timed out' | sed 's/^/DMESG_PROBLEM=/'
echo "PANIC=now"
echo c > /proc/sysrq-trigger
