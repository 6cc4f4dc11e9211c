#!/bin/sh
# Run inside the Debian guest by jkvm-it's LinuxOnEmuTest (four vCPUs): then the guest reboots.
echo "NPROC=$(nproc)"
dmesg | grep -i -E 'ACPI (BIOS )?(Error|Warning)|calibrat.*(fail|warn|bad)|APIC.*(error|fail|broken|bogus)|TSC.*unstable|clocksource.*(unstable|skew)|BUG:|WARNING:|Call Trace|timed out' | sed 's/^/DMESG_PROBLEM=/'
echo "REBOOT=now"
reboot -f
