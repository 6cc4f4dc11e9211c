package org.jkvm.emu;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;

/** A 64 MiB emu VM set up in one of jkvm's boot entry states (docs/emu.md, the boot memory map), for tests. */
final class TestMachine implements AutoCloseable {
    static final long CODE = 0x100000;
    final MmapGuestMemory mem = MmapGuestMemory.create(PcMemoryLayout.of(64L << 20));
    final EmuHypervisor hv = new EmuHypervisor();
    final EmuVm vm = (EmuVm) hv.createVm(new VmOptions(2));
    final EmuVcpu cpu;
    final Io io = new Io();

    /** Records port and MMIO writes; reads return 0xff.. for ports and a fixed pattern for MMIO. */
    static final class Io implements IoHandler {
        final List<String> log = new ArrayList<>();
        final StringBuilder serial = new StringBuilder();

        @Override
        public int pioRead(int port, int size) {
            log.add("in " + Integer.toHexString(port));
            return port == 0x3fd ? 0x20 : 0xffffffff;
        }

        @Override
        public void pioWrite(int port, int size, int value) {
            if (port == 0x3f8 || port == 0xe9) {
                serial.append((char) (value & 0xff));
            } else {
                log.add("out " + Integer.toHexString(port) + "=" + Integer.toHexString(value));
            }
        }

        @Override
        public long mmioRead(long gpa, int size) {
            log.add("mmio read " + Long.toHexString(gpa) + "/" + size);
            return 0x1122334455667788L;
        }

        @Override
        public void mmioWrite(long gpa, int size, long value) {
            log.add("mmio write " + Long.toHexString(gpa) + "/" + size + "=" + Long.toHexString(value));
        }
    }

    private TestMachine() {
        vm.setMemory(mem);
        cpu = (EmuVcpu) vm.createVcpu(0);
        // GDT at 0x500: null, 0x08 32-bit flat code, 0x10 64-bit code, 0x18 flat data.
        mem.writeLong(0x500, 0);
        mem.writeLong(0x508, Segment.flat(0x08, 0xb, false, true).gdtDescriptor());
        mem.writeLong(0x510, Segment.flat(0x10, 0xb, true, false).gdtDescriptor());
        mem.writeLong(0x518, Segment.flat(0x18, 0x3, false, true).gdtDescriptor());
    }

    private Sregs baseSregs(Segment cs, Segment data, long cr0, long cr3, long cr4, long efer) {
        Segment tr = new Segment(0, 0xffff, 0, 0xb, true, 0, false, false, false, false, false, false);
        Segment ldt = new Segment(0, 0xffff, 0, 0x2, true, 0, false, false, false, false, false, true);
        return new Sregs(cs, data, data, data, data, data, tr, ldt, new DescriptorTable(0x500, 0x1f),
                new DescriptorTable(0, 0xffff), cr0, 0, cr3, cr4, 0, efer, 0xfee00900L, new long[4]);
    }

    /** LINUX_64 entry: long mode, identity-mapped first 4 GiB with 2 MiB pages. */
    static TestMachine longMode() {
        TestMachine m = new TestMachine();
        m.identityPageTables();
        m.cpu.setSregs(m.baseSregs(Segment.flat(0x10, 0xb, true, false), Segment.flat(0x18, 0x3, false, true),
                0x80050033L, 0x9000, 0x20, 0x500));
        m.cpu.setRegs(Regs.boot(CODE, 0x8ff0, 0x7000, 0, 0));
        return m;
    }

    /** The boot page tables: PML4 0x9000, PDPT 0xA000, PDs 0xB000-0xEFFF mapping 4 GiB with 2 MiB pages. */
    void identityPageTables() {
        TestMachine m = this;
        m.mem.writeLong(0x9000, 0xA000 | 3);
        for (int i = 0; i < 4; i++) {
            m.mem.writeLong(0xA000 + i * 8L, (0xB000 + i * 0x1000L) | 3);
            for (int j = 0; j < 512; j++) {
                long pa = ((long) i << 30) + ((long) j << 21);
                m.mem.writeLong(0xB000 + i * 0x1000L + j * 8L, pa | 0x83);
            }
        }
    }

    /** MULTIBOOT_32 entry: 32-bit protected mode, paging off. */
    static TestMachine protected32() {
        TestMachine m = new TestMachine();
        m.cpu.setSregs(m.baseSregs(Segment.flat(0x08, 0xb, false, true), Segment.flat(0x18, 0x3, false, true),
                0x11, 0, 0, 0));
        m.cpu.setRegs(Regs.boot(CODE, 0x8ff0, 0, 0x2BADB002L, 0x10000));
        return m;
    }

    /** Real mode with CS=DS=SS=0. */
    static TestMachine real() {
        TestMachine m = new TestMachine();
        Segment cs = Segment.real(0, 0xb);
        Segment ds = Segment.real(0, 0x3);
        m.cpu.setSregs(m.baseSregs(cs, ds, 0x10, 0, 0, 0).withTables(new DescriptorTable(0, 0xffff),
                new DescriptorTable(0, 0x3ff)));
        m.cpu.setRegs(Regs.boot(0x7c00, 0x7000, 0, 0, 0));
        return m;
    }

    void load(long gpa, byte[] code) {
        mem.write(gpa, code);
    }

    VcpuExit run() {
        return cpu.run(io);
    }

    @Override
    public void close() {
        vm.close();
        mem.close();
    }

    static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }
}
