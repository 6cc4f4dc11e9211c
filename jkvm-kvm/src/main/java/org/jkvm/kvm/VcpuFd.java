package org.jkvm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.sys.Libc;

/**
 * A KVM vCPU file descriptor (api.rst section 4: vCPU ioctls) and its mapped {@code struct kvm_run}, which
 * {@link #run()} leaves the exit in. The mapping is made once; {@link #run()} allocates nothing.
 */
public final class VcpuFd implements AutoCloseable {
    private final int id;
    private final int fd;
    private final long runAddr;
    private final long runSize;
    private final MemorySegment run;

    VcpuFd(int id, int fd, int mmapSize) {
        this.id = id;
        this.fd = fd;
        this.runSize = mmapSize;
        this.runAddr = Libc.mmap(0, mmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        this.run = Libc.segment(runAddr, mmapSize);
    }

    public int id() {
        return id;
    }

    public int fd() {
        return fd;
    }

    /** The mapped struct kvm_run (offsets in {@link KvmAbi}). */
    public MemorySegment kvmRun() {
        return run;
    }

    /** KVM_RUN: returns 0 with the exit in {@link #kvmRun()}, or {@code -errno} (EINTR after a kick). */
    public int run() {
        return Libc.ioctlRaw(fd, KvmIoctls.KVM_RUN, 0);
    }

    public int exitReason() {
        return run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_EXIT_REASON);
    }

    /** Sets kvm_run.immediate_exit: KVM_RUN returns EINTR at once while it is 1 (KVM_CAP_IMMEDIATE_EXIT). */
    public void setImmediateExit(boolean on) {
        run.set(ValueLayout.JAVA_BYTE, KvmAbi.RUN_IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** Runs a KVM_GET_* ioctl into a fresh struct of {@code size} bytes and decodes it. */
    private <T> T get(long request, int size, String name, Function<MemorySegment, T> decode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(size, 8);
            Libc.ioctl(fd, request, b, name);
            return decode.apply(b);
        }
    }

    /** Encodes a struct of {@code size} bytes and runs a KVM_SET_* ioctl with it. */
    private void set(long request, int size, String name, Consumer<MemorySegment> encode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(size, 8);
            encode.accept(b);
            Libc.ioctl(fd, request, b, name);
        }
    }

    public Regs getRegs() {
        return get(KvmIoctls.KVM_GET_REGS, KvmAbi.KVM_REGS_SIZE, "KVM_GET_REGS", KvmStateCodec::decodeRegs);
    }

    public void setRegs(Regs regs) {
        set(KvmIoctls.KVM_SET_REGS, KvmAbi.KVM_REGS_SIZE, "KVM_SET_REGS", b -> KvmStateCodec.encodeRegs(regs, b));
    }

    public Sregs getSregs() {
        return get(KvmIoctls.KVM_GET_SREGS, KvmAbi.KVM_SREGS_SIZE, "KVM_GET_SREGS", KvmStateCodec::decodeSregs);
    }

    public void setSregs(Sregs sregs) {
        set(KvmIoctls.KVM_SET_SREGS, KvmAbi.KVM_SREGS_SIZE, "KVM_SET_SREGS",
                b -> KvmStateCodec.encodeSregs(sregs, b));
    }

    public Fpu getFpu() {
        return get(KvmIoctls.KVM_GET_FPU, KvmAbi.KVM_FPU_SIZE, "KVM_GET_FPU", KvmStateCodec::decodeFpu);
    }

    public void setFpu(Fpu fpu) {
        set(KvmIoctls.KVM_SET_FPU, KvmAbi.KVM_FPU_SIZE, "KVM_SET_FPU", b -> KvmStateCodec.encodeFpu(fpu, b));
    }

    /** KVM_GET_MSRS for {@code indices}; an MSR KVM does not know ends the list early (the kernel's behaviour). */
    public List<MsrEntry> getMsrs(int... indices) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = KvmStateCodec.encodeMsrs(arena, indices);
            int n = Libc.ioctl(fd, KvmIoctls.KVM_GET_MSRS, b, "KVM_GET_MSRS");
            return KvmStateCodec.decodeMsrs(b, n);
        }
    }

    /** KVM_SET_MSRS; all of them must be accepted. */
    public void setMsrs(List<MsrEntry> msrs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = KvmStateCodec.encodeMsrs(arena, msrs);
            int n = Libc.ioctl(fd, KvmIoctls.KVM_SET_MSRS, b, "KVM_SET_MSRS");
            if (n != msrs.size()) {
                MsrEntry bad = msrs.get(n);
                throw new IllegalStateException(String.format("KVM_SET_MSRS rejected MSR 0x%x (value 0x%x)",
                        bad.index(), bad.value()));
            }
        }
    }

    public void setCpuid2(List<CpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            Libc.ioctl(fd, KvmIoctls.KVM_SET_CPUID2, Kvm.CpuidCodec.encode(arena, entries), "KVM_SET_CPUID2");
        }
    }

    public MpState getMpState() {
        return get(KvmIoctls.KVM_GET_MP_STATE, 4, "KVM_GET_MP_STATE",
                b -> MpState.ofKvm(b.get(ValueLayout.JAVA_INT, 0)));
    }

    public void setMpState(MpState state) {
        set(KvmIoctls.KVM_SET_MP_STATE, 4, "KVM_SET_MP_STATE", b -> b.set(ValueLayout.JAVA_INT, 0, state.kvmValue()));
    }

    /** KVM_GET_LAPIC: the in-kernel local APIC's 1 KiB register page. */
    public byte[] getLapic() {
        return get(KvmIoctls.KVM_GET_LAPIC, KvmAbi.KVM_LAPIC_STATE_SIZE, "KVM_GET_LAPIC",
                b -> b.toArray(ValueLayout.JAVA_BYTE));
    }

    /** KVM_SET_LAPIC. */
    public void setLapic(byte[] regs) {
        if (regs.length != KvmAbi.KVM_LAPIC_STATE_SIZE) {
            throw new IllegalArgumentException("LAPIC state must be " + KvmAbi.KVM_LAPIC_STATE_SIZE + " bytes");
        }
        set(KvmIoctls.KVM_SET_LAPIC, KvmAbi.KVM_LAPIC_STATE_SIZE, "KVM_SET_LAPIC",
                b -> MemorySegment.copy(regs, 0, b, ValueLayout.JAVA_BYTE, 0, regs.length));
    }

    /** KVM_GET_VCPU_EVENTS. */
    public org.jkvm.hypervisor.state.VcpuEvents getEvents() {
        return get(KvmIoctls.KVM_GET_VCPU_EVENTS, KvmAbi.KVM_VCPU_EVENTS_SIZE, "KVM_GET_VCPU_EVENTS",
                KvmStateStructs::decodeEvents);
    }

    /** KVM_SET_VCPU_EVENTS with NMI pending, SIPI vector and shadow valid. */
    public void setEvents(org.jkvm.hypervisor.state.VcpuEvents events) {
        set(KvmIoctls.KVM_SET_VCPU_EVENTS, KvmAbi.KVM_VCPU_EVENTS_SIZE, "KVM_SET_VCPU_EVENTS",
                b -> KvmStateStructs.encodeEvents(events, b));
    }

    /** KVM_GET_XSAVE: the 4 KiB XSAVE area (x87, SSE, AVX and the other enabled components). */
    public byte[] getXsave() {
        return get(KvmIoctls.KVM_GET_XSAVE, KvmAbi.KVM_XSAVE_SIZE, "KVM_GET_XSAVE",
                b -> b.toArray(ValueLayout.JAVA_BYTE));
    }

    /** KVM_SET_XSAVE. */
    public void setXsave(byte[] area) {
        if (area.length != KvmAbi.KVM_XSAVE_SIZE) {
            throw new IllegalArgumentException("XSAVE area must be " + KvmAbi.KVM_XSAVE_SIZE + " bytes");
        }
        set(KvmIoctls.KVM_SET_XSAVE, KvmAbi.KVM_XSAVE_SIZE, "KVM_SET_XSAVE",
                b -> MemorySegment.copy(area, 0, b, ValueLayout.JAVA_BYTE, 0, area.length));
    }

    /** KVM_GET_TSC_KHZ: the guest TSC frequency. */
    public int tscKhz() {
        return Libc.ioctl(fd, KvmIoctls.KVM_GET_TSC_KHZ, 0, "KVM_GET_TSC_KHZ");
    }

    @Override
    public void close() {
        Libc.munmap(runAddr, runSize);
        Libc.close(fd);
    }
}
