package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.jkvm.emu.cpu.Msrs;
import org.jkvm.hypervisor.MsrEntry;
import org.junit.jupiter.api.Test;

/** The TSC: one clock for all vCPUs of a VM, as Linux's TSC synchronisation check requires. */
class TscTest {
    private static long tsc(EmuVcpu v) {
        return v.getMsrs(Msrs.TSC).get(0).value();
    }

    @Test
    void zeroWrittenToEachVcpuInTurnLeavesTheirTscsEqual() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            m.cpu.setMsrs(List.of(new MsrEntry(Msrs.TSC, 0)));
            Thread.sleep(30); // the VMM sets vCPUs up one after another
            ap.setMsrs(List.of(new MsrEntry(Msrs.TSC, 0)));
            long bsp = tsc(m.cpu);
            long apTsc = tsc(ap);
            long bspAgain = tsc(m.cpu);
            assertThat(bsp).isGreaterThanOrEqualTo(30_000_000L);
            assertThat(apTsc).isBetween(bsp, bspAgain);
        }
    }

    @Test
    void aWriteFarFromTheVmClockStandsOnItsOwn() throws Exception {
        try (TestMachine m = TestMachine.longMode()) {
            EmuVcpu ap = (EmuVcpu) m.vm.createVcpu(1);
            m.cpu.setMsrs(List.of(new MsrEntry(Msrs.TSC, 0)));
            ap.setMsrs(List.of(new MsrEntry(Msrs.TSC, 100_000_000_000L)));
            assertThat(tsc(ap) - tsc(m.cpu)).isBetween(99_000_000_000L, 100_000_000_000L);
        }
    }

    @Test
    void tscAdjustWrittenByTheGuestMovesTheTscButHostTscWritesLeaveItAlone() {
        try (TestMachine m = TestMachine.longMode()) {
            m.cpu.setMsrs(List.of(new MsrEntry(Msrs.TSC, 0)));
            assertThat(m.cpu.getMsrs(Msrs.TSC_ADJUST).get(0).value()).isZero();
            // mov ecx, 0x3b; mov eax, 1000000000; xor edx, edx; wrmsr; rdtsc; hlt
            m.load(TestMachine.CODE, TestMachine.bytes(0xb9, 0x3b, 0, 0, 0, 0xb8, 0x00, 0xca, 0x9a, 0x3b, 0x31, 0xd2,
                    0x0f, 0x30, 0x0f, 0x31, 0xf4));
            m.run();
            long rdtsc = (m.cpu.getRegs().rdx() << 32) | (m.cpu.getRegs().rax() & 0xffffffffL);
            assertThat(rdtsc).isBetween(1_000_000_000L, 1_000_000_000L + 5_000_000_000L);
            assertThat(m.cpu.getMsrs(Msrs.TSC_ADJUST).get(0).value()).isEqualTo(1_000_000_000L);
        }
    }
}
