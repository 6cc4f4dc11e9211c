package org.jkvm.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.kvm.backend.KvmHypervisor;
import org.jkvm.loader.KernelLoadException;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.vmm.Accelerator;
import org.jkvm.vmm.ExitStatus;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.VmConfig;
import org.jkvm.vmm.console.ConsoleInput;
import org.jkvm.vmm.console.ConsoleOutput;
import org.jkvm.vmm.console.TerminalMode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code jkvm run}: boots a kernel with the serial console on stdin/stdout. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Boot a kernel (bzImage, 64-bit ELF such as vmlinux, or multiboot) in a new VM.",
            "The guest's COM1 is on stdin/stdout; on a terminal, Ctrl-A x quits and Ctrl-A h lists the keys."})
final class RunCommand implements Callable<Integer> {
    /** jkvm's own limit: APIC IDs must fit the xAPIC's 8 bits (0xFF is the broadcast ID). */
    static final int MAX_CPUS = 255;

    @Spec
    CommandSpec spec;

    @Option(names = "--kernel", required = true, paramLabel = "FILE",
            description = "Kernel image: bzImage, 64-bit ELF (vmlinux) or multiboot.")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "Initial ramdisk.")
    Path initrd;

    @Option(names = "--cmdline", paramLabel = "TEXT", defaultValue = "console=ttyS0",
            description = "Kernel command line (default: ${DEFAULT-VALUE}).")
    String cmdline;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1", description = "vCPUs (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "512M",
            description = "Guest RAM: 512M, 4G, or a number of MiB (default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--accel", paramLabel = "auto|kvm|emu", defaultValue = "auto",
            description = "Execution backend: kvm (hardware virtualization), emu (jkvm's software CPU), or auto"
                    + " (kvm where the CPU has VMX/SVM, else emu). Default: ${DEFAULT-VALUE}.")
    String accel;

    @Option(names = "--reboot", paramLabel = "exit|restart", defaultValue = "exit",
            description = "What a guest reboot does: exit jkvm with status 0, or restart the VM (default: ${DEFAULT-VALUE}).")
    String reboot;

    private PrintStream err() {
        return new PrintStream(new FileOutputStream(FileDescriptor.err), true);
    }

    private int usage(String message) {
        err().println("jkvm: " + message);
        return Main.EXIT_USAGE;
    }

    @Override
    public Integer call() {
        // Everything the user gave is checked before anything is started.
        long memoryBytes;
        try {
            memoryBytes = Sizes.parseMemory(memory);
            PcMemoryLayout.of(memoryBytes);
        } catch (IllegalArgumentException e) {
            return usage("--memory " + memory + ": " + e.getMessage());
        }
        long hostBytes = hostMemoryBytes();
        if (hostBytes > 0 && memoryBytes > hostBytes) {
            return usage("--memory " + memory + ": " + Sizes.human(memoryBytes) + " is more than this host's "
                    + (hostBytes >> 20) + " MiB of RAM");
        }
        if (cpus < 1 || cpus > MAX_CPUS) {
            return usage("--cpus " + cpus + ": must be between 1 and " + MAX_CPUS);
        }
        Accelerator accelerator;
        VmConfig.RebootAction rebootAction;
        try {
            accelerator = Accelerator.parse(accel);
            rebootAction = switch (reboot) {
                case "exit" -> VmConfig.RebootAction.EXIT;
                case "restart" -> VmConfig.RebootAction.RESTART;
                default -> throw new IllegalArgumentException("--reboot " + reboot + ": expected exit or restart");
            };
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        String fileProblem = checkReadable("--kernel", kernel);
        if (fileProblem == null && initrd != null) {
            fileProblem = checkReadable("--initrd", initrd);
        }
        if (fileProblem != null) {
            return usage(fileProblem);
        }

        Accelerator.Choice choice;
        try {
            choice = accelerator.open();
        } catch (HypervisorException e) {
            return usage(e.getMessage());
        }
        if (accelerator == Accelerator.AUTO) {
            err().println("jkvm: accel " + choice.reason());
        }
        if (choice.hypervisor() instanceof KvmHypervisor k && cpus > k.maxVcpus()) {
            choice.hypervisor().close();
            return usage("--cpus " + cpus + ": KVM on this host allows at most " + k.maxVcpus());
        }
        VmConfig config = new VmConfig(kernel, Optional.ofNullable(initrd), cmdline, cpus, memoryBytes, rebootAction);
        return boot(config, choice);
    }

    private int boot(VmConfig config, Accelerator.Choice choice) {
        ConsoleOutput out = new ConsoleOutput(new FileOutputStream(FileDescriptor.out));
        TerminalMode terminal = null;
        // A termination request outlives any one machine: with --reboot=restart it may arrive between two boots.
        AtomicReference<ExitStatus> terminated = new AtomicReference<>();
        AtomicReference<Machine> current = new AtomicReference<>();
        java.util.function.Consumer<ExitStatus> terminate = s -> {
            terminated.compareAndSet(null, s);
            Machine m = current.get();
            if (m != null) {
                m.finish(s);
            }
        };
        Signals.onTermination(sig -> terminate.accept(ExitStatus.powerOff("terminating on signal " + sig)));
        new ConsoleInput(new FileInputStream(FileDescriptor.in), () -> {
            Machine m = current.get();
            return m == null ? null : m.devices().serial();
        }, () -> terminate.accept(ExitStatus.powerOff("terminated by Ctrl-A x")),
                msg -> err().print("\r\n" + msg + "\r\n")).start();
        try {
            while (true) {
                if (terminated.get() != null) {
                    err().println("jkvm: " + terminated.get().message());
                    return terminated.get().code();
                }
                Machine machine;
                try {
                    machine = new Machine(config, choice.hypervisor(), out);
                } catch (KernelLoadException e) {
                    return usage(e.getMessage());
                } catch (HypervisorException e) {
                    return usage(e.getMessage());
                }
                if (terminal == null) {
                    terminal = TerminalMode.rawIfTerminal(0);
                }
                current.set(machine);
                if (terminated.get() != null) {
                    machine.finish(terminated.get());
                }
                ExitStatus status = machine.run();
                out.flush();
                machine.close();
                current.set(null);
                if (terminated.get() != null) {
                    status = terminated.get(); // a termination request wins over what the guest did meanwhile
                } else if (status.reset() && config.reboot() == VmConfig.RebootAction.RESTART) {
                    err().println("jkvm: " + status.message() + "; restarting");
                    continue;
                }
                if (status.code() == ExitStatus.GUEST_CRASH || status.message().startsWith("terminat")) {
                    err().println("jkvm: " + status.message());
                }
                return status.code();
            }
        } finally {
            out.close();
            if (terminal != null) {
                terminal.close();
            }
            choice.hypervisor().close();
        }
    }

    private static String checkReadable(String option, Path file) {
        if (!Files.exists(file)) {
            return option + " " + file + ": no such file";
        }
        if (Files.isDirectory(file)) {
            return option + " " + file + ": is a directory";
        }
        if (!Files.isReadable(file)) {
            return option + " " + file + ": permission denied";
        }
        return null;
    }

    /** MemTotal from /proc/meminfo, or -1 when unknown. */
    static long hostMemoryBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
