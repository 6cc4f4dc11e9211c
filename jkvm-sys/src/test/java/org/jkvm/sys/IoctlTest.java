package org.jkvm.sys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IoctlTest {
    @Test
    void encodesLikeTheKernelHeaders() {
        // Values from linux/kvm.h as compiled by gcc on x86_64.
        assertThat(Ioctl.io(0xAE, 0x01)).isEqualTo(0xAE01L);                 // KVM_CREATE_VM
        assertThat(Ioctl.iow(0xAE, 0x46, 32)).isEqualTo(0x4020AE46L);        // KVM_SET_USER_MEMORY_REGION
        assertThat(Ioctl.ior(0xAE, 0x81, 144)).isEqualTo(0x8090AE81L);       // KVM_GET_REGS
        assertThat(Ioctl.iowr(0xAE, 0x05, 8)).isEqualTo(0xC008AE05L);        // KVM_GET_SUPPORTED_CPUID
    }
}
