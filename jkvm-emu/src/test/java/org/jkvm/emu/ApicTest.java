package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.emu.TestMachine.CODE;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;

import org.jkvm.emu.apic.LocalApic;
import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.VcpuExit;
import org.junit.jupiter.api.Test;

/**
 * The local APIC (SDM vol. 3A ch. 11): registers, IPIs between vCPU threads, INIT/SIPI, the timer through a 64-bit
 * IDT, HLT sleeping without CPU use and waking on an interrupt. Guest snippets are GNU as output (AT&T syntax in
 * the comments), for long mode with the first 4 GiB identity-mapped.
 */
class ApicTest {
    static final long IDT = 0x3000;
    static final long AP_CODE = 0x101000;
    static final long HANDLER = 0x102000;
    static final long TIMER_HANDLER = 0x102100;
    static final long NMI_HANDLER = 0x102200;
    static final long COUNT = 0x300000, READY = 0x300010, ISR_BEFORE = 0x300030, ISR_AFTER = 0x300034,
            TIMER_COUNT = 0x300040, TIMER_CURRENT = 0x300048, NMI_COUNT = 0x300050;

    /** Vector 0x40: saves the ISR word of vectors 64-95 before and after EOI, lock incq COUNT, EOI, iretq. */
    static final String HANDLER_40 = "5056be0000e0fe8b862001000089042530003000f048ff042500003000c786b000000000000000"
            + "8b8620010000890425340030005e5848cf";
    /** Vector 0x41: lock incq TIMER_COUNT, EOI, iretq. */
    static final String HANDLER_41 = "56be0000e0fef048ff042540003000c786b0000000000000005e48cf";
    /** Vector 2: lock incq NMI_COUNT; iretq. */
    static final String HANDLER_NMI = "f048ff04255000300048cf";
    /** movl $0x1ff, SVR; movl $1, READY; sti; 1: hlt; jmp 1b. */
    static final String RECEIVER = "be0000e0fec786f0000000ff010000c704251000300001000000fbf4ebfd";
    /**
     * SVR on; wait for READY; for i in 1..1000: ICR_HI = 1 << 24, ICR_LO = 0x4040 (fixed, vector 0x40); wait until
     * COUNT >= i; then hlt (IF = 0).
     */
    static final String SENDER = "be0000e0fec786f0000000ff010000f390833c25100030000074f4b901000000c78610030000"
            + "00000001c7860003000040400000f39048390c250000300072f4ffc181f9e903000075d6f4";
    /** A STARTUP IPI (vector 0x20) to APIC ID 1 without an INIT before it; hlt. */
    static final String SIPI_ONLY = "be0000e0fec7861003000000000001c7860003000020460000f4";
    /** INIT, INIT de-assert, STARTUP 0x20, STARTUP 0x20 to APIC ID 1; hlt. */
    static final String INIT_SIPI = "be0000e0fec7861003000000000001c7860003000000450000c7860003000000850000c786"
            + "0003000020460000c7860003000020460000f4";
    /** Real mode: mov %cs,%ax; mov %ax,%ds; movw $0xbeef,0x100; mov %ax,0x102; cli; hlt. */
    static final String AP_REAL = "8cc88ed8c7060001efbea30201faf4";
    /**
     * SVR on; LVT timer = 0x41 one-shot; divide by 1; initial count 2,000,000 (2 ms); sti; hlt; cli; store the
     * current count at TIMER_CURRENT; hlt.
     */
    static final String ONE_SHOT = "be0000e0fec786f0000000ff010000c7862003000041000000c786e00300000b000000c7868003"
            + "000080841e00fbf4fa8b869003000089042548003000f4";
    /** SVR on; LVT timer = 0x41 periodic; divide by 1; 1 ms period; sti; hlt until TIMER_COUNT >= 5; stop; hlt. */
    static final String PERIODIC = "be0000e0fec786f0000000ff010000c7862003000041000200c786e00300000b000000c7868003"
            + "000040420f00fbf448833c25400030000572f4fac7868003000000000000f4";

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    /** A 64-bit IDT at {@link #IDT} with interrupt gates for vectors 2, 0x40 and 0x41 and their handlers. */
    static void idt(TestMachine m) {
        gate(m, 2, NMI_HANDLER);
        gate(m, 0x40, HANDLER);
        gate(m, 0x41, TIMER_HANDLER);
        m.load(HANDLER, hex(HANDLER_40));
        m.load(TIMER_HANDLER, hex(HANDLER_41));
        m.load(NMI_HANDLER, hex(HANDLER_NMI));
        Sregs s = m.cpu.getSregs();
        m.cpu.setSregs(s.withTables(s.gdt(), new DescriptorTable(IDT, 256 * 16 - 1)));
    }

    static void gate(TestMachine m, int v, long off) {
        long lo = (off & 0xffff) | (0x10L << 16) | (0xeL << 40) | (1L << 47) | (((off >>> 16) & 0xffff) << 48);
        m.mem.writeLong(IDT + 16L * v, lo);
        m.mem.writeLong(IDT + 16L * v + 8, off >>> 32);
    }

    /** vCPU 1 in the same long-mode state as vCPU 0, at {@code rip} with its own stack. */
    static EmuVcpu secondCpu(TestMachine m, long rip) {
        EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
        ap.setSregs(m.cpu.getSregs());
        ap.setRegs(new Regs(0, 0, 0, 0, 0, 0, 0x7ff0, 0, 0, 0, 0, 0, 0, 0, 0, 0, rip, 2));
        ap.setMpState(MpState.RUNNABLE);
        return ap;
    }

    static Thread runOn(EmuVcpu v, AtomicReference<VcpuExit> exit) {
        return Thread.ofPlatform().name("test-vcpu-" + v.index()).start(() -> exit.set(v.run(new TestMachine.Io())));
    }

    static void waitFor(java.util.function.BooleanSupplier cond, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000;
        while (!cond.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
    }

    /** A PIC stand-in on LINT0: INTR asserted until acknowledged, then vector 0x40. */
    static final class FakePic implements org.jkvm.hypervisor.ExtIntSource {
        final java.util.concurrent.atomic.AtomicBoolean intr = new java.util.concurrent.atomic.AtomicBoolean(true);
        final java.util.concurrent.atomic.AtomicInteger acks = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public boolean interruptRequested() {
            return intr.get();
        }

        @Override
        public int acknowledge() {
            acks.incrementAndGet();
            intr.set(false);
            return 0x40;
        }
    }

    @Test
    void picInterruptArrivesThroughLint0InExtIntModeAndWakesHlt() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            FakePic pic = new FakePic();
            Runnable raised = m.vm.connectExtInt(pic);
            m.load(TestMachine.CODE, hex("fbf4faf4")); // sti; hlt; cli; hlt
            raised.run();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(pic.acks.get()).isEqualTo(1);
            assertThat(m.mem.readLong(COUNT)).as("the handler ran once").isEqualTo(1);
            assertThat(m.cpu.getRegs().rip()).isEqualTo(TestMachine.CODE + 4);
        }
    }

    @Test
    void maskedLint0IgnoresThePic() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            FakePic pic = new FakePic();
            m.vm.connectExtInt(pic).run();
            m.cpu.localApic().write(LocalApic.LVT_LINT0, 0x10700);
            m.load(TestMachine.CODE, hex("fb9090faf4")); // sti; nop; nop; cli; hlt
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(pic.acks.get()).isZero();
            assertThat(m.mem.readLong(COUNT)).isZero();
        }
    }

    @Test
    void registersAfterPowerUp() {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            LocalApic a = m.cpu.localApic();
            LocalApic b = ap.localApic();
            assertThat(a.read(LocalApic.ID)).isEqualTo(0);
            assertThat(b.read(LocalApic.ID)).isEqualTo(1 << 24);
            assertThat(a.read(LocalApic.VERSION)).isEqualTo(0x50014);
            assertThat(a.read(LocalApic.SVR)).as("software-disabled, spurious 0xFF").isEqualTo(0xff);
            assertThat(a.read(LocalApic.DFR)).isEqualTo(0xffffffff);
            assertThat(a.read(LocalApic.LVT_TIMER)).isEqualTo(0x10000);
            assertThat(a.read(LocalApic.LVT_ERROR)).isEqualTo(0x10000);
            assertThat(a.read(LocalApic.LVT_LINT0)).as("ExtINT, as firmware leaves it").isEqualTo(0x700);
            assertThat(a.read(LocalApic.LVT_LINT1)).as("NMI").isEqualTo(0x400);
            assertThat(a.read(LocalApic.TIMER_DIVIDE)).isZero();
            assertThat(m.cpu.getMsrs(0x1b).get(0).value()).as("BSP: enabled, BSP flag").isEqualTo(0xfee00900L);
            assertThat(ap.getMsrs(0x1b).get(0).value()).isEqualTo(0xfee00800L);
            assertThat(ap.getSregs().apicBase()).isEqualTo(0xfee00800L);
        }
    }

    @Test
    void registerWritesReadBackAsTheSdmDefines() {
        try (TestMachine m = TestMachine.longMode()) {
            LocalApic a = m.cpu.localApic();
            a.write(LocalApic.LVT_TIMER, 0x20041);
            assertThat(a.read(LocalApic.LVT_TIMER)).as("software-disabled: stays masked").isEqualTo(0x30041);
            a.write(LocalApic.SVR, 0x1ff);
            assertThat(a.read(LocalApic.SVR)).isEqualTo(0x1ff);
            a.write(LocalApic.LVT_TIMER, 0xfffe0041);
            assertThat(a.read(LocalApic.LVT_TIMER)).as("mode bits kept (as KVM), reserved bits dropped")
                    .isEqualTo(0x60041);
            a.write(LocalApic.TPR, 0x5f);
            assertThat(a.read(LocalApic.TPR)).isEqualTo(0x5f);
            assertThat(m.cpu.getSregs().cr8()).as("TPR[7:4] is CR8").isEqualTo(5);
            assertThat(a.read(LocalApic.PPR)).isEqualTo(0x5f);
            a.write(LocalApic.LDR, 0x12345678);
            assertThat(a.read(LocalApic.LDR)).isEqualTo(0x12000000);
            a.write(LocalApic.DFR, 0x0);
            assertThat(a.read(LocalApic.DFR)).as("cluster model").isEqualTo(0x0fffffff);
            a.write(LocalApic.ID, 0x07000000);
            assertThat(a.read(LocalApic.ID)).isEqualTo(0x07000000);
            a.write(LocalApic.VERSION, 0);
            assertThat(a.read(LocalApic.VERSION)).as("read-only").isEqualTo(0x50014);
            a.write(LocalApic.TIMER_DIVIDE, 0xffffffff);
            assertThat(a.read(LocalApic.TIMER_DIVIDE)).isEqualTo(0xb);
            a.write(LocalApic.ICR_HI, 0x01ffffff);
            assertThat(a.read(LocalApic.ICR_HI)).isEqualTo(0x01000000);
            // An illegal register and a fixed IPI with a vector below 16 are errors, latched by an ESR write.
            a.read(0x3f0);
            a.write(LocalApic.ICR_LO, 0x4005);
            assertThat(a.read(LocalApic.ICR_LO) & (1 << 12)).as("delivery status idle").isZero();
            assertThat(a.read(LocalApic.ESR)).as("not latched yet").isZero();
            a.write(LocalApic.ESR, 0);
            assertThat(a.read(LocalApic.ESR)).isEqualTo(LocalApic.ESR_ILLEGAL_REGISTER
                    | LocalApic.ESR_SEND_ILLEGAL_VECTOR);
            a.write(LocalApic.ESR, 0);
            assertThat(a.read(LocalApic.ESR)).isZero();
            // Turning software enable off masks every LVT entry.
            a.write(LocalApic.SVR, 0xff);
            assertThat(a.read(LocalApic.LVT_TIMER)).isEqualTo(0x70041);
            assertThat(a.read(LocalApic.LVT_LINT1)).isEqualTo(0x10400);
        }
    }

    @Test
    void guestAccessesReachTheApicNotTheIoHandler() {
        try (TestMachine m = TestMachine.longMode()) {
            // mov $0xfee00000,%esi; mov 0x30(%rsi),%eax; hlt
            m.load(CODE, hex("be0000e0fe8b4630f4"));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.cpu.getRegs().rax()).isEqualTo(0x50014);
            assertThat(m.io.log).isEmpty();
        }
    }

    @Test
    void ipiRoutingByPhysicalLogicalAndShorthand() {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            LocalApic a = m.cpu.localApic();
            LocalApic b = ap.localApic();
            a.write(LocalApic.SVR, 0x1ff);
            a.write(LocalApic.ICR_HI, 1 << 24);
            a.write(LocalApic.ICR_LO, 0x4050);
            assertThat(b.read(LocalApic.IRR + 0x20)).as("vCPU 1 software-disabled: dropped").isZero();
            b.write(LocalApic.SVR, 0x1ff);
            a.write(LocalApic.ICR_LO, 0x4050);
            assertThat(b.read(LocalApic.IRR + 0x20)).isEqualTo(1 << 16);
            assertThat(a.read(LocalApic.IRR + 0x20)).isZero();
            // Logical, flat model: vCPU 1 has logical ID bit 1.
            b.write(LocalApic.LDR, 0x02000000);
            a.write(LocalApic.ICR_HI, 0x02000000);
            a.write(LocalApic.ICR_LO, 0x8000 | 0x4800 | 0x61); // logical, level-triggered, vector 0x61
            assertThat(b.read(LocalApic.IRR + 0x30)).isEqualTo(1 << 1);
            assertThat(b.read(LocalApic.TMR + 0x30)).as("level-triggered").isEqualTo(1 << 1);
            // Shorthands: self; all excluding self.
            a.write(LocalApic.ICR_LO, (1 << 18) | 0x70);
            assertThat(a.read(LocalApic.IRR + 0x30)).isEqualTo(1 << 16);
            b.write(LocalApic.ICR_LO, (3 << 18) | 0x71);
            assertThat(a.read(LocalApic.IRR + 0x30)).isEqualTo(3 << 16);
            assertThat(b.read(LocalApic.IRR + 0x30) & (1 << 17)).isZero();
            // Priorities: 0x61 is the highest pending vector on vCPU 1; a TPR of class 6 masks it.
            assertThat(b.deliverableVector()).isEqualTo(0x61);
            b.write(LocalApic.TPR, 0x60);
            assertThat(b.deliverableVector()).isEqualTo(-1);
            b.write(LocalApic.TPR, 0x50);
            assertThat(b.deliverableVector()).isEqualTo(0x61);
            // Physical broadcast 0xFF reaches both.
            a.write(LocalApic.ICR_HI, 0xff000000);
            a.write(LocalApic.ICR_LO, 0x4090);
            assertThat(a.read(LocalApic.IRR + 0x40)).isEqualTo(1 << 16);
            assertThat(b.read(LocalApic.IRR + 0x40)).isEqualTo(1 << 16);
        }
    }

    /**
     * x2APIC mode by WRMSR IA32_APIC_BASE: x2APIC ID (0x802) and derived LDR (0x80D) saved at 0x300060/64; SVR on
     * (0x80F); a store to the xAPIC page (0xFEE00080), which is no longer decoded; TPR (0x808) saved at 0x300068;
     * sti; SELF IPI vector 0x40 (0x83F); nop; cli; hlt.
     */
    static final String X2APIC_SELF_IPI = "b91b0000000f320d000400000f30b9020800000f3289042560003000b90d0800000f32890425"
            + "64003000b90f080000b8ff01000031d20f30be8000e0fec70634120000b9080800000f3289042568003000fbb93f080000b840"
            + "0000000f3090faf4";
    /** Vector 0x40 in x2APIC mode: lock incq COUNT; EOI by WRMSR 0x80B = 0; iretq. */
    static final String HANDLER_40_X2 = "505152f048ff042500003000b90b08000031c031d20f305a595848cf";

    @Test
    void x2apicModeServesRegistersAsMsrsAndTheSelfIpiArrives() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(HANDLER, hex(HANDLER_40_X2));
            m.load(CODE, hex(X2APIC_SELF_IPI));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.cpu.getMsrs(0x1b).get(0).value()).isEqualTo(0xfee00d00L);
            assertThat(m.mem.readInt(0x300060)).as("x2APIC ID").isZero();
            assertThat(m.mem.readInt(0x300064)).as("LDR: cluster 0, bit 0").isEqualTo(1);
            assertThat(m.mem.readLong(COUNT)).as("self IPI taken once").isEqualTo(1);
            assertThat(m.cpu.localApic().read(LocalApic.ISR + 0x20)).as("EOI by MSR").isZero();
            assertThat(m.io.log).as("the xAPIC page is not decoded in x2APIC mode")
                    .containsExactly("mmio write fee00080/4=1234");
            assertThat(m.mem.readInt(0x300068)).as("TPR untouched by the MMIO store").isZero();
        }
    }

    @Test
    void x2apicRoutesByThirtyTwoBitIdsAndClusters() {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            LocalApic a = m.cpu.localApic();
            LocalApic b = ap.localApic();
            a.writeApicBase(0xfee00d00L);
            b.writeApicBase(0xfee00c00L);
            assertThat(b.x2apicRead(0x802)).isEqualTo(1);
            assertThat(b.x2apicRead(0x80d)).as("cluster 0, bit 1").isEqualTo(2);
            a.x2apicWrite(0x80f, 0x1ff);
            b.x2apicWrite(0x80f, 0x1ff);
            // Physical: the 32-bit destination in ICR bits 63:32; 0x00000101 is not APIC 1.
            a.x2apicWrite(0x830, (0x101L << 32) | 0x4050);
            assertThat(b.read(LocalApic.IRR + 0x20)).isZero();
            a.x2apicWrite(0x830, (1L << 32) | 0x4050);
            assertThat(b.read(LocalApic.IRR + 0x20)).isEqualTo(1 << 16);
            assertThat(a.x2apicRead(0x830)).isEqualTo((1L << 32) | 0x4050);
            // Logical: cluster 0, member bit 1.
            a.x2apicWrite(0x830, (2L << 32) | 0x4800 | 0x61);
            assertThat(b.read(LocalApic.IRR + 0x30)).isEqualTo(1 << 1);
            a.x2apicWrite(0x830, ((1L << 16 | 2L) << 32) | 0x4800 | 0x62);
            assertThat(b.read(LocalApic.IRR + 0x30) & (1 << 2)).as("cluster 1 is not vCPU 1's").isZero();
            // Broadcast: 0xFFFFFFFF from an ICR, 0xFF from an IOAPIC or MSI message.
            a.x2apicWrite(0x830, (0xffffffffL << 32) | 0x4090);
            assertThat(a.read(LocalApic.IRR + 0x40)).isEqualTo(1 << 16);
            assertThat(b.read(LocalApic.IRR + 0x40)).isEqualTo(1 << 16);
            a.x2apicWrite(0x830, (0xffL << 32) | 0x4091);
            assertThat(b.read(LocalApic.IRR + 0x40) & (1 << 17)).as("0xFF is an ID in an x2APIC ICR").isZero();
            m.vm.apicBus().deliver(0xff, false, 0x92, LocalApic.DM_FIXED, false, false);
            assertThat(b.read(LocalApic.IRR + 0x40) & (1 << 18)).isNotZero();
        }
    }

    @Test
    void x2apicFaultsOnWhatTheSdmForbids() {
        try (TestMachine m = TestMachine.longMode()) {
            LocalApic a = m.cpu.localApic();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicRead(0x802))
                    .as("xAPIC mode: the MSRs are absent").isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.writeApicBase(0xfee00500L))
                    .as("EXTD without EN").isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.writeApicBase(0xfee00901L))
                    .as("reserved bit").isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            a.writeApicBase(0xfee00d00L);
            for (int msr : new int[] {0x800, 0x809, 0x80c, 0x80e, 0x831, 0x8ff}) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicRead(msr)).as("absent 0x%x", msr)
                        .isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            }
            for (int msr : new int[] {0x802, 0x803, 0x80a, 0x80d, 0x810, 0x820, 0x839}) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicWrite(msr, 0))
                        .as("read-only 0x%x", msr).isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicRead(0x80b)).as("EOI is write-only")
                    .isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicWrite(0x80b, 1)).as("non-zero EOI")
                    .isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.x2apicWrite(0x808, 1L << 32))
                    .as("bits 63:32").isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.writeApicBase(0xfee00900L))
                    .as("x2APIC to xAPIC").isInstanceOf(org.jkvm.emu.cpu.CpuFault.class);
            a.x2apicWrite(0x808, 0x30);
            assertThat(a.x2apicRead(0x808)).isEqualTo(0x30);
            assertThat(m.cpu.getSregs().cr8()).isEqualTo(3);
            // Disabling returns the APIC to its power-up state; from there xAPIC mode again.
            a.writeApicBase(0xfee00100L);
            a.writeApicBase(0xfee00900L);
            assertThat(a.read(LocalApic.TPR)).isZero();
            assertThat(a.read(LocalApic.SVR)).isEqualTo(0xff);
            assertThat(a.read(LocalApic.VERSION)).as("the page is decoded again").isEqualTo(0x50014);
        }
    }

    @Test
    void ipisBetweenTwoVcpuThreadsWakeTheHaltedReceiver() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(CODE, hex(SENDER));
            m.load(AP_CODE, hex(RECEIVER));
            EmuVcpu ap = secondCpu(m, AP_CODE);
            AtomicReference<VcpuExit> apExit = new AtomicReference<>();
            Thread t = runOn(ap, apExit);
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.mem.readLong(COUNT)).as("1000 IPIs, none lost").isEqualTo(1000);
            assertThat(m.mem.readInt(ISR_BEFORE)).as("in service during the handler").isEqualTo(1);
            assertThat(m.mem.readInt(ISR_AFTER)).as("EOI clears ISR").isZero();
            waitFor(() -> ap.getMpState() == MpState.HALTED, 1000);
            assertThat(ap.getMpState()).isEqualTo(MpState.HALTED);
            ap.kick();
            t.join(5000);
            assertThat(apExit.get()).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(ap.localApic().read(LocalApic.ISR + 0x20)).isZero();
        }
    }

    @Test
    void initAndStartupIpiStartTheApInRealModeAtVectorTimes4K() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            m.load(0x20000, hex(AP_REAL));
            AtomicReference<VcpuExit> apExit = new AtomicReference<>();
            Thread t = runOn(ap, apExit);
            // A STARTUP without INIT first is ignored (as KVM does): the AP keeps waiting.
            m.load(CODE, hex(SIPI_ONLY));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Thread.sleep(50);
            assertThat(t.isAlive()).isTrue();
            assertThat(ap.getMpState()).isEqualTo(MpState.UNINITIALIZED);

            m.load(CODE, hex(INIT_SIPI));
            m.cpu.setRegs(m.cpu.getRegs().withRip(CODE));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            t.join(5000);
            assertThat(apExit.get()).as("cli; hlt").isEqualTo(VcpuExit.HLT);
            Sregs s = ap.getSregs();
            assertThat(s.cs().selector()).isEqualTo(0x2000);
            assertThat(s.cs().base()).isEqualTo(0x20000);
            assertThat(s.cr0() & 1).as("real mode").isZero();
            assertThat(s.efer()).isZero();
            assertThat(ap.getRegs().rip()).as("past the HLT at IP 14").isEqualTo(15);
            assertThat(m.mem.readShort(0x20100)).isEqualTo((short) 0xbeef);
            assertThat(m.mem.readShort(0x20102)).isEqualTo((short) 0x2000);
            assertThat(ap.getRegs().rdx()).as("EDX after INIT: the CPU signature").isEqualTo(0x620);
        }
    }

    @Test
    void oneShotTimerInterruptsThroughTheIdt() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(CODE, hex(ONE_SHOT));
            long t0 = System.nanoTime();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            long ns = System.nanoTime() - t0;
            assertThat(m.mem.readLong(TIMER_COUNT)).isEqualTo(1);
            assertThat(ns).as("fired after the 2 ms count").isGreaterThanOrEqualTo(2_000_000);
            assertThat(m.mem.readInt(TIMER_CURRENT)).as("current count after expiry").isZero();
            assertThat(m.cpu.localApic().read(LocalApic.TIMER_INITIAL)).isEqualTo(2_000_000);
        }
    }

    /**
     * SVR on; LVT timer = 0x41 in TSC-deadline mode; initial count 1000 (ignored in that mode); IA32_TSC_DEADLINE =
     * TSC + 3 ms; sti; hlt; cli; store IA32_TSC_DEADLINE's low half at TIMER_CURRENT and the current count at
     * TIMER_CURRENT + 4; hlt.
     */
    static final String TSC_DEADLINE = "be0000e0fec786f0000000ff010000c7862003000041000400c78680030000e80300000f3105"
            + "c0c62d0083d200b9e00600000f30fbf4fa0f32890425480030008b86900300008904254c003000f4";

    @Test
    void tscDeadlineTimerFiresWhenTheTscReachesTheDeadline() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(CODE, hex(TSC_DEADLINE));
            long t0 = System.nanoTime();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            long ns = System.nanoTime() - t0;
            assertThat(m.mem.readLong(TIMER_COUNT)).isEqualTo(1);
            assertThat(ns).as("fired after the 3 ms deadline").isGreaterThanOrEqualTo(3_000_000);
            assertThat(m.mem.readInt(TIMER_CURRENT)).as("IA32_TSC_DEADLINE reads 0 once fired").isZero();
            assertThat(m.mem.readInt(TIMER_CURRENT + 4)).as("no count in TSC-deadline mode").isZero();
            assertThat(m.cpu.localApic().read(LocalApic.TIMER_INITIAL)).as("initial count ignored").isZero();
        }
    }

    @Test
    void periodicTimerReloads() {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(CODE, hex(PERIODIC));
            long t0 = System.nanoTime();
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            long ns = System.nanoTime() - t0;
            assertThat(m.mem.readLong(TIMER_COUNT)).isEqualTo(5);
            assertThat(ns).isGreaterThanOrEqualTo(5_000_000);
            assertThat(m.cpu.localApic().read(LocalApic.TIMER_CURRENT)).as("stopped").isZero();
        }
    }

    @Test
    void currentCountCountsDownAtTheDividedRate() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            LocalApic a = m.cpu.localApic();
            a.write(LocalApic.TIMER_DIVIDE, 0xa); // divide by 128
            long t0 = System.nanoTime();
            a.write(LocalApic.TIMER_INITIAL, 1_000_000); // 128 ms
            Thread.sleep(20);
            int c = a.read(LocalApic.TIMER_CURRENT);
            long ns = System.nanoTime() - t0;
            assertThat(c).isBetween((int) Math.max(0, 1_000_000 - ns / 128), 1_000_000 - 20_000_000 / 128);
            a.write(LocalApic.TIMER_INITIAL, 0);
            assertThat(a.read(LocalApic.TIMER_CURRENT)).isZero();
        }
    }

    @Test
    void haltedVcpuSleepsWithoutCpuAndWakesOnAnInterrupt() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            idt(m);
            m.load(AP_CODE, hex(RECEIVER));
            EmuVcpu ap = secondCpu(m, AP_CODE);
            AtomicReference<VcpuExit> apExit = new AtomicReference<>();
            Thread t = runOn(ap, apExit);
            waitFor(() -> ap.getMpState() == MpState.HALTED, 2000);
            assertThat(ap.getMpState()).isEqualTo(MpState.HALTED);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(t.threadId());
            Thread.sleep(200);
            long cpuNs = mx.getThreadCpuTime(t.threadId()) - cpu0;
            assertThat(cpuNs).as("CPU time while halted for 200 ms").isLessThan(20_000_000);
            assertThat(t.isAlive()).isTrue();

            // An interrupt message as an IOAPIC would send it: physical destination 1, fixed, vector 0x40.
            m.vm.apicBus().deliver(1, false, 0x40, LocalApic.DM_FIXED, true, false);
            waitFor(() -> m.mem.readLong(COUNT) == 1, 2000);
            assertThat(m.mem.readLong(COUNT)).isEqualTo(1);
            // An NMI wakes it too, through vector 2.
            m.vm.apicBus().deliver(1, false, 0, LocalApic.DM_NMI, true, false);
            waitFor(() -> m.mem.readLong(NMI_COUNT) == 1, 2000);
            assertThat(m.mem.readLong(NMI_COUNT)).isEqualTo(1);
            waitFor(() -> ap.getMpState() == MpState.HALTED, 2000);
            ap.kick();
            t.join(5000);
            assertThat(apExit.get()).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(ap.getMpState()).as("still halted after the kick").isEqualTo(MpState.HALTED);
        }
    }

    @Test
    void waitingForSipiSleepsUntilKicked() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            AtomicReference<VcpuExit> apExit = new AtomicReference<>();
            Thread t = runOn(ap, apExit);
            Thread.sleep(100);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            assertThat(mx.getThreadCpuTime(t.threadId())).isLessThan(50_000_000);
            ap.kick();
            t.join(5000);
            assertThat(apExit.get()).isEqualTo(VcpuExit.INTERRUPTED);
            assertThat(ap.getMpState()).isEqualTo(MpState.UNINITIALIZED);
        }
    }

    @Test
    void hltWithInterruptsOffAndNothingPendingReturnsHlt() {
        try (TestMachine m = TestMachine.longMode()) {
            m.load(CODE, hex("f4")); // hlt with IF = 0
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            assertThat(m.cpu.getMpState()).isEqualTo(MpState.HALTED);
            assertThat(m.cpu.getRegs().rip()).isEqualTo(CODE + 1);
        }
    }
}
