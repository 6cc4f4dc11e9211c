package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.emu.TestMachine.CODE;
import static org.jkvm.emu.TestMachine.bytes;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.junit.jupiter.api.Test;

/** System behaviour: exceptions through the IDT, page faults, #UD/#DE, triple faults, mode switches, I/O, LOCK. */
class SystemTest {
    static final long IDT = 0x3000;
    static final long HANDLERS = 0x200000;

    /** A 64-bit IDT whose handler for vector v (at HANDLERS + 16v) is a HLT. */
    static void longIdt(TestMachine m) {
        for (int v = 0; v < 32; v++) {
            long off = HANDLERS + 16L * v;
            long lo = (off & 0xffff) | (0x10L << 16) | (0xeL << 40) | (1L << 47) | (((off >>> 16) & 0xffff) << 48);
            m.mem.writeLong(IDT + 16L * v, lo);
            m.mem.writeLong(IDT + 16L * v + 8, off >>> 32);
            m.mem.writeByte(off, (byte) 0xf4);
        }
        Sregs s = m.cpu.getSregs();
        m.cpu.setSregs(s.withTables(s.gdt(), new DescriptorTable(IDT, 32 * 16 - 1)));
    }

    static int vectorOf(Regs r) {
        return (int) ((r.rip() - 1 - HANDLERS) / 16);
    }

    @Test
    void undefinedOpcodeRaisesUdThroughTheIdt() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            m.load(CODE, bytes(0x0f, 0x0b));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(vectorOf(r)).isEqualTo(6);
            // Frame: RIP, CS, RFLAGS, RSP, SS on a 16-byte aligned stack.
            assertThat(r.rsp()).isEqualTo(0x8ff0 - 40);
            assertThat(m.mem.readLong(r.rsp())).isEqualTo(CODE);
            assertThat(m.mem.readLong(r.rsp() + 8)).isEqualTo(0x10);
            assertThat(m.mem.readLong(r.rsp() + 24)).isEqualTo(0x8ff0);
            assertThat(m.mem.readLong(r.rsp() + 32)).isEqualTo(0x18);
        }
    }

    @Test
    void encodingsInvalidIn64BitModeAndUnimplementedMapsAreUd() {
        int[][] codes = {{0x27}, {0x06}, {0x0f, 0x38, 0x00, 0xc0}, {0xd6}, {0x0f, 0xff}, {0xc7, 0xc8, 0, 0, 0, 0}};
        for (int[] code : codes) {
            try (TestMachine m = TestMachine.longMode()) {
                longIdt(m);
                m.load(CODE, bytes(code));
                assertThat(m.run()).isEqualTo(VcpuExit.HLT);
                assertThat(vectorOf(m.cpu.getRegs())).as("opcode %02x", code[0]).isEqualTo(6);
            }
        }
    }

    @Test
    void verwAndVerrTestSegmentsWithoutFaulting() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            m.load(CODE, bytes(0x66, 0xb8, 0x18, 0x00, 0x0f, 0x00, 0xe8, 0x0f, 0x94, 0xc3, // verw data -> bl
                    0x66, 0xb8, 0x10, 0x00, 0x0f, 0x00, 0xe8, 0x0f, 0x94, 0xc1, // verw code -> cl
                    0x0f, 0x00, 0xe0, 0x0f, 0x94, 0xc2, // verr code -> dl
                    0x66, 0xb8, 0x00, 0x04, 0x0f, 0x00, 0xe8, 0x0f, 0x94, 0xc6, // verw beyond the GDT -> dh
                    0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(r.rip()).as("no exception").isEqualTo(CODE + 37);
            assertThat(r.rbx() & 0xff).as("writable data").isEqualTo(1);
            assertThat(r.rcx() & 0xff).as("code is not writable").isEqualTo(0);
            assertThat(r.rdx() & 0xff).as("execute/read code is readable").isEqualTo(1);
            assertThat((r.rdx() >> 8) & 0xff).as("selector beyond the limit").isEqualTo(0);
        }
    }

    @Test
    void divideByZeroRaisesDeAtTheDivide() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            m.load(CODE, bytes(0x31, 0xc9, 0xf7, 0xf1)); // xor ecx,ecx; div ecx
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(vectorOf(r)).isEqualTo(0);
            assertThat(m.mem.readLong(r.rsp())).isEqualTo(CODE + 2);
        }
    }

    @Test
    void pageFaultPushesErrorCodeAndSetsCr2() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            // mov rax, 0x123456789000; mov byte [rax], 1
            m.load(CODE, bytes(0x48, 0xb8, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0, 0, 0xc6, 0x00, 0x01));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(vectorOf(r)).isEqualTo(14);
            assertThat(m.cpu.getSregs().cr2()).isEqualTo(0x123456789000L);
            assertThat(m.mem.readLong(r.rsp())).as("error code: write, not present").isEqualTo(2);
            assertThat(m.mem.readLong(r.rsp() + 8)).isEqualTo(CODE + 10);
        }
    }

    @Test
    void faultInTheMiddleOfABlockKeepsEarlierEffectsOnly() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            // mov ebx, 7; add ebx, 1; mov rax, 0x123456789000; mov byte [rax], 1; mov ebx, 99
            m.load(CODE, bytes(0xbb, 7, 0, 0, 0, 0x83, 0xc3, 0x01, 0x48, 0xb8, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0, 0,
                    0xc6, 0x00, 0x01, 0xbb, 99, 0, 0, 0));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(vectorOf(r)).isEqualTo(14);
            assertThat(r.rbx()).isEqualTo(8);
            assertThat(m.mem.readLong(r.rsp() + 8)).as("faulting RIP").isEqualTo(CODE + 18);
        }
    }

    @Test
    void repStringsAcrossPagesAndOverlappingMovsMatchTheElementLoop() {
        try (TestMachine m = TestMachine.longMode()) {
            m.load(CODE, bytes(
                    0x48, 0xc7, 0xc7, 0xfa, 0x0f, 0x20, 0x00, // mov rdi, 0x200ffa
                    0xb8, 0x44, 0x33, 0x22, 0x11, // mov eax, 0x11223344
                    0xb9, 8, 0, 0, 0, // mov ecx, 8
                    0xf3, 0xab, // rep stosd: 32 bytes, one element straddling the page at 0x201000
                    0xc6, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00, 0x41, // mov byte [0x300000], 'A'
                    0xbe, 0x00, 0x00, 0x30, 0x00, // mov esi, 0x300000
                    0xbf, 0x01, 0x00, 0x30, 0x00, // mov edi, 0x300001
                    0xb9, 16, 0, 0, 0, // mov ecx, 16
                    0xf3, 0xa4, // rep movsb, overlapping forwards: replicates 'A'
                    0xbe, 0xf8, 0x0f, 0x20, 0x00, // mov esi, 0x200ff8
                    0xbf, 0xf0, 0x0f, 0x40, 0x00, // mov edi, 0x400ff0
                    0xb9, 4, 0, 0, 0, // mov ecx, 4
                    0xf3, 0x48, 0xa5, // rep movsq across a page on both sides
                    0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            for (int i = 0; i < 8; i++) {
                assertThat(m.mem.readInt(0x200ffa + 4L * i)).isEqualTo(0x11223344);
            }
            assertThat(m.mem.readShort(0x20101a)).isZero();
            for (int i = 0; i <= 16; i++) {
                assertThat(m.mem.readByte(0x300000 + i)).as("byte %d", i).isEqualTo((byte) 'A');
            }
            assertThat(m.mem.readByte(0x300011)).isZero();
            for (int i = 0; i < 4; i++) {
                assertThat(m.mem.readLong(0x400ff0 + 8L * i)).isEqualTo(m.mem.readLong(0x200ff8 + 8L * i));
            }
            Regs r = m.cpu.getRegs();
            assertThat(r.rcx()).isZero();
            assertThat(r.rsi()).isEqualTo(0x200ff8 + 32);
            assertThat(r.rdi()).isEqualTo(0x400ff0 + 32);
        }
    }

    @Test
    void aLoopThatPatchesItsOwnCodeRunsThePatchedCode() {
        try (TestMachine m = TestMachine.longMode()) {
            // mov ecx, 10; xor eax, eax
            // L: add eax, 1; inc byte [rip - 7] (the immediate of that ADD); dec ecx; jnz L; hlt
            m.load(CODE, bytes(0xb9, 10, 0, 0, 0, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0xfe, 0x05, 0xf9, 0xff, 0xff, 0xff,
                    0xff, 0xc9, 0x75, 0xf3, 0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.cpu.getRegs().rax()).as("1 + 2 + ... + 10").isEqualTo(55);
        }
    }

    @Test
    void writeToReadOnlyPageIsAProtectionFault() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            // Make the 2 MiB page at 0x400000 read-only.
            m.mem.writeLong(0xB000 + 2 * 8, 0x400000 | 0x81);
            m.load(CODE, bytes(0xc6, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 0x01)); // mov byte [0x400000], 1
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(vectorOf(r)).isEqualTo(14);
            assertThat(m.mem.readLong(r.rsp())).isEqualTo(3);
            assertThat(m.cpu.getSregs().cr2()).isEqualTo(0x400000);
        }
    }

    @Test
    void faultWithoutUsableIdtIsATripleFault() {
        try (TestMachine m = TestMachine.longMode()) {
            Sregs s = m.cpu.getSregs();
            m.cpu.setSregs(s.withTables(s.gdt(), new DescriptorTable(0, 0)));
            m.load(CODE, bytes(0x0f, 0x0b));
            assertThat(m.run()).isEqualTo(VcpuExit.SHUTDOWN);
            assertThat(m.cpu.lastExitDetail()).contains("triple fault");
        }
    }

    @Test
    void softwareInterruptAndIretqReturn() {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            // handler for 0x20 is at HANDLERS + 0x200: inc rbx; iretq
            long off = HANDLERS + 0x200;
            long lo = (off & 0xffff) | (0x10L << 16) | (0xeL << 40) | (1L << 47) | (((off >>> 16) & 0xffff) << 48);
            m.mem.writeLong(IDT + 16 * 0x20, lo);
            m.mem.writeLong(IDT + 16 * 0x20 + 8, 0);
            Sregs s = m.cpu.getSregs();
            m.cpu.setSregs(s.withTables(s.gdt(), new DescriptorTable(IDT, 0x21 * 16 - 1)));
            m.load(off, bytes(0x48, 0xff, 0xc3, 0x48, 0xcf));
            m.load(CODE, bytes(0xcd, 0x20, 0xcd, 0x20, 0xf4)); // int 0x20; int 0x20; hlt
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(r.rbx()).isEqualTo(2);
            assertThat(r.rip()).isEqualTo(CODE + 5);
            assertThat(r.rsp()).isEqualTo(0x8ff0);
        }
    }

    @Test
    void realToProtectedToLongModeSwitch() {
        try (TestMachine m = TestMachine.real()) {
            m.identityPageTables();
            m.mem.writeShort(0x7e00, (short) 0x1f);
            m.mem.writeInt(0x7e02, 0x500);
            byte[] code = bytes(
                    0xfa, // cli
                    0x0f, 0x01, 0x16, 0x00, 0x7e, // lgdt [0x7e00]
                    0x0f, 0x20, 0xc0, // mov eax, cr0
                    0x0c, 0x01, // or al, 1
                    0x0f, 0x22, 0xc0, // mov cr0, eax
                    0x66, 0xea, 0x20, 0x7c, 0x00, 0x00, 0x08, 0x00, // jmp dword 0x08:0x7c20
                    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90);
            m.load(0x7c00, code);
            byte[] pm = bytes(
                    0x66, 0xb8, 0x18, 0x00, // mov ax, 0x18
                    0x8e, 0xd8, 0x8e, 0xd0, // mov ds, ax; mov ss, ax
                    0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0, // cr4 |= PAE
                    0xb8, 0x00, 0x90, 0x00, 0x00, 0x0f, 0x22, 0xd8, // cr3 = 0x9000
                    0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30, // EFER.LME
                    0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x22, 0xc0, // cr0 |= PG
                    0xea, 0x00, 0x7d, 0x00, 0x00, 0x10, 0x00); // jmp 0x10:0x7d00
            m.load(0x7c20, pm);
            m.load(0x7d00, bytes(0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xf4));
            assertThat(m.run()).as(m.cpu.lastExitDetail()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            Sregs s = m.cpu.getSregs();
            assertThat(r.rax()).isEqualTo(0x1122334455667788L);
            assertThat(s.efer() & 0x500).isEqualTo(0x500);
            assertThat(s.cs().selector()).isEqualTo(0x10);
            assertThat(s.cs().l()).isTrue();
            assertThat(s.cr0() & 0x80000001L).isEqualTo(0x80000001L);
        }
    }

    @Test
    void realModeInterruptThroughTheIvt() {
        try (TestMachine m = TestMachine.real()) {
            m.mem.writeInt(0x21 * 4, 0x0000_7e00); // IVT[0x21] = 0000:7e00
            m.load(0x7e00, bytes(0x43, 0xcf)); // inc bx; iret
            m.load(0x7c00, bytes(0xcd, 0x21, 0xcd, 0x21, 0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.cpu.getRegs().rbx()).isEqualTo(2);
            assertThat(m.cpu.getRegs().rsp()).isEqualTo(0x7000);
        }
    }

    @Test
    void portAndMmioAccessesGoToTheIoHandler() {
        try (TestMachine m = TestMachine.protected32()) {
            // mov dx, 0x3f8; mov al, 'A'; out dx, al; mov eax, [0xfed00030]; mov [0xfec00000], eax; hlt
            m.load(CODE, bytes(0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xa1, 0x30, 0x00, 0xd0, 0xfe, 0xa3, 0x00,
                    0x00, 0xc0, 0xfe, 0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.io.serial.toString()).isEqualTo("A");
            assertThat(m.io.log).containsExactly("mmio read fed00030/4", "mmio write fec00000/4=55667788");
            assertThat(m.cpu.getRegs().rax()).isEqualTo(0x55667788L);
        }
    }

    @Test
    void stackCallRetAndStringOps() {
        try (TestMachine m = TestMachine.longMode()) {
            // lea rdi,[0x300000]; mov ecx,16; mov al,0xab; rep stosb; lea rsi,[0x300000]; lea rdi,[0x300100];
            // mov ecx,16; rep movsb; call f; hlt; f: push rbx; mov ebx,7; pop rdx; ret
            m.load(CODE, bytes(0xbf, 0x00, 0x00, 0x30, 0x00, 0xb9, 0x10, 0, 0, 0, 0xb0, 0xab, 0xf3, 0xaa,
                    0xbe, 0x00, 0x00, 0x30, 0x00, 0xbf, 0x00, 0x01, 0x30, 0x00, 0xb9, 0x10, 0, 0, 0, 0xf3, 0xa4,
                    0xe8, 0x01, 0, 0, 0, 0xf4, 0x53, 0xbb, 0x07, 0, 0, 0, 0x5a, 0xc3));
            m.cpu.setRegs(new Regs(0, 0x55, 0, 0, 0, 0, 0x8ff0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CODE, 2));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            assertThat(m.mem.readLong(0x300108)).isEqualTo(0xababababababababL);
            assertThat(m.mem.readByte(0x300110)).isEqualTo((byte) 0);
            assertThat(r.rdx()).isEqualTo(0x55);
            assertThat(r.rbx()).isEqualTo(7);
            assertThat(r.rsp()).isEqualTo(0x8ff0);
            assertThat(r.rip()).isEqualTo(CODE + 37);
        }
    }

    @Test
    void lockedIncrementIsAtomicAcrossVcpuThreads() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            // mov ecx, 100000; L: lock inc qword [0x300000]; dec ecx; jnz L; hlt
            m.load(CODE, bytes(0xb9, 0xa0, 0x86, 0x01, 0x00, 0xf0, 0x48, 0xff, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00,
                    0xff, 0xc9, 0x75, 0xf3, 0xf4));
            Vcpu second = m.vm.createVcpu(1);
            assertThat(second.getMpState()).as("an AP waits for INIT/SIPI").isEqualTo(MpState.UNINITIALIZED);
            second.setSregs(m.cpu.getSregs());
            second.setRegs(m.cpu.getRegs());
            second.setMpState(MpState.RUNNABLE);
            VcpuExit[] exits = new VcpuExit[1];
            Thread t = new Thread(() -> exits[0] = second.run(new TestMachine.Io()));
            t.start();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            t.join();
            assertThat(exits[0]).isEqualTo(VcpuExit.HLT);
            assertThat(m.mem.readLong(0x300000)).isEqualTo(200000);
        }
    }

    @Test
    void kickInterruptsAnEndlessLoop() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            m.load(CODE, bytes(0xeb, 0xfe)); // jmp $
            Thread t = new Thread(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                m.cpu.kick();
            });
            t.start();
            assertThat(m.run()).isEqualTo(VcpuExit.INTERRUPTED);
            t.join();
            assertThat(m.cpu.getRegs().rip()).isEqualTo(CODE);
        }
    }

    @Test
    void cpuidReportsTheModel() {
        try (TestMachine m = TestMachine.longMode()) {
            m.load(CODE, bytes(0x31, 0xc0, 0x0f, 0xa2, 0xf4)); // xor eax,eax; cpuid; hlt
            m.run();
            Regs r = m.cpu.getRegs();
            String vendor = new String(new byte[] {(byte) r.rbx(), (byte) (r.rbx() >> 8), (byte) (r.rbx() >> 16),
                    (byte) (r.rbx() >> 24), (byte) r.rdx(), (byte) (r.rdx() >> 8), (byte) (r.rdx() >> 16),
                    (byte) (r.rdx() >> 24), (byte) r.rcx(), (byte) (r.rcx() >> 8), (byte) (r.rcx() >> 16),
                    (byte) (r.rcx() >> 24)});
            assertThat(vendor).isEqualTo(CpuModel.VENDOR);
        }
    }

    /** Measures interpretation speed on a simple loop; prints the rate (not an assertion on speed). */
    @Test
    void measureInstructionsPerSecond() {
        try (TestMachine m = TestMachine.longMode()) {
            // mov ecx, N; L: add rax, rcx; dec rcx; jnz L; hlt
            int n = 20_000_000;
            m.load(CODE, bytes(0xb9, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, 0x48, 0x01, 0xc8, 0x48,
                    0xff, 0xc9, 0x75, 0xf8, 0xf4));
            long before = m.cpu.instructionsRetired();
            long t0 = System.nanoTime();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            long ns = System.nanoTime() - t0;
            long insns = m.cpu.instructionsRetired() - before;
            assertThat(insns).isEqualTo(3L * n + 2);
            assertThat(m.cpu.getRegs().rax()).isEqualTo((long) n * (n + 1) / 2);
            System.out.printf("emu speed: %d instructions in %d ms = %.1f MIPS%n", insns, ns / 1_000_000,
                    insns * 1000.0 / ns);
        }
    }
}
