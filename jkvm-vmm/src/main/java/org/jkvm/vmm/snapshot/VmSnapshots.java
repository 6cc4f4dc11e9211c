package org.jkvm.vmm.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.jkvm.block.DiskConfig;
import org.jkvm.console.ConsoleConfig;
import org.jkvm.devices.irq.IoApic;
import org.jkvm.devices.irq.Pic8259;
import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.state.IrqchipState;
import org.jkvm.hypervisor.state.PicState;
import org.jkvm.hypervisor.state.PitState;
import org.jkvm.pci.PciBus;
import org.jkvm.pci.PciDevice;
import org.jkvm.pci.virtio.VirtioPciDevice;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.VmConfig;
import org.jkvm.vmm.device.DeviceManager;

/**
 * Takes a {@link VmState} from a paused {@link Machine} and loads one into a machine being restored. Both
 * backends save the same form (KVM's structures), so a state saved on one restores on the other where the CPU
 * allows: feature differences the guest could have relied on are reported on stderr, state that cannot exist on
 * the target (an event half-delivered, kvmclock on emu, the HPET in use on KVM) is refused.
 */
public final class VmSnapshots {
    /** MSR index of kvmclock's system-time MSRs (the guest enables kvmclock through them). */
    private static final int MSR_KVM_SYSTEM_TIME_NEW = 0x4b564d01;
    private static final int MSR_KVM_SYSTEM_TIME = 0x12;

    private VmSnapshots() {}

    /**
     * Saves {@code machine} into {@code dir}: pauses it (a nested hold: a VM already stopped stays stopped), reads
     * the state, writes RAM and the state file, and releases the hold. Returns the state written.
     */
    public static Saved save(Machine machine, Path dir) throws InterruptedException {
        try {
            if (!machine.pause(10, TimeUnit.SECONDS)) {
                throw new SnapshotException("the vCPUs did not stop within 10 s (or the VM is ending)");
            }
            List<VirtioPciDevice> virtio = virtioDevices(machine.devices().pci().bus());
            virtio.forEach(VirtioPciDevice::quiesce); // in-flight requests complete first; none start until resumed
            try {
                VmState state = capture(machine);
                long ramWritten = SnapshotFiles.write(dir, state, machine.memory());
                return new Saved(state, ramWritten);
            } finally {
                virtio.forEach(VirtioPciDevice::resumeIo);
            }
        } finally {
            machine.resume();
        }
    }

    /** What {@link #save} wrote: the state, and the bytes of RAM written (all-zero pages are holes). */
    public record Saved(VmState state, long ramWrittenBytes) {}

    /** The state of a paused machine. */
    public static VmState capture(Machine machine) {
        DeviceManager dev = machine.devices();
        if (!dev.pci().nics().isEmpty()) {
            throw new SnapshotException("snapshots of VMs with a virtio-net NIC are not supported yet: the NIC's"
                    + " receive filter and TAP are not saved");
        }
        // The platform first, then the vCPUs: a timer that fires in between (the VMM's timer threads keep running)
        // is then in both states and fires once more after a restore, instead of being lost.
        Vm vm = machine.vm();
        IrqchipState irqchip;
        PitState pit;
        if (vm.irqchip() == Vm.Irqchip.BACKEND) {
            irqchip = vm.getIrqchip();
            pit = vm.getPit();
        } else {
            PicState[] pics = dev.interruptRouting().pic().saveState();
            irqchip = new IrqchipState(pics[0], pics[1], dev.interruptRouting().ioApic().saveState());
            pit = dev.pit().saveState();
        }
        PlatformState platform = new PlatformState(irqchip, pit, dev.hpet() != null ? dev.hpet().saveState() : null,
                vm.getClockNanos(), dev.serial().saveState(), dev.i8042().saveState(), dev.rtc().saveState(),
                dev.acpiPm().saveState());
        List<VcpuState> vcpus = new ArrayList<>();
        for (Vcpu v : machine.vcpus()) {
            List<MsrEntry> msrs = v.getMsrs(v.stateMsrIndices());
            vcpus.add(new VcpuState(v.index(), v.getRegs(), v.getSregs(), v.getFpu(), v.getXsave(), msrs,
                    v.getLapic(), v.getEvents(), v.getMpState(), machine.cpuid(v.index()), v.tscKhz()));
        }
        return new VmState(machineState(machine), vcpus, platform, pciState(dev.pci().bus()),
                System.currentTimeMillis());
    }

    private static MachineState machineState(Machine machine) {
        VmConfig c = machine.config();
        List<DiskState> disks = new ArrayList<>();
        for (DiskConfig d : c.disks()) {
            long size;
            try {
                size = Files.size(d.path());
            } catch (IOException e) {
                throw new SnapshotException("cannot read the size of disk " + d.path() + ": " + e.getMessage(), e);
            }
            disks.add(new DiskState(d.path().toAbsolutePath().toString(), size, d.readOnly(), d.serial().orElse(null),
                    d.cache().name(), d.id().orElse(null)));
        }
        return new MachineState(c.cpus(), c.memoryBytes(), machine.backendName(), c.kernel().toString(),
                c.cmdline(), disks, c.rng(), c.console().map(x -> x.kind().name()).orElse(null),
                c.console().map(x -> x.path().toString()).orElse(null));
    }

    private static PciState pciState(PciBus bus) {
        List<PciState.Function> functions = new ArrayList<>();
        for (int slot = 0; slot < PciBus.SLOTS; slot++) {
            PciDevice d = bus.device(slot);
            if (d == null) {
                continue;
            }
            byte[] config = new byte[256];
            for (int off = 0; off < 256; off += 4) {
                int v = (int) bus.configRead(0, slot, 0, off, 4);
                config[off] = (byte) v;
                config[off + 1] = (byte) (v >>> 8);
                config[off + 2] = (byte) (v >>> 16);
                config[off + 3] = (byte) (v >>> 24);
            }
            functions.add(new PciState.Function(slot, config,
                    d instanceof VirtioPciDevice v ? v.saveState() : null));
        }
        return new PciState(functions);
    }

    private static List<VirtioPciDevice> virtioDevices(PciBus bus) {
        List<VirtioPciDevice> out = new ArrayList<>();
        for (int slot = 0; slot < PciBus.SLOTS; slot++) {
            if (bus.device(slot) instanceof VirtioPciDevice v) {
                out.add(v);
            }
        }
        return out;
    }

    /**
     * The machine configuration a state was saved from, for building the machine to restore it into: the saved
     * disks (checked by {@link #checkDisks}), rng and console; {@code kernel} is kept for information only.
     */
    public static VmConfig config(VmState state) {
        MachineState m = state.machine();
        List<DiskConfig> disks = new ArrayList<>();
        for (DiskState d : m.disks()) {
            DiskConfig.CacheMode cache;
            try {
                cache = DiskConfig.CacheMode.valueOf(d.cache());
            } catch (IllegalArgumentException e) {
                throw new SnapshotException("disk " + d.path() + ": unknown cache mode " + d.cache());
            }
            disks.add(new DiskConfig(Path.of(d.path()), d.readOnly(), java.util.Optional.ofNullable(d.serial()), cache,
                    java.util.Optional.ofNullable(d.id())));
        }
        java.util.Optional<ConsoleConfig> console = m.consoleKind() == null ? java.util.Optional.empty()
                : java.util.Optional.of(ConsoleConfig.parse(m.consoleKind().toLowerCase(java.util.Locale.ROOT) + "="
                        + m.consolePath()));
        return new VmConfig(Path.of(m.kernel()), java.util.Optional.empty(), m.cmdline(), m.cpus(), m.memoryBytes(),
                VmConfig.RebootAction.EXIT, disks, m.rng(), console);
    }

    /** Refuses disks whose images are gone or whose size is not the one saved. */
    public static void checkDisks(VmState state) {
        for (DiskState d : state.machine().disks()) {
            Path p = Path.of(d.path());
            long size;
            try {
                size = Files.size(p);
            } catch (IOException e) {
                throw new SnapshotException("the snapshot's disk " + p + " cannot be opened: " + e.getMessage(), e);
            }
            if (size != d.sizeBytes()) {
                throw new SnapshotException("the snapshot's disk " + p + " is " + size + " bytes, the snapshot was"
                        + " taken with " + d.sizeBytes() + ": not the same image");
            }
        }
    }

    /** Loads {@code state} into {@code machine}, built from {@link #config} and not yet running. */
    public static void apply(Machine machine, VmState state) {
        MachineState ms = state.machine();
        if (ms.cpus() != machine.vcpus().size() || ms.memoryBytes() != machine.config().memoryBytes()) {
            throw new SnapshotException("the snapshot is of a " + ms.cpus() + "-vCPU VM with " + ms.memoryBytes()
                    + " bytes of RAM, not this machine");
        }
        Vm vm = machine.vm();
        DeviceManager dev = machine.devices();
        PlatformState p = state.platform();
        boolean sameBackend = ms.backend().equals(machine.backendName());
        for (VcpuState s : state.vcpus()) {
            checkVcpu(machine, s, sameBackend);
        }
        if (vm.irqchip() == Vm.Irqchip.BACKEND) {
            if (p.hpet() != null && (p.hpet().config() & 1) != 0) {
                throw new SnapshotException("the guest has the HPET enabled, which the " + machine.backendName()
                        + " backend does not have");
            }
            vm.setIrqchip(p.irqchip());
            vm.setPit(p.pit());
            if (p.kvmClockNanos() >= 0) {
                vm.setClockNanos(p.kvmClockNanos());
            }
        } else {
            Pic8259 pic = dev.interruptRouting().pic();
            IoApic ioApic = dev.interruptRouting().ioApic();
            pic.restoreState(p.irqchip().master(), p.irqchip().slave());
            ioApic.restoreState(p.irqchip().ioapic());
            dev.pit().restoreState(p.pit());
            if (p.hpet() != null) {
                dev.hpet().restoreState(p.hpet());
            }
        }
        for (VcpuState s : state.vcpus()) {
            Vcpu v = machine.vcpus().get(s.index());
            v.setSregs(s.sregs());
            v.setRegs(s.regs());
            v.setFpu(s.fpu());
            if (sameBackend && s.xsave() != null && v.getXsave() != null) {
                v.setXsave(s.xsave());
            }
            v.setLapic(s.lapic());
            Set<Integer> known = new HashSet<>();
            for (int i : v.stateMsrIndices()) {
                known.add(i);
            }
            List<MsrEntry> msrs = new ArrayList<>();
            List<String> dropped = new ArrayList<>();
            for (MsrEntry e : s.msrs()) {
                if (known.contains(e.index())) {
                    msrs.add(e);
                } else if (e.value() != 0) {
                    dropped.add(String.format("0x%x=0x%x", e.index(), e.value()));
                }
            }
            if (!dropped.isEmpty()) {
                System.err.println("jkvm: restore: vCPU " + s.index() + ": the " + machine.backendName()
                        + " backend has no MSR " + String.join(", ", dropped) + "; left at its reset value");
            }
            v.setMsrs(msrs);
            v.setMpState(s.mpState());
            v.setEvents(s.events());
        }
        dev.serial().restoreState(p.serial());
        dev.i8042().restoreState(p.i8042());
        dev.rtc().restoreState(p.rtc());
        dev.acpiPm().restoreState(p.acpiPm());
        restorePci(dev.pci().bus(), state.pci());
        dev.serial().refreshInterrupt();
        dev.i8042().refreshInterrupt();
        dev.rtc().refreshInterrupt();
        dev.acpiPm().refreshInterrupt();
    }

    /** Checks one vCPU's state against the target: kvmclock, and CPU features the guest saw that are missing. */
    private static void checkVcpu(Machine machine, VcpuState s, boolean sameBackend) {
        if (!sameBackend && machine.vm().getClockNanos() < 0) {
            for (MsrEntry e : s.msrs()) {
                if ((e.index() == MSR_KVM_SYSTEM_TIME_NEW || e.index() == MSR_KVM_SYSTEM_TIME)
                        && (e.value() & 1) != 0) {
                    throw new SnapshotException("vCPU " + s.index() + ": the guest uses kvmclock, which the "
                            + machine.backendName() + " backend does not provide");
                }
            }
        }
        List<String> missing = missingFeatures(s.cpuid(), machine.cpuid(s.index()));
        if (!missing.isEmpty() && s.index() == 0) {
            System.err.println("jkvm: restore: the guest saw CPU features the " + machine.backendName()
                    + " backend does not offer (guest code using them will fault): " + String.join(", ", missing));
        }
    }

    /** Feature bits (leaves 1, 7.0, 0x80000001) set in {@code saved} and clear in {@code target}. */
    static List<String> missingFeatures(List<CpuidEntry> saved, List<CpuidEntry> target) {
        List<String> out = new ArrayList<>();
        int[][] leaves = {{1, 0}, {7, 0}, {0x80000001, 0}};
        for (int[] leaf : leaves) {
            CpuidEntry a = find(saved, leaf[0], leaf[1]);
            CpuidEntry b = find(target, leaf[0], leaf[1]);
            if (a == null) {
                continue;
            }
            int[] ra = {a.ebx(), a.ecx(), a.edx()};
            int[] rb = b == null ? new int[3] : new int[] {b.ebx(), b.ecx(), b.edx()};
            String[] names = {"ebx", "ecx", "edx"};
            for (int r = 0; r < 3; r++) {
                if (leaf[0] == 1 && r == 0) {
                    continue; // leaf 1 EBX is APIC ID and counts, not features
                }
                int lost = ra[r] & ~rb[r];
                if (leaf[0] == 1 && r == 1) {
                    lost &= ~(1 << 31); // the hypervisor bit
                }
                if (lost != 0) {
                    out.add(String.format("CPUID.0x%x.%s bits 0x%08x", leaf[0], names[r], lost));
                }
            }
        }
        return out;
    }

    private static CpuidEntry find(List<CpuidEntry> leaves, int function, int index) {
        for (CpuidEntry e : leaves) {
            if (e.function() == function && ((e.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) == 0 || e.index() == index)) {
                return e;
            }
        }
        return null;
    }

    /**
     * Loads the functions' configuration spaces through the normal (masked) configuration write path, BARs before
     * the command register so decoding turns on with the saved addresses. The functions must be the same devices.
     */
    private static void restorePci(PciBus bus, PciState state) {
        for (PciState.Function f : state.functions()) {
            PciDevice d = bus.device(f.slot());
            int ids = (int) bus.configRead(0, f.slot(), 0, 0, 4);
            if (d == null || ids != f.ids()) {
                throw new SnapshotException(String.format("PCI slot %d held device %08x when saved, now %s",
                        f.slot(), f.ids(), d == null ? "nothing" : String.format("%08x", ids)));
            }
            byte[] c = f.config();
            for (int off = 0x08; off < 256; off += 4) {
                int v = (c[off] & 0xff) | (c[off + 1] & 0xff) << 8 | (c[off + 2] & 0xff) << 16 | (c[off + 3] & 0xff) << 24;
                bus.configWrite(0, f.slot(), 0, off, 4, Integer.toUnsignedLong(v));
            }
            int command = (c[4] & 0xff) | (c[5] & 0xff) << 8;
            bus.configWrite(0, f.slot(), 0, 4, 2, command);
            if (d instanceof VirtioPciDevice v) {
                if (f.virtio() == null) {
                    throw new SnapshotException("PCI slot " + f.slot() + ": the snapshot has no virtio state for it");
                }
                try {
                    v.restoreState(f.virtio());
                } catch (IllegalArgumentException e) {
                    throw new SnapshotException("PCI slot " + f.slot() + ": " + e.getMessage(), e);
                }
            }
        }
        for (int slot = 0; slot < PciBus.SLOTS; slot++) {
            if (bus.device(slot) != null) {
                final int s = slot;
                if (state.functions().stream().noneMatch(f -> f.slot() == s)) {
                    throw new SnapshotException("PCI slot " + slot + " has a device the snapshot does not have");
                }
            }
        }
    }
}
