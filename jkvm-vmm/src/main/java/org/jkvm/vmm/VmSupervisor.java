package org.jkvm.vmm;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

import org.jkvm.hypervisor.Hypervisor;
import org.jkvm.kvm.backend.KvmHypervisor;
import org.jkvm.loader.KernelLoadException;
import org.jkvm.vmm.console.ConsoleOutput;

/**
 * The VM across its boots, and the control plane's view of it: builds and runs one {@link Machine} after another
 * (a reset is a new Machine: a guest reboot with {@link VmConfig.RebootAction#RESTART}, or QMP's system_reset
 * always), keeps QEMU's {@link RunState}, and offers QMP's operations: {@link #stop}, {@link #cont},
 * {@link #systemReset}, {@link #systemPowerdown}, {@link #quit}. Listeners get QEMU's events (SHUTDOWN, RESET,
 * POWERDOWN, STOP, RESUME) synchronously, in order. All methods are thread-safe.
 */
public final class VmSupervisor {
    /** How long {@link #stop} waits for the vCPUs to park before it reports failure. */
    private static final long PAUSE_TIMEOUT_MS = 2000;

    /** QEMU's -name and -uuid. */
    public record Identity(Optional<String> name, Optional<UUID> uuid) {
        public static final Identity NONE = new Identity(Optional.empty(), Optional.empty());
    }

    private volatile VmConfig config;
    private final Identity identity;
    private final Hypervisor hypervisor;
    private final ConsoleOutput console;
    private final Consumer<String> log;
    private final List<VmEvent.Listener> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private final AtomicReference<ExitStatus> terminated = new AtomicReference<>();
    private final AtomicBoolean shutdownSent = new AtomicBoolean();
    private volatile Machine current;
    private volatile RunState state = RunState.PRELAUNCH;
    private boolean userPaused; // under lock: a QMP stop holds a pause on the current Machine

    /**
     * @param log one-line messages for the user (stderr)
     */
    public VmSupervisor(VmConfig config, Identity identity, Hypervisor hypervisor, ConsoleOutput console,
                        Consumer<String> log) {
        this.config = config;
        this.identity = identity;
        this.hypervisor = hypervisor;
        this.console = console;
        this.log = log;
    }

    /** A snapshot the first Machine is restored from instead of booting (jkvm run --restore / --incoming). */
    public record Restore(org.jkvm.vmm.snapshot.VmState state, java.nio.file.Path memoryFile) {}

    /** The outcome of the last snapshot save (QMP query-migrate), or null when none was asked for. */
    public record SnapshotInfo(String status, long totalMillis, long ramBytes, long ramWrittenBytes, String error) {}

    private volatile Restore restoreFirst;
    private final java.util.concurrent.atomic.AtomicReference<Restore> pendingLoad =
            new java.util.concurrent.atomic.AtomicReference<>();
    private volatile SnapshotInfo lastSnapshot;

    /** Makes the first boot a restore of {@code restore}. Call before {@link #run}. */
    public void restoreFrom(Restore restore) {
        this.restoreFirst = restore;
    }

    /**
     * Saves the running or paused VM into {@code dir} (the vCPUs are held while the state is read and RAM written;
     * a VM that was running runs on afterwards, one stopped stays stopped). The outcome is also kept for
     * {@link #lastSnapshot}.
     *
     * @throws org.jkvm.vmm.snapshot.SnapshotException when there is no VM or it cannot be saved
     */
    public SnapshotInfo saveSnapshot(java.nio.file.Path dir) throws InterruptedException {
        Machine m = current;
        if (m == null || m.finished()) {
            throw new org.jkvm.vmm.snapshot.SnapshotException("no running VM to save");
        }
        long t0 = System.nanoTime();
        lastSnapshot = new SnapshotInfo("active", 0, config.memoryBytes(), 0, null);
        org.jkvm.vmm.snapshot.VmSnapshots.Saved saved;
        try {
            saved = org.jkvm.vmm.snapshot.VmSnapshots.save(m, dir);
        } catch (RuntimeException e) {
            lastSnapshot = new SnapshotInfo("failed", (System.nanoTime() - t0) / 1_000_000, config.memoryBytes(), 0,
                    e.getMessage());
            throw e;
        }
        long written = saved.ramWrittenBytes();
        SnapshotInfo info = new SnapshotInfo("completed", (System.nanoTime() - t0) / 1_000_000,
                config.memoryBytes(), written, null);
        lastSnapshot = info;
        return info;
    }

    /**
     * Replaces the running VM by the snapshot in {@code dir}: the snapshot is read and checked first (an error leaves
     * the VM as it is); then the current Machine ends and the next one is restored from it, with the snapshot's
     * machine configuration. A VM stopped through QMP stays stopped. Returns once the switch is under way.
     *
     * @throws org.jkvm.vmm.snapshot.SnapshotException when the snapshot is unreadable, corrupt, newer or its disks
     *                                                 differ, or no VM is running
     */
    public void loadSnapshot(java.nio.file.Path dir) {
        org.jkvm.vmm.snapshot.VmState state = org.jkvm.vmm.snapshot.SnapshotFiles.readState(dir);
        org.jkvm.vmm.snapshot.VmSnapshots.checkDisks(state);
        java.nio.file.Path memory = dir.resolve(org.jkvm.vmm.snapshot.SnapshotFiles.MEMORY_FILE);
        if (!java.nio.file.Files.isRegularFile(memory)) {
            throw new org.jkvm.vmm.snapshot.SnapshotException("no guest RAM file " + memory);
        }
        org.jkvm.vmm.snapshot.VmSnapshots.config(state); // checks the saved disks and console parse
        synchronized (lock) {
            Machine m = current;
            if (m == null || m.finished()) {
                throw new org.jkvm.vmm.snapshot.SnapshotException("no running VM to replace");
            }
            pendingLoad.set(new Restore(state, memory));
            m.finish(new ExitStatus(0, "snapshot load requested through QMP", true,
                    ShutdownCause.HOST_QMP_SYSTEM_RESET));
        }
    }

    /** The last snapshot save's outcome, or null. */
    public SnapshotInfo lastSnapshot() {
        return lastSnapshot;
    }

    public void addListener(VmEvent.Listener l) {
        listeners.add(l);
    }

    public void removeListener(VmEvent.Listener l) {
        listeners.remove(l);
    }

    public VmConfig config() {
        return config;
    }

    public Identity identity() {
        return identity;
    }

    /** True on the kvm backend (QEMU's query-kvm "enabled"). */
    public boolean kvmEnabled() {
        return hypervisor instanceof KvmHypervisor;
    }

    public RunState state() {
        return state;
    }

    /** The Machine of the current boot, or null between boots. */
    public Machine currentMachine() {
        return current;
    }

    /** Host thread ids of the vCPUs (0 for a vCPU whose thread has not started). */
    public int[] vcpuThreadIds() {
        Machine m = current;
        int[] tids = new int[config.cpus()];
        for (int i = 0; m != null && i < tids.length; i++) {
            tids[i] = m.vcpuThreadId(i);
        }
        return tids;
    }

    /**
     * Boots the VM and runs it, rebooting as asked, until it ends; returns how.
     *
     * @param firstBoot runs once the first Machine is built, before its vCPUs start
     * @throws KernelLoadException when a boot's kernel or initrd cannot be loaded
     */
    public ExitStatus run(Runnable firstBoot) throws KernelLoadException {
        boolean first = true;
        boolean afterReset = false;
        while (true) {
            if (terminated.get() != null) {
                return end(terminated.get());
            }
            Restore restore = first ? restoreFirst : pendingLoad.getAndSet(null);
            if (restore != null && !first) {
                VmConfig saved = org.jkvm.vmm.snapshot.VmSnapshots.config(restore.state());
                config = new VmConfig(saved.kernel(), saved.initrd(), saved.cmdline(), saved.cpus(),
                        saved.memoryBytes(), config.reboot(), saved.disks(), saved.rng(), saved.console());
            }
            Machine machine = restore != null
                    ? Machine.restore(config, hypervisor, console, restore.state(), restore.memoryFile())
                    : new Machine(config, hypervisor, console);
            wireNics(machine);
            if (first) {
                firstBoot.run();
                first = false;
            }
            synchronized (lock) {
                if (userPaused) {
                    holdPause(machine, 0);
                }
                current = machine;
                state = userPaused ? (afterReset ? RunState.PRELAUNCH : RunState.PAUSED) : RunState.RUNNING;
            }
            if (terminated.get() != null) {
                machine.finish(terminated.get());
            }
            ExitStatus status = machine.run();
            console.flush();
            synchronized (lock) {
                current = null;
            }
            machine.close();
            if (terminated.get() != null) {
                return end(terminated.get()); // a termination request wins over what the guest did meanwhile
            }
            if (status.cause() == ShutdownCause.HOST_QMP_SYSTEM_RESET) {
                afterReset = true;
                continue; // its RESET event was sent when it was asked for
            }
            if (status.reset() && config.reboot() == VmConfig.RebootAction.RESTART) {
                emit(new VmEvent.Reset(true, status.cause()));
                log.accept(status.message() + "; restarting");
                afterReset = true;
                continue;
            }
            return end(status);
        }
    }

    private ExitStatus end(ExitStatus status) {
        if (status.cause() == ShutdownCause.GUEST_PANIC) {
            state = RunState.GUEST_PANICKED;
            emit(new VmEvent.GuestPanicked("poweroff"));
        } else {
            state = status.code() == ExitStatus.GUEST_CRASH && status.cause() == ShutdownCause.HOST_ERROR
                    ? RunState.INTERNAL_ERROR : RunState.SHUTDOWN;
        }
        sendShutdown(status.cause());
        return status;
    }

    private void sendShutdown(ShutdownCause cause) {
        if (shutdownSent.compareAndSet(false, true)) {
            emit(new VmEvent.Shutdown(cause.byGuest(), cause));
        }
    }

    /**
     * Ends the VM from the host (signal, Ctrl-A x, QMP quit): the first request wins, and wins over whatever the
     * guest does meanwhile. The SHUTDOWN event is sent before this returns.
     */
    public void terminate(ExitStatus status) {
        if (terminated.compareAndSet(null, status)) {
            sendShutdown(status.cause());
            Machine m = current;
            if (m != null) {
                m.finish(status);
            }
        }
    }

    /** True once {@link #terminate} was called. */
    public boolean terminating() {
        return terminated.get() != null;
    }

    /** QMP quit. */
    public void quit() {
        terminate(ExitStatus.host(ShutdownCause.HOST_QMP_QUIT, "quit requested through QMP"));
    }

    /**
     * QMP stop: parks every vCPU and sends STOP. Before the first boot has started its vCPUs (PRELAUNCH) it takes
     * effect too: the VM then starts paused. Nothing happens when the VM is already paused or has ended.
     *
     * @throws IllegalStateException when the vCPUs did not park in time (the pause stays held)
     */
    public void stop() throws InterruptedException {
        synchronized (lock) {
            if (userPaused || (state != RunState.RUNNING && state != RunState.PRELAUNCH)) {
                return;
            }
            userPaused = true;
            state = RunState.PAUSED;
            Machine m = current;
            boolean parked = m == null || holdPause(m, PAUSE_TIMEOUT_MS);
            emit(new VmEvent.Stop());
            if (!parked && !m.finished()) {
                throw new IllegalStateException("the vCPUs did not stop within " + PAUSE_TIMEOUT_MS + " ms");
            }
        }
    }

    private static boolean holdPause(Machine m, long timeoutMs) {
        try {
            return m.pause(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** QMP cont: releases a {@link #stop} and sends RESUME. Nothing happens when the VM is not paused. */
    public void cont() {
        synchronized (lock) {
            if (!userPaused) {
                return;
            }
            userPaused = false;
            Machine m = current;
            if (m != null) {
                m.resume();
            }
            state = RunState.RUNNING;
            emit(new VmEvent.Resume());
        }
    }

    /** QMP system_reset: sends RESET and reboots the VM (always, whatever --reboot says); a paused VM stays paused. */
    public void systemReset() {
        synchronized (lock) {
            emit(new VmEvent.Reset(false, ShutdownCause.HOST_QMP_SYSTEM_RESET));
            Machine m = current;
            if (m != null) {
                m.finish(new ExitStatus(0, "system_reset requested through QMP", true,
                        ShutdownCause.HOST_QMP_SYSTEM_RESET));
            }
        }
    }

    /** QMP system_powerdown: sends POWERDOWN and presses the ACPI power button; the guest decides what follows. */
    public void systemPowerdown() {
        emit(new VmEvent.Powerdown());
        Machine m = current;
        if (m != null) {
            m.pressPowerButton();
        }
    }

    /**
     * Runs {@code action} on the current Machine with every vCPU parked (briefly pausing a running VM, without
     * STOP/RESUME events), for reading vCPU state.
     *
     * @throws IllegalStateException when there is no running Machine or its vCPUs would not park
     */
    public <T> T withVcpusParked(Function<Machine, T> action) throws InterruptedException {
        Machine m = current;
        if (m == null) {
            throw new IllegalStateException("the VM is between two boots");
        }
        try {
            if (!m.pause(PAUSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the vCPUs did not stop");
            }
            return action.apply(m);
        } finally {
            m.resume();
        }
    }

    /** NICs set down by {@link #setLink}: the state outlives a reset, as QEMU's link_down. */
    private final java.util.Set<String> linksDown = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The monitor's name of NIC {@code index} of the configuration: its id, else {@code net<index>}. */
    public String nicName(int index) {
        return config.nets().get(index).id().orElse("net" + index);
    }

    /** QEMU's QOM path of a NIC's virtio backend, as NIC_RX_FILTER_CHANGED and query-rx-filter name it. */
    public static String nicPath(org.jkvm.vmm.device.PciPlatform.Nic n) {
        return n.config().id().map(id -> "/machine/peripheral/" + id + "/virtio-backend")
                .orElse("/machine/peripheral-anon/device[" + (n.slot() - 1) + "]/virtio-backend");
    }

    private void wireNics(Machine machine) {
        for (org.jkvm.vmm.device.PciPlatform.Nic n : machine.devices().pci().nics()) {
            String path = nicPath(n);
            n.net().setFilterChangedListener(x -> emit(new VmEvent.NicRxFilterChanged(n.name(), path)));
            if (linksDown.contains(n.name())) {
                n.net().setLink(false);
            }
        }
    }

    /**
     * QMP set_link: the link of NIC {@code name} up or down as the guest sees it (virtio-net's LINK_UP status with a
     * configuration change interrupt). False when no NIC has that name.
     */
    public boolean setLink(String name, boolean up) {
        boolean known = false;
        for (int i = 0; i < config.nets().size(); i++) {
            known |= nicName(i).equals(name);
        }
        if (!known) {
            return false;
        }
        if (up) {
            linksDown.remove(name);
        } else {
            linksDown.add(name);
        }
        Machine m = currentMachine();
        if (m != null) {
            for (org.jkvm.vmm.device.PciPlatform.Nic n : m.devices().pci().nics()) {
                if (n.name().equals(name)) {
                    n.net().setLink(up);
                }
            }
        }
        return true;
    }

    private void emit(VmEvent event) {
        for (VmEvent.Listener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                log.accept("event listener failed: " + e);
            }
        }
    }
}
