package org.jkvm.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import org.jkvm.emu.EmuHypervisor;
import org.jkvm.hypervisor.Hypervisor;
import org.jkvm.kvm.backend.KvmHypervisor;

/**
 * Chooses and opens an execution backend for {@code --accel auto|kvm|emu}. {@code auto} takes KVM where the host CPU
 * has hardware virtualization (VMX or SVM in /proc/cpuinfo) and /dev/kvm opens, else the software CPU, and says which
 * and why.
 */
public enum Accelerator {
    AUTO, KVM, EMU;

    private static final Pattern VIRT_FLAGS = Pattern.compile("^flags\\s*:.*\\b(vmx|svm)\\b", Pattern.MULTILINE);

    /** An opened backend and, for {@code auto}, why it was chosen. */
    public record Choice(Hypervisor hypervisor, String reason) {}

    /** Parses a --accel value (case-insensitive). */
    public static Accelerator parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> AUTO;
            case "kvm" -> KVM;
            case "emu", "tcg" -> EMU;
            default -> throw new IllegalArgumentException("unknown accelerator '" + s + "' (expected auto, kvm or emu)");
        };
    }

    /**
     * Opens the backend.
     *
     * @throws org.jkvm.hypervisor.HypervisorException when KVM was asked for and cannot be used
     */
    public Choice open() {
        return switch (this) {
            case KVM -> new Choice(KvmHypervisor.open(), "kvm (requested)");
            case EMU -> new Choice(new EmuHypervisor(), "emu (requested)");
            case AUTO -> {
                if (!hostHasHardwareVirtualization()) {
                    String pvm = Files.exists(Path.of("/sys/module/kvm_pvm"))
                            ? "; this host's /dev/kvm is kvm_pvm, which emulates guest code in the kernel" : "";
                    yield new Choice(new EmuHypervisor(), "emu: the host CPU has no VMX/SVM" + pvm);
                }
                if (!Files.exists(Path.of("/dev/kvm"))) {
                    yield new Choice(new EmuHypervisor(), "emu: the CPU has VMX/SVM but /dev/kvm is missing"
                            + " (load kvm-intel or kvm-amd)");
                }
                yield new Choice(KvmHypervisor.open(), "kvm: the host CPU has hardware virtualization");
            }
        };
    }

    /** True when /proc/cpuinfo lists vmx or svm. */
    public static boolean hostHasHardwareVirtualization() {
        try {
            return VIRT_FLAGS.matcher(Files.readString(Path.of("/proc/cpuinfo"))).find();
        } catch (IOException e) {
            return false;
        }
    }
}
