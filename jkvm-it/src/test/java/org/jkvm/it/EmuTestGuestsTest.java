package org.jkvm.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The test guests on the software CPU ({@code --accel emu}), with the same expectations as on KVM; SMP goes
 * through the emulated local APICs. Needs no /dev/kvm, so it always runs.
 */
class EmuTestGuestsTest extends TestGuestsContract {
    @Override
    String accel() {
        return "emu";
    }

    @Test
    void autoAcceleratorSaysWhichAndWhy() throws Exception {
        JkvmProcess p = JkvmProcess.run(120, "run", "--memory", "64M", "--kernel", guest("hello.mb"));
        assertThat(p.exitCode()).as(p.stderr()).isEqualTo(GUEST_OK);
        assertThat(p.stdout()).isEqualTo("jkvm: hello from a multiboot guest\n");
        if (org.jkvm.vmm.Accelerator.hostHasHardwareVirtualization()) {
            assertThat(p.stderr()).startsWith("jkvm: accel kvm: the host CPU has hardware virtualization");
        } else {
            assertThat(p.stderr()).startsWith("jkvm: accel emu: the host CPU has no VMX/SVM");
        }
    }
}
