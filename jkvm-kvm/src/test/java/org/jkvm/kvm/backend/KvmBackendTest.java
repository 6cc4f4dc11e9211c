package org.jkvm.kvm.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tiny guest programs on /dev/kvm through the backend interface. Skipped without /dev/kvm unless CI=true. */
class KvmBackendTest {
    private KvmHypervisor hv;
    private Vm vm;
    private GuestMemory mem;
    private Vcpu vcpu;
    private final List<String> events = new ArrayList<>();

    private final IoHandler recorder = new IoHandler() {
        @Override
        public int pioRead(int port, int size) {
            events.add(String.format("in %x/%d", port, size));
            return 0x5a;
        }

        @Override
        public void pioWrite(int port, int size, int value) {
            events.add(String.format("out %x/%d=%x", port, size, value));
            if (port == 0xf4) {
                vcpu.kick();
            }
        }

        @Override
        public long mmioRead(long gpa, int size) {
            events.add(String.format("mmio-read %x/%d", gpa, size));
            return 0x11223344L;
        }

        @Override
        public void mmioWrite(long gpa, int size, long value) {
            events.add(String.format("mmio-write %x/%d=%x", gpa, size, value));
        }
    };

    @BeforeEach
    void setUp() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
        hv = KvmHypervisor.open();
        vm = hv.createVm(new VmOptions(1));
        mem = MmapGuestMemory.create(PcMemoryLayout.of(64L << 20));
        vm.setMemory(mem);
        vcpu = vm.createVcpu(0);
    }

    @AfterEach
    void tearDown() {
        if (vcpu != null) {
            vcpu.close();
            vm.close();
            mem.close();
            hv.close();
        }
    }

    private void realModeAt(long gpa) {
        Sregs s = vcpu.getSregs();
        Segment cs = Segment.real(0, 0xb);
        Segment ds = Segment.real(0, 3);
        vcpu.setSregs(s.withSegments(cs, ds, ds, ds, ds, ds));
        vcpu.setRegs(Regs.RESET.withRip(gpa));
    }

    @Test
    void realModePortIoReachesTheHandler() {
        byte[] code = {
            (byte) 0xba, (byte) 0xf8, 0x03,   // mov dx, 0x3f8
            (byte) 0xb0, 'A', (byte) 0xee,    // mov al, 'A'; out dx, al
            (byte) 0xec,                      // in al, dx
            (byte) 0x04, 0x01, (byte) 0xee,   // add al, 1; out dx, al    (0x5a + 1)
            (byte) 0xba, (byte) 0xf4, 0x00,   // mov dx, 0xf4
            0x66, (byte) 0xb8, 0x07, 0, 0, 0, // mov eax, 7
            0x66, (byte) 0xef,                // out dx, eax
            (byte) 0xeb, (byte) 0xfe,         // jmp $
        };
        mem.write(0x1000, code);
        realModeAt(0x1000);
        assertThat(vcpu.run(recorder)).isEqualTo(VcpuExit.INTERRUPTED);
        assertThat(events).containsExactly("out 3f8/1=41", "in 3f8/1", "out 3f8/1=5b", "out f4/4=7");
        assertThat(vcpu.getRegs().rax() & 0xffffffffL).isEqualTo(7);
    }

    @Test
    void protectedModeMmioOutsideRamReachesTheHandler() {
        byte[] code = {
            (byte) 0xb8, 0x44, 0x33, 0x22, 0x11,                   // mov eax, 0x11223344
            (byte) 0xa3, 0x00, 0x00, 0x00, (byte) 0xd0,            // mov [0xd0000000], eax
            (byte) 0x8b, 0x1d, 0x08, 0x00, 0x00, (byte) 0xd0,      // mov ebx, [0xd0000008]
            (byte) 0xe6, (byte) 0xf4,                              // out 0xf4, al
            (byte) 0xeb, (byte) 0xfe,                              // jmp $
        };
        mem.write(0x100000, code);
        Sregs s = vcpu.getSregs();
        Segment cs = Segment.flat(0x08, 0xb, false, true);
        Segment ds = Segment.flat(0x18, 3, false, true);
        vcpu.setSregs(s.withSegments(cs, ds, ds, ds, ds, ds).withControl(s.cr0() | 1, 0, 0, 0));
        vcpu.setRegs(Regs.RESET.withRip(0x100000));
        assertThat(vcpu.run(recorder)).isEqualTo(VcpuExit.INTERRUPTED);
        assertThat(events).containsExactly("mmio-write d0000000/4=11223344", "mmio-read d0000008/4", "out f4/1=44");
        assertThat(vcpu.getRegs().rbx() & 0xffffffffL).isEqualTo(0x11223344L);
    }

    @Test
    void kickFromAnotherThreadStopsASpinningGuest() throws Exception {
        mem.write(0x1000, new byte[] {(byte) 0xeb, (byte) 0xfe}); // jmp $
        realModeAt(0x1000);
        Thread kicker = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            vcpu.kick();
        });
        kicker.start();
        long t0 = System.nanoTime();
        assertThat(vcpu.run(recorder)).isEqualTo(VcpuExit.INTERRUPTED);
        assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(150L, 5_000L);
        kicker.join();
        assertThat(vcpu.getRegs().rip()).isEqualTo(0x1000);
    }

    @Test
    void tripleFaultIsReportedAsShutdown() {
        // In protected mode with an empty IDT, ud2 cannot be delivered: #UD -> #GP -> #DF -> triple fault.
        mem.write(0x100000, new byte[] {0x0f, 0x0b});
        Sregs s = vcpu.getSregs();
        Segment cs = Segment.flat(0x08, 0xb, false, true);
        Segment ds = Segment.flat(0x18, 3, false, true);
        vcpu.setSregs(s.withSegments(cs, ds, ds, ds, ds, ds).withControl(s.cr0() | 1, 0, 0, 0)
                .withTables(s.gdt(), new org.jkvm.hypervisor.DescriptorTable(0, 0)));
        vcpu.setRegs(Regs.RESET.withRip(0x100000));
        assertThat(vcpu.run(recorder)).isEqualTo(VcpuExit.SHUTDOWN);
    }

    @Test
    void stateRoundTrips() {
        Regs r = new Regs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x1234, 0x202);
        vcpu.setRegs(r);
        assertThat(vcpu.getRegs()).isEqualTo(r);
        assertThat(vcpu.getMpState()).isEqualTo(MpState.RUNNABLE);
        var fpu = vcpu.getFpu();
        vcpu.setFpu(org.jkvm.hypervisor.Fpu.initial());
        assertThat(vcpu.getFpu().fcw()).isEqualTo(0x37f);
        assertThat(fpu.mxcsr()).isNotNegative();
        assertThat(hv.supportedCpuid()).anySatisfy(e -> assertThat(e.function()).isEqualTo(0));
    }

    @Test
    void missingCapabilityIsNamed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> hv.kvm().requireCapability(0x7fff_0000, "KVM_CAP_FROM_THE_FUTURE"))
                .isInstanceOf(org.jkvm.hypervisor.HypervisorException.class)
                .hasMessage("KVM lacks capability KVM_CAP_FROM_THE_FUTURE, which jkvm needs");
        assertThat(hv.kvm().checkExtension(org.jkvm.kvm.KvmAbi.KVM_CAP_IRQCHIP)).isPositive();
        assertThat(hv.maxVcpus()).isGreaterThanOrEqualTo(4);
    }

    @Test
    void kvmParavirtualLeavesAreOffered() {
        // kvm-clock and friends: the KVM signature leaf must pass through to the guest.
        assertThat(hv.supportedCpuid()).anySatisfy(e -> {
            assertThat(e.function()).isEqualTo(0x40000000);
            assertThat(new String(java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putInt(e.ebx()).putInt(e.ecx()).putInt(e.edx()).array(), java.nio.charset.StandardCharsets.US_ASCII))
                    .isEqualTo("KVMKVMKVM\0\0\0");
        });
    }

    @Test
    void secondVcpuWaitsForSipi() {
        Vcpu ap = vm.createVcpu(1);
        try {
            assertThat(ap.getMpState()).isEqualTo(MpState.UNINITIALIZED);
        } finally {
            ap.close();
        }
    }
}
