package org.jkvm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.sys.Errno;
import org.jkvm.sys.Libc;
import org.jkvm.sys.NativeException;

/**
 * The KVM system file descriptor, {@code /dev/kvm} (api.rst section 4: system ioctls). Opening checks the API
 * version; {@link #requireCapability} turns a missing capability into a message that names it.
 */
public final class Kvm implements AutoCloseable {
    public static final String DEVICE = "/dev/kvm";
    private final int fd;
    private final int vcpuMmapSize;

    private Kvm(int fd) {
        this.fd = fd;
        int version = Libc.ioctl(fd, KvmIoctls.KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION");
        if (version != KvmAbi.KVM_API_VERSION) {
            Libc.close(fd);
            throw new HypervisorException("/dev/kvm speaks KVM API version " + version + ", jkvm needs "
                    + KvmAbi.KVM_API_VERSION);
        }
        this.vcpuMmapSize = Libc.ioctl(fd, KvmIoctls.KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    }

    /**
     * Opens {@code /dev/kvm}.
     *
     * @throws HypervisorException with one line saying what is wrong and what to do (no device, no permission)
     */
    public static Kvm open() {
        return open(DEVICE);
    }

    static Kvm open(String path) {
        int fd;
        try {
            fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        } catch (NativeException e) {
            throw new HypervisorException(switch (e.errno()) {
                case Errno.ENOENT, Errno.ENXIO, Errno.ENODEV -> path + " does not exist: the kvm module is not loaded or"
                        + " this host has no virtualization (use --accel emu)";
                case Errno.EACCES, Errno.EPERM -> "no permission to open " + path + ": add your user to the 'kvm' group"
                        + " or run as root (or use --accel emu)";
                default -> "cannot open " + path + ": " + e.getMessage();
            }, e);
        }
        return new Kvm(fd);
    }

    public int fd() {
        return fd;
    }

    /** KVM_CHECK_EXTENSION: 0 when absent, else a positive, capability-specific value. */
    public int checkExtension(int capability) {
        int r = Libc.ioctlRaw(fd, KvmIoctls.KVM_CHECK_EXTENSION, capability);
        return Math.max(r, 0);
    }

    /** Throws a {@link HypervisorException} naming {@code name} when KVM lacks {@code capability}. */
    public void requireCapability(int capability, String name) {
        if (checkExtension(capability) <= 0) {
            throw new HypervisorException("KVM lacks capability " + name + ", which jkvm needs");
        }
    }

    /** The most vCPUs a VM may have (KVM_CAP_MAX_VCPUS, falling back to KVM_CAP_NR_VCPUS). */
    public int maxVcpus() {
        int max = checkExtension(KvmAbi.KVM_CAP_MAX_VCPUS);
        return max > 0 ? max : Math.max(checkExtension(KvmAbi.KVM_CAP_NR_VCPUS), 4);
    }

    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** KVM_GET_SUPPORTED_CPUID. */
    public List<CpuidEntry> supportedCpuid() {
        int capacity = 256;
        while (true) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(KvmAbi.KVM_CPUID2_HEADER_SIZE
                        + (long) capacity * KvmAbi.KVM_CPUID_ENTRY2_SIZE, 8);
                buf.set(ValueLayout.JAVA_INT, 0, capacity);
                int r = Libc.ioctlRaw(fd, KvmIoctls.KVM_GET_SUPPORTED_CPUID, buf.address());
                if (r == -Errno.E2BIG && capacity < 4096) {
                    capacity *= 2;
                    continue;
                }
                if (r < 0) {
                    throw new NativeException("ioctl(KVM_GET_SUPPORTED_CPUID)", -r);
                }
                return CpuidCodec.decode(buf);
            }
        }
    }

    /** KVM_CREATE_VM with the default machine type. */
    public VmFd createVm() {
        int vmFd = Libc.ioctl(fd, KvmIoctls.KVM_CREATE_VM, 0, "KVM_CREATE_VM");
        return new VmFd(this, vmFd);
    }

    @Override
    public void close() {
        Libc.close(fd);
    }

    /** Encodes and decodes struct kvm_cpuid2. */
    static final class CpuidCodec {
        private CpuidCodec() {}

        static List<CpuidEntry> decode(MemorySegment buf) {
            int n = buf.get(ValueLayout.JAVA_INT, 0);
            List<CpuidEntry> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long o = KvmAbi.KVM_CPUID2_HEADER_SIZE + (long) i * KvmAbi.KVM_CPUID_ENTRY2_SIZE;
                out.add(new CpuidEntry(buf.get(ValueLayout.JAVA_INT, o), buf.get(ValueLayout.JAVA_INT, o + 4),
                        buf.get(ValueLayout.JAVA_INT, o + 8), buf.get(ValueLayout.JAVA_INT, o + 12),
                        buf.get(ValueLayout.JAVA_INT, o + 16), buf.get(ValueLayout.JAVA_INT, o + 20),
                        buf.get(ValueLayout.JAVA_INT, o + 24)));
            }
            return out;
        }

        static MemorySegment encode(Arena arena, List<CpuidEntry> entries) {
            MemorySegment buf = arena.allocate(KvmAbi.KVM_CPUID2_HEADER_SIZE
                    + (long) entries.size() * KvmAbi.KVM_CPUID_ENTRY2_SIZE, 8);
            buf.set(ValueLayout.JAVA_INT, 0, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                CpuidEntry e = entries.get(i);
                long o = KvmAbi.KVM_CPUID2_HEADER_SIZE + (long) i * KvmAbi.KVM_CPUID_ENTRY2_SIZE;
                buf.set(ValueLayout.JAVA_INT, o, e.function());
                buf.set(ValueLayout.JAVA_INT, o + 4, e.index());
                buf.set(ValueLayout.JAVA_INT, o + 8, e.flags());
                buf.set(ValueLayout.JAVA_INT, o + 12, e.eax());
                buf.set(ValueLayout.JAVA_INT, o + 16, e.ebx());
                buf.set(ValueLayout.JAVA_INT, o + 20, e.ecx());
                buf.set(ValueLayout.JAVA_INT, o + 24, e.edx());
            }
            return buf;
        }
    }
}
