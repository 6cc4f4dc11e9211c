package org.jkvm.emu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.emu.SystemTest.longIdt;
import static org.jkvm.emu.SystemTest.vectorOf;
import static org.jkvm.emu.TestMachine.CODE;
import static org.jkvm.emu.TestMachine.bytes;

import org.jkvm.emu.cpu.CpuFault;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.VcpuExit;
import org.junit.jupiter.api.Test;

/**
 * When MMX instructions fault (SDM vol. 3A 13.5, vol. 2 MMX instructions' exception tables): #UD with CR0.EM, #NM
 * with CR0.TS, #MF with an unmasked x87 exception pending, #UD for forms that do not exist; and that they need no
 * CR4.OSFXSR (the test machine runs with it clear).
 */
class MmxFaultTest {
    static final long CR0_EM = 1 << 2, CR0_TS = 1 << 3;

    /** Runs {@code code} (then HLT) on a long-mode machine with an IDT; returns the vector taken, or -1. */
    static int run(byte[] code, long cr0Set, int fsw) {
        try (TestMachine m = TestMachine.longMode()) {
            longIdt(m);
            Sregs s = m.cpu.getSregs();
            m.cpu.setSregs(s.withControl(s.cr0() | cr0Set, s.cr3(), s.cr4(), s.efer()));
            if (fsw != 0) {
                Fpu f = m.cpu.getFpu();
                m.cpu.setFpu(new Fpu(f.fpr(), 0x37f & ~1, fsw, f.ftwx(), 0, 0, 0, f.xmm(), f.mxcsr()));
            }
            byte[] prog = new byte[code.length + 1];
            System.arraycopy(code, 0, prog, 0, code.length);
            prog[code.length] = (byte) 0xf4;
            m.load(CODE, prog);
            assertThat(m.run()).isEqualTo(VcpuExit.HLT);
            Regs r = m.cpu.getRegs();
            if (r.rip() == CODE + prog.length) {
                return -1;
            }
            assertThat(m.mem.readLong(r.rsp())).as("the faulting instruction's RIP").isEqualTo(CODE);
            return vectorOf(r);
        }
    }

    @Test
    void mmxRunsWithoutOsfxsrAndFaultsAsTheSdmSays() {
        byte[] movq = bytes(0x0f, 0x6f, 0xc1); // movq mm0, mm1
        assertThat(run(movq, 0, 0)).as("CR4.OSFXSR clear: MMX still runs").isEqualTo(-1);
        assertThat(run(bytes(0x0f, 0x77), 0, 0)).as("EMMS").isEqualTo(-1);
        assertThat(run(movq, CR0_EM, 0)).isEqualTo(CpuFault.UD);
        assertThat(run(movq, CR0_TS, 0)).isEqualTo(CpuFault.NM);
        assertThat(run(bytes(0x0f, 0x77), CR0_TS, 0)).as("EMMS too").isEqualTo(CpuFault.NM);
        // FSW.ES|ZE (a zero divide left unmasked): the next MMX instruction takes #MF
        assertThat(run(movq, 0, 0x84)).isEqualTo(CpuFault.MF);
    }

    @Test
    void formsThatDoNotExistAreUd() {
        assertThat(run(bytes(0x0f, 0x73, 0xd8, 0x01), 0, 0)).as("PSRLDQ has no MMX form").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0x0f, 0x71, 0xc8, 0x01), 0, 0)).as("group 12 /1").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0x0f, 0x6c, 0xc1), 0, 0)).as("PUNPCKLQDQ has no MMX form").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0x0f, 0xe7, 0xc1), 0, 0)).as("MOVNTQ to a register").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0x0f, 0xd7, 0x06), 0, 0)).as("PMOVMSKB from memory").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0x0f, 0xd6, 0xc1), 0, 0)).as("0F D6 without a prefix").isEqualTo(CpuFault.UD);
        assertThat(run(bytes(0xf3, 0x0f, 0xd6, 0x06), 0, 0)).as("MOVQ2DQ from memory").isEqualTo(CpuFault.UD);
    }
}
