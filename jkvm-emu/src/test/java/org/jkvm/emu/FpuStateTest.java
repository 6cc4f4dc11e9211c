package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;

import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.VcpuExit;
import org.junit.jupiter.api.Test;

/** The x87/SSE state through Vcpu.getFpu/setFpu (kvm_fpu form) and CPUID's FPU/FXSR/SSE/SSE2 bits. */
class FpuStateTest {
    @Test
    void kvmFpuRoundTripAndUse() {
        try (TestMachine m = TestMachine.longMode()) {
            Sregs s = m.cpu.getSregs();
            m.cpu.setSregs(s.withControl(s.cr0(), s.cr3(), s.cr4() | 0x600, s.efer()));
            byte[] xmm = new byte[256];
            for (int i = 0; i < 16; i++) {
                xmm[i] = (byte) (0x10 + i);
            }
            byte[] fpr = new byte[128];
            // ST(0) = 1.0 (significand 0x8000000000000000, exponent 0x3FFF)
            fpr[7] = (byte) 0x80;
            fpr[8] = (byte) 0xff;
            fpr[9] = 0x3f;
            // TOP = 7, ST(0) (physical 7) valid
            m.cpu.setFpu(new Fpu(fpr, 0x37f, 7 << 11, 0x80, 0, 0, 0, xmm, 0x1f80));
            // movaps xmm1, xmm0; fld st(0); faddp st(1), st; hlt
            m.load(TestMachine.CODE, TestMachine.bytes(0x0f, 0x28, 0xc8, 0xd9, 0xc0, 0xde, 0xc1, 0xf4));
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Fpu f = m.cpu.getFpu();
            byte[] x = f.xmm();
            for (int i = 0; i < 16; i++) {
                assertThat(x[16 + i]).isEqualTo((byte) (0x10 + i));
            }
            assertThat(f.fsw() >>> 11 & 7).isEqualTo(7);
            assertThat(f.ftwx()).isEqualTo(0x80);
            // 1.0 + 1.0 = 2.0: exponent 0x4000
            assertThat(f.fpr()[9] & 0xff).isEqualTo(0x40);
            assertThat(f.fpr()[8] & 0xff).isEqualTo(0x00);
            assertThat(f.mxcsr()).isEqualTo(0x1f80);
        }
    }

    @Test
    void cpuidAdvertisesFpuFxsrSseSse2() {
        assertThat(CpuModel.LEAF1_EDX & (1 | 1 << 24 | 1 << 25 | 1 << 26)).isEqualTo(1 | 1 << 24 | 1 << 25 | 1 << 26);
    }
}
