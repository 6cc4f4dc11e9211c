package org.jkvm.kvm.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.IoHandler;
import org.jkvm.hypervisor.MpState;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.hypervisor.VcpuExit;
import org.jkvm.hypervisor.state.LapicState;
import org.jkvm.hypervisor.state.VcpuEvents;
import org.jkvm.kvm.KvmAbi;
import org.jkvm.kvm.VcpuFd;
import org.jkvm.sys.Errno;
import org.jkvm.sys.NativeException;
import org.jkvm.sys.VcpuKicker;

/**
 * A vCPU on KVM. {@link #run} loops on KVM_RUN, completing port and MMIO exits through the {@link IoHandler} with
 * data read from and written to the mapped kvm_run, and returns on any other exit. {@link #kick} sets
 * kvm_run.immediate_exit and signals the vCPU thread, so KVM_RUN returns EINTR whether the thread is inside it or
 * about to enter it.
 */
final class KvmVcpu implements Vcpu {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private final VcpuFd fd;
    private final MemorySegment run;
    private volatile long pthread;
    private volatile boolean kickRequested;
    private String lastExitDetail = "";

    KvmVcpu(VcpuFd fd) {
        this.fd = fd;
        this.run = fd.kvmRun();
        VcpuKicker.signal(); // install the no-op handler before any kick can be sent
    }

    /** The vCPU fd (tests set the local APIC through it). */
    VcpuFd fd() {
        return fd;
    }

    @Override
    public int index() {
        return fd.id();
    }

    @Override
    public VcpuExit run(IoHandler io) {
        if (pthread == 0) {
            pthread = org.jkvm.sys.Libc.pthreadSelf();
        }
        while (true) {
            if (kickRequested) {
                kickRequested = false;
                fd.setImmediateExit(false);
                return VcpuExit.INTERRUPTED;
            }
            int r = fd.run();
            if (r < 0) {
                if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
                    kickRequested = false;
                    fd.setImmediateExit(false);
                    return VcpuExit.INTERRUPTED;
                }
                throw new NativeException("ioctl(KVM_RUN) on vCPU " + fd.id(), -r);
            }
            int reason = fd.exitReason();
            switch (reason) {
                case KvmAbi.KVM_EXIT_IO -> handleIo(io);
                case KvmAbi.KVM_EXIT_MMIO -> handleMmio(io);
                case KvmAbi.KVM_EXIT_HLT -> {
                    return VcpuExit.HLT;
                }
                case KvmAbi.KVM_EXIT_INTR -> {
                    kickRequested = false;
                    fd.setImmediateExit(false);
                    return VcpuExit.INTERRUPTED;
                }
                case KvmAbi.KVM_EXIT_SHUTDOWN -> {
                    lastExitDetail = "KVM_EXIT_SHUTDOWN (triple fault)";
                    return VcpuExit.SHUTDOWN;
                }
                case KvmAbi.KVM_EXIT_SYSTEM_EVENT -> {
                    int type = run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_SYSTEM_EVENT_TYPE);
                    lastExitDetail = "KVM_EXIT_SYSTEM_EVENT type " + type;
                    if (type == KvmAbi.KVM_SYSTEM_EVENT_RESET) {
                        return VcpuExit.SYSTEM_RESET;
                    }
                    if (type == KvmAbi.KVM_SYSTEM_EVENT_SHUTDOWN) {
                        return VcpuExit.SYSTEM_SHUTDOWN;
                    }
                    return VcpuExit.INTERNAL_ERROR;
                }
                case KvmAbi.KVM_EXIT_FAIL_ENTRY -> {
                    lastExitDetail = String.format("KVM_EXIT_FAIL_ENTRY, hardware entry failure reason 0x%x",
                            run.get(ValueLayout.JAVA_LONG, KvmAbi.RUN_FAIL_ENTRY_REASON));
                    return VcpuExit.FAIL_ENTRY;
                }
                case KvmAbi.KVM_EXIT_INTERNAL_ERROR -> {
                    lastExitDetail = internalErrorDetail();
                    return VcpuExit.INTERNAL_ERROR;
                }
                default -> {
                    lastExitDetail = "unexpected KVM exit reason " + reason;
                    return VcpuExit.INTERNAL_ERROR;
                }
            }
        }
    }

    private String internalErrorDetail() {
        int sub = run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_INTERNAL_SUBERROR);
        int n = Math.min(run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_INTERNAL_NDATA), 16);
        String what = switch (sub) {
            case 1 -> "emulation failure";
            case 2 -> "simultaneous exceptions";
            case 3 -> "delivery event failure";
            case 4 -> "unexpected exit";
            default -> "suberror " + sub;
        };
        StringBuilder sb = new StringBuilder("KVM internal error: ").append(what);
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? ", data " : " ")
                    .append(String.format("0x%x", run.get(ValueLayout.JAVA_LONG, KvmAbi.RUN_INTERNAL_DATA + 8L * i)));
        }
        return sb.toString();
    }

    private void handleIo(IoHandler io) {
        boolean in = run.get(ValueLayout.JAVA_BYTE, KvmAbi.RUN_IO_DIRECTION) == KvmAbi.KVM_EXIT_IO_IN;
        int size = run.get(ValueLayout.JAVA_BYTE, KvmAbi.RUN_IO_SIZE);
        int port = Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT, KvmAbi.RUN_IO_PORT));
        int count = run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_IO_COUNT);
        long data = run.get(ValueLayout.JAVA_LONG, KvmAbi.RUN_IO_DATA_OFFSET);
        if (size != 1 && size != 2 && size != 4 || count < 0 || data < 0
                || data + (long) count * size > run.byteSize()) {
            throw new IllegalStateException("malformed KVM_EXIT_IO from the kernel: size " + size + " count " + count);
        }
        for (int i = 0; i < count; i++) {
            long at = data + (long) i * size;
            if (in) {
                int v = io.pioRead(port, size);
                switch (size) {
                    case 1 -> run.set(ValueLayout.JAVA_BYTE, at, (byte) v);
                    case 2 -> run.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, (short) v);
                    default -> run.set(ValueLayout.JAVA_INT_UNALIGNED, at, v);
                }
            } else {
                int v = switch (size) {
                    case 1 -> Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, at));
                    case 2 -> Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT_UNALIGNED, at));
                    default -> run.get(ValueLayout.JAVA_INT_UNALIGNED, at);
                };
                io.pioWrite(port, size, v);
            }
        }
    }

    private void handleMmio(IoHandler io) {
        long gpa = run.get(ValueLayout.JAVA_LONG, KvmAbi.RUN_MMIO_PHYS_ADDR);
        int len = run.get(ValueLayout.JAVA_INT, KvmAbi.RUN_MMIO_LEN);
        boolean write = run.get(ValueLayout.JAVA_BYTE, KvmAbi.RUN_MMIO_IS_WRITE) != 0;
        if (len < 1 || len > 8) {
            throw new IllegalStateException("malformed KVM_EXIT_MMIO from the kernel: len " + len);
        }
        long mask = len == 8 ? -1L : (1L << (8 * len)) - 1;
        if (write) {
            io.mmioWrite(gpa, len, run.get(LONG, KvmAbi.RUN_MMIO_DATA) & mask);
        } else {
            long v = io.mmioRead(gpa, len);
            for (int i = 0; i < len; i++) {
                run.set(ValueLayout.JAVA_BYTE, KvmAbi.RUN_MMIO_DATA + i, (byte) (v >>> (8 * i)));
            }
        }
    }

    @Override
    public void kick() {
        kickRequested = true;
        fd.setImmediateExit(true);
        long t = pthread;
        if (t != 0) {
            VcpuKicker.kick(t);
        }
    }

    @Override
    public String lastExitDetail() {
        return lastExitDetail;
    }

    @Override
    public Regs getRegs() {
        return fd.getRegs();
    }

    @Override
    public void setRegs(Regs regs) {
        fd.setRegs(regs);
    }

    @Override
    public Sregs getSregs() {
        return fd.getSregs();
    }

    @Override
    public void setSregs(Sregs sregs) {
        fd.setSregs(sregs);
    }

    @Override
    public Fpu getFpu() {
        return fd.getFpu();
    }

    @Override
    public void setFpu(Fpu fpu) {
        fd.setFpu(fpu);
    }

    @Override
    public List<MsrEntry> getMsrs(int... indices) {
        return fd.getMsrs(indices);
    }

    @Override
    public void setMsrs(List<MsrEntry> msrs) {
        fd.setMsrs(msrs);
    }

    @Override
    public void setCpuid(List<CpuidEntry> entries) {
        fd.setCpuid2(entries);
    }

    @Override
    public MpState getMpState() {
        return fd.getMpState();
    }

    @Override
    public void setMpState(MpState state) {
        fd.setMpState(state);
    }

    /**
     * MSRs a snapshot carries when KVM knows them, in restore order: the TSC first, kvmclock and the paravirtual
     * MSRs, IA32_TSC_DEADLINE last (after the LAPIC's timer mode).
     */
    private static final int[] WANTED_MSRS = {0x10, 0x3b, 0x174, 0x175, 0x176, 0x1a0, 0x277, 0x2ff, 0xc0000081,
        0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102, 0xc0000103, 0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03,
        0x4b564d04, 0x11, 0x12, 0x6e0};
    private int[] stateMsrs;

    @Override
    public synchronized int[] stateMsrIndices() {
        if (stateMsrs == null) {
            stateMsrs = java.util.Arrays.stream(WANTED_MSRS).filter(i -> fd.getMsrs(i).size() == 1).toArray();
        }
        return stateMsrs.clone();
    }

    @Override
    public LapicState getLapic() {
        return new LapicState(fd.getLapic());
    }

    @Override
    public void setLapic(LapicState state) {
        fd.setLapic(state.regs());
    }

    @Override
    public VcpuEvents getEvents() {
        return fd.getEvents();
    }

    @Override
    public void setEvents(VcpuEvents events) {
        fd.setEvents(events);
    }

    @Override
    public byte[] getXsave() {
        return fd.getXsave();
    }

    @Override
    public void setXsave(byte[] area) {
        fd.setXsave(area);
    }

    @Override
    public long tscKhz() {
        return fd.tscKhz();
    }

    @Override
    public void close() {
        fd.close();
    }
}
