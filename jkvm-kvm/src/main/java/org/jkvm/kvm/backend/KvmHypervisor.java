package org.jkvm.kvm.backend;

import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.Hypervisor;
import org.jkvm.hypervisor.Vm;
import org.jkvm.hypervisor.VmOptions;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.kvm.Kvm;
import org.jkvm.kvm.KvmAbi;

/**
 * The {@code kvm} execution backend: guest code runs on the host CPU through /dev/kvm, with KVM's in-kernel
 * irqchip (PIC, IOAPIC, LAPICs) and PIT.
 */
public final class KvmHypervisor implements Hypervisor {
    private final Kvm kvm;

    private KvmHypervisor(Kvm kvm) {
        this.kvm = kvm;
    }

    /**
     * Opens /dev/kvm and checks every capability jkvm relies on.
     *
     * @throws HypervisorException naming the missing device, permission or capability
     */
    public static KvmHypervisor open() {
        Kvm kvm = Kvm.open();
        try {
            kvm.requireCapability(KvmAbi.KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP");
            kvm.requireCapability(KvmAbi.KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY");
            kvm.requireCapability(KvmAbi.KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR");
            kvm.requireCapability(KvmAbi.KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR");
            kvm.requireCapability(KvmAbi.KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID");
            kvm.requireCapability(KvmAbi.KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE");
            kvm.requireCapability(KvmAbi.KVM_CAP_PIT2, "KVM_CAP_PIT2");
            kvm.requireCapability(KvmAbi.KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT");
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
        return new KvmHypervisor(kvm);
    }

    public Kvm kvm() {
        return kvm;
    }

    /** The most vCPUs KVM allows in one VM. */
    public int maxVcpus() {
        return kvm.maxVcpus();
    }

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public List<CpuidEntry> supportedCpuid() {
        return kvm.supportedCpuid();
    }

    @Override
    public Vm createVm(VmOptions options) {
        if (options.vcpuCount() > kvm.maxVcpus()) {
            throw new HypervisorException("KVM allows at most " + kvm.maxVcpus() + " vCPUs, not " + options.vcpuCount());
        }
        return new KvmVm(kvm.createVm());
    }

    @Override
    public void close() {
        kvm.close();
    }
}
