package org.jkvm.vmm;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;

import org.jkvm.acpi.AcpiConfig;
import org.jkvm.acpi.AcpiImage;
import org.jkvm.acpi.AcpiTables;
import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.Hypervisor;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.loader.BootConfig;
import org.jkvm.loader.KernelLoadException;
import org.jkvm.loader.KernelLoader;
import org.jkvm.loader.LoadedKernel;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.vmm.arch.BootGdt;
import org.jkvm.vmm.arch.BootMsrs;
import org.jkvm.vmm.arch.BootState;
import org.jkvm.vmm.arch.CpuidSetup;
import org.jkvm.vmm.arch.IdentityPageTables;
import org.jkvm.vmm.device.DeviceManager;
import org.jkvm.vmm.device.PlatformEvents;
import org.jkvm.vmm.vstate.VcpuGate;
import org.jkvm.vmm.vstate.VcpuRunner;

/**
 * One x86-64 PC virtual machine on any backend. The constructor is the straight-line recipe: memory, VM, devices,
 * ACPI tables, kernel, boot page tables and GDT, vCPUs with CPUID/MSRs/FPU, the bootstrap processor's entry state.
 * {@link #run} starts one platform thread per vCPU and blocks until the VM ends. {@link #pause} and {@link #resume}
 * park and release the vCPU threads (the protocol is {@link VcpuGate}'s).
 */
public final class Machine implements PlatformEvents, VcpuRunner.Outcome, AutoCloseable {
    private final VmConfig config;
    private final GuestMemory memory;
    private final Vm vm;
    private final DeviceManager devices;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CompletableFuture<ExitStatus> outcome = new CompletableFuture<>();
    private final VcpuGate gate = new VcpuGate(vcpus);
    private final AtomicIntegerArray threadIds;
    private final String backendName;
    private final List<List<CpuidEntry>> cpuids = new ArrayList<>();

    /**
     * Builds the VM; nothing runs yet.
     *
     * @throws KernelLoadException when the kernel or initrd cannot be loaded (nothing is left allocated)
     */
    /** Request queues per disk: one per vCPU (QEMU's default since 5.2), up to this many. */
    static final int MAX_DISK_QUEUES = 16;

    public Machine(VmConfig config, Hypervisor hypervisor, IntConsumer consoleOutput) throws KernelLoadException {
        this(config, hypervisor, consoleOutput, null);
    }

    /**
     * Builds the VM from a snapshot instead of booting: the same machine ({@code config} comes from the snapshot),
     * guest RAM mapped privately and lazily from the snapshot's RAM file, no kernel load, and every vCPU and device
     * loaded from {@code state}. Nothing runs yet.
     *
     * @throws org.jkvm.vmm.snapshot.SnapshotException when the state does not fit this backend or machine
     */
    public static Machine restore(VmConfig config, Hypervisor hypervisor, IntConsumer consoleOutput,
                                  org.jkvm.vmm.snapshot.VmState state, java.nio.file.Path memoryFile) {
        try {
            return new Machine(config, hypervisor, consoleOutput, new Restore(state, memoryFile));
        } catch (KernelLoadException e) {
            throw new IllegalStateException("a restore loads no kernel", e);
        }
    }

    private record Restore(org.jkvm.vmm.snapshot.VmState state, java.nio.file.Path memoryFile) {}

    private Machine(VmConfig config, Hypervisor hypervisor, IntConsumer consoleOutput, Restore restore)
            throws KernelLoadException {
        this.config = config;
        this.backendName = hypervisor.name();
        this.threadIds = new AtomicIntegerArray(config.cpus());
        PcMemoryLayout layout = PcMemoryLayout.of(config.memoryBytes());
        if (restore == null) {
            KernelLoader.detect(config.kernel());
            memory = MmapGuestMemory.create(layout);
        } else {
            try {
                memory = MmapGuestMemory.mapPrivate(layout, restore.memoryFile());
            } catch (IllegalArgumentException e) {
                throw new org.jkvm.vmm.snapshot.SnapshotException(e.getMessage(), e);
            }
        }
        Vm createdVm = null;
        DeviceManager devicesBuilt = null;
        try {
            createdVm = hypervisor.createVm(new VmOptions(config.cpus()));
            vm = createdVm;
            vm.setMemory(memory);
            devices = new DeviceManager(vm, memory, layout, consoleOutput, this, Clock.systemUTC(), config.disks(),
                    Math.min(config.cpus(), MAX_DISK_QUEUES), config.rng(), config.console(), config.nets());
            devicesBuilt = devices;

            List<CpuidEntry> cpuid = hypervisor.supportedCpuid();
            if (restore == null) {
                AcpiImage acpi = AcpiTables.build(AcpiConfig.pc(config.cpus()).withHpet(devices.hpetGpa()),
                        devices.pci().hostConfig());
                memory.write(acpi.baseGpa(), acpi.bytes());
                LoadedKernel kernel = KernelLoader.load(config.kernel(),
                        new BootConfig(layout, config.cmdline(), config.initrd(), acpi.rsdpGpa()), memory);
                DescriptorTable gdt = BootGdt.write(memory);
                DescriptorTable idt = BootGdt.idt(memory);
                long cr3 = IdentityPageTables.write(memory);
                for (int i = 0; i < config.cpus(); i++) {
                    Vcpu v = vm.createVcpu(i);
                    vcpus.add(v);
                    List<CpuidEntry> leaves = CpuidSetup.forVcpu(cpuid, i, config.cpus());
                    v.setCpuid(leaves);
                    cpuids.add(leaves);
                    v.setMsrs(BootMsrs.entries());
                    v.setFpu(Fpu.initial());
                }
                Vcpu bsp = vcpus.get(0);
                bsp.setSregs(BootState.sregs(bsp.getSregs(), kernel, gdt, idt, cr3));
                bsp.setRegs(BootState.regs(kernel));
            } else {
                for (int i = 0; i < config.cpus(); i++) {
                    Vcpu v = vm.createVcpu(i);
                    vcpus.add(v);
                    List<CpuidEntry> leaves = CpuidSetup.forVcpu(cpuid, i, config.cpus());
                    v.setCpuid(leaves);
                    cpuids.add(leaves);
                }
                org.jkvm.vmm.snapshot.VmSnapshots.apply(this, restore.state());
            }
        } catch (KernelLoadException | RuntimeException e) {
            if (devicesBuilt != null) {
                devicesBuilt.close();
                devicesBuilt.release();
            }
            vcpus.forEach(Vcpu::close);
            if (createdVm != null) {
                createdVm.close();
            }
            memory.close();
            throw e;
        }
    }

    /** The backend's VM (snapshots read and load its interrupt controllers through it). */
    public Vm vm() {
        return vm;
    }

    /** The backend's name ({@code kvm} or {@code emu}). */
    public String backendName() {
        return backendName;
    }

    /** The CPUID leaves vCPU {@code index} was given. */
    public List<CpuidEntry> cpuid(int index) {
        return cpuids.get(index);
    }

    public VmConfig config() {
        return config;
    }

    public DeviceManager devices() {
        return devices;
    }

    public GuestMemory memory() {
        return memory;
    }

    /** The vCPUs, by index. Their state accessors may be used only while the VM is paused. */
    public List<Vcpu> vcpus() {
        return List.copyOf(vcpus);
    }

    /** The host kernel thread id of vCPU {@code index}'s thread, or 0 before it started. */
    public int vcpuThreadId(int index) {
        return threadIds.get(index);
    }

    /**
     * Parks every vCPU thread; returns true when all are parked (false if that took longer than {@code timeout}, or
     * when the VM ended meanwhile). Every call needs one {@link #resume}, whatever it returned. Thread-safe; must not
     * be called from a vCPU thread. Works before {@link #run} too: the vCPUs then park as they start.
     */
    public boolean pause(long timeout, TimeUnit unit) throws InterruptedException {
        return gate.pause(timeout, unit) && !gate.stopping();
    }

    /** Releases one {@link #pause}; the vCPUs run again when no pause is held. */
    public void resume() {
        gate.release();
    }

    /** Presses the ACPI power button: PWRBTN_STS, and the SCI if the guest enabled it. */
    public void pressPowerButton() {
        devices.acpiPm().pressPowerButton();
    }

    /** Runs the VM until it powers off, resets, crashes or {@link #finish} is called; returns how it ended. */
    public ExitStatus run() {
        for (Vcpu v : vcpus) {
            Thread t = Thread.ofPlatform().name("vcpu-" + v.index()).daemon(true)
                    .unstarted(new VcpuRunner(v, devices, gate, this));
            threads.add(t);
        }
        threads.forEach(Thread::start);
        ExitStatus status = outcome.join();
        stopVcpus();
        return status;
    }

    private void stopVcpus() {
        gate.stop();
        for (int attempt = 0; attempt < 200 && threads.stream().anyMatch(Thread::isAlive); attempt++) {
            gate.kickAll();
            for (Thread t : threads) {
                try {
                    t.join(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void started(int vcpuIndex, int tid) {
        threadIds.set(vcpuIndex, tid);
    }

    /** Ends the VM with {@code status}; the first outcome wins. Thread-safe; callable from any thread. */
    @Override
    public void finish(ExitStatus status) {
        if (outcome.complete(status)) {
            gate.stop();
            gate.kickAll(); // under the gate's lock: never after close() has unmapped the vCPUs' kvm_run
        }
    }

    /** True once the VM has an outcome (it is ending or has ended). */
    public boolean finished() {
        return outcome.isDone();
    }

    @Override
    public void powerOff() {
        finish(ExitStatus.powerOff("guest powered off (ACPI S5)"));
    }

    @Override
    public void reset(String how) {
        finish(ExitStatus.reset("guest reset through the " + how));
    }

    @Override
    public void guestPanicked() {
        finish(ExitStatus.panic("guest kernel panicked (pvpanic)"));
    }

    @Override
    public void debugExit(int status) {
        finish(new ExitStatus(status, "guest wrote " + (status >>> 1) + " to the debug-exit port", false,
                ShutdownCause.GUEST_SHUTDOWN));
    }

    /**
     * Releases the vCPUs, the VM and guest RAM. RAM is unmapped only when every vCPU thread and the device I/O
     * thread have ended, so a thread that is somehow still running can never touch unmapped memory.
     */
    @Override
    public void close() {
        devices.close();
        boolean allStopped = threads.stream().noneMatch(Thread::isAlive) && devices.ioStopped();
        if (!allStopped) {
            return;
        }
        devices.release();
        gate.close();
        vcpus.forEach(Vcpu::close);
        vm.close();
        memory.close();
    }
}
