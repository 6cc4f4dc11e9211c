#!/usr/bin/env bash
# Snapshot benchmark (issue 7): for 256 MiB, 1 GiB and 4 GiB guests, the time to save a paused VM (QMP stop, then
# migrate to a file until query-migrate says completed) and the time from starting a new process on the snapshot to
# the guest's next line of output (restore-to-running), jkvm on emu (and kvm when /dev/kvm exists) beside QEMU on the
# same guest (migrate "exec:cat > FILE", -incoming "exec:cat FILE": QEMU 7.2 has no file: URI; TCG, and KVM when
# present). QEMU keeps a VM saved while stopped paused after -incoming, so its restore time includes the QMP
# `cont` sent as soon as query-status leaves "inmigrate"; jkvm runs a restored VM at once. The guest is guests/counter (PIT ticks, "count N" every 10; for QEMU the multiboot shim carrying it),
# which touches little RAM: the figures show the cost of the RAM the guest does not use.
#   bench/snapshot.sh [SIZES...]      (default: 256M 1G 4G)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(256M 1G 4G)
./mvnw -q -B -o -DskipTests -pl jkvm-cli -am package
make -s -C guests all counter-qemu
export JKVM_NO_BUILD=1
work="$(mktemp -d "${TMPDIR:-/tmp}/jkvm-bench-snap.XXXXXX")"
trap 'rm -rf "$work"' EXIT
engines=(jkvm-emu)
[ -e /dev/kvm ] && engines+=(jkvm-kvm)
if command -v qemu-system-x86_64 >/dev/null; then
    engines+=(qemu-tcg)
    [ -e /dev/kvm ] && engines+=(qemu-kvm)
else
    echo "bench: no qemu-system-x86_64 (apt-get install qemu-system-x86): jkvm only" >&2
fi
python3 - "$work" "${sizes[*]}" "${engines[@]}" <<'PY'
import json, os, re, socket, subprocess, sys, time
work, sizes, engines = sys.argv[1], sys.argv[2].split(), sys.argv[3:]

def qmp(path):
    for _ in range(500):
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path); break
        except OSError:
            time.sleep(0.02)
    f = s.makefile('rw'); json.loads(f.readline())
    def cmd(name, args=None):
        m = {'execute': name}
        if args: m['arguments'] = args
        f.write(json.dumps(m) + '\n'); f.flush()
        while True:
            r = json.loads(f.readline())
            if 'event' not in r: return r
    cmd('qmp_capabilities')
    return cmd

def wait_for(path, pattern, after=0, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        with open(path, 'rb') as f:
            f.seek(after); data = f.read().decode(errors='replace')
        m = re.search(pattern, data)
        if m: return m
        time.sleep(0.002)
    raise SystemExit('timed out waiting for %r in %s' % (pattern, path))

def start(engine, size, sock, out, restore=None):
    mib = {'M': 1, 'G': 1024}[size[-1]] * int(size[:-1])
    if engine.startswith('jkvm'):
        cmd = ['./jkvm', 'run', '--accel', engine[5:], '--qmp', 'unix:%s,server,nowait' % sock]
        cmd += ['--restore', restore] if restore else ['--memory', size, '--kernel', 'guests/build/counter.elf']
    else:
        cmd = ['qemu-system-x86_64', '-accel', engine[5:], '-display', 'none', '-nodefaults', '-serial', 'stdio',
               '-m', str(mib), '-kernel', 'guests/build/counter-qemu.mb', '-qmp', 'unix:%s,server,nowait' % sock]
        if restore: cmd += ['-incoming', 'exec:cat ' + restore]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(out, 'wb'), stderr=subprocess.DEVNULL)

print('%-9s %6s %12s %12s %14s' % ('engine', 'RAM', 'save ms', 'file MiB', 'restore ms'))
for size in sizes:
    for engine in engines:
        tag = '%s-%s' % (engine, size)
        sock, out, snap = ['%s/%s.%s' % (work, tag, x) for x in ('sock', 'out', 'snap')]
        p = start(engine, size, sock, out)
        try:
            wait_for(out, r'count 2\n')
            cmd = qmp(sock)
            cmd('stop')
            t0 = time.time()
            if engine.startswith('jkvm'):
                r = cmd('migrate', {'uri': 'file:' + snap})
            else:
                r = cmd('migrate', {'uri': 'exec:cat > ' + snap})
            while cmd('query-migrate')['return'].get('status') not in ('completed', 'failed'):
                time.sleep(0.002)
            save_ms = (time.time() - t0) * 1000
            cmd('quit')
            p.wait(30)
        finally:
            p.kill()
        ram = snap + '/memory' if engine.startswith('jkvm') else snap
        allocated = os.stat(ram).st_blocks * 512 / (1 << 20)
        out2 = out + '2'
        t0 = time.time()
        p = start(engine, size, sock + '2', out2, restore=snap)
        try:
            if engine.startswith('qemu'):
                # QEMU keeps a VM that was stopped when saved paused after -incoming (its global state): cont it
                cmd = qmp(sock + '2')
                while cmd('query-status')['return']['status'] == 'inmigrate':
                    time.sleep(0.002)
                cmd('cont')
            wait_for(out2, r'count \d+\n', timeout=120)
            restore_ms = (time.time() - t0) * 1000
        finally:
            p.kill(); p.wait()
        print('%-9s %6s %12.0f %12.1f %14.0f' % (engine, size, save_ms, allocated, restore_ms), flush=True)
        subprocess.run(['rm', '-rf', snap])
PY
