package org.jkvm.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.jkvm.api.qmp.QmpAddress;
import org.jkvm.api.qmp.QmpServer;
import org.jkvm.api.qmp.VmCommands;
import org.jkvm.block.DiskConfig;
import org.jkvm.console.ConsoleConfig;
import org.jkvm.net.NetConfig;
import org.jkvm.hypervisor.HypervisorException;
import org.jkvm.kvm.backend.KvmHypervisor;
import org.jkvm.loader.KernelLoadException;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.vmm.Accelerator;
import org.jkvm.vmm.ExitStatus;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.ShutdownCause;
import org.jkvm.vmm.VmConfig;
import org.jkvm.vmm.VmSupervisor;
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

    @Option(names = "--kernel", paramLabel = "FILE",
            description = "Kernel image: bzImage, 64-bit ELF (vmlinux) or multiboot.")
    Path kernel;

    @Option(names = "--restore", paramLabel = "DIR",
            description = {"Start from a snapshot directory (QMP migrate file:DIR or x-jkvm-snapshot-save) instead of"
                + " booting: the machine (vCPUs, memory, disks, devices) is the snapshot's; give no --kernel."})
    Path restoreDir;

    @Option(names = "--incoming", paramLabel = "file:DIR", description = "QEMU's spelling of --restore DIR.")
    String incoming;

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

    @Option(names = "--qmp", paramLabel = "ADDRESS",
            description = {"QMP monitor (QEMU's -qmp): unix:PATH or tcp:HOST:PORT, with ,server=on to listen and"
                    + " ,wait=off to start the VM without waiting for a client. Repeatable. An empty TCP host is"
                    + " loopback.", "See docs/qmp.md."})
    List<String> qmp = new ArrayList<>();

    @Option(names = "--disk", paramLabel = "path=FILE[,readonly=on][,serial=S][,cache=none|writeback][,id=ID]",
            description = {"A raw disk image as a virtio-blk PCI device (/dev/vda, /dev/vdb, ... in order). Repeatable."
                    + " readonly=on: the guest cannot write it; serial: what the guest reads as its serial (20"
                    + " characters at most); cache=none: O_DIRECT; id: a name for the monitor."})
    List<String> disks = new ArrayList<>();

    @Option(names = "--rng", description = {"A virtio-rng PCI device (QEMU's -device virtio-rng-pci) after the disks:"
            + " the guest's /dev/hwrng, filled from the host's getrandom(2)."})
    boolean rng;

    @Option(names = "--console-dev", paramLabel = "socket=PATH|file=PATH[,cols=N,rows=N]",
            description = {"A virtio-console PCI device after the rng: the guest's /dev/hvc0. socket=PATH: jkvm listens"
                    + " on a Unix socket there (one client at a time; its input is the guest's; output is dropped"
                    + " while no client is connected); file=PATH: the output is appended to the file."
                    + " cols=N,rows=N: the console's size (hvc0's window size in the guest)."})
    String consoleDev;

    @Option(names = "--net", paramLabel = "tap[,ifname=NAME][,mac=MAC][,vhost=on|off][,queues=N][,id=ID]",
            description = {"A virtio-net PCI device on a TAP device, after the console. Repeatable. jkvm creates the"
                    + " TAP (needs root or CAP_NET_ADMIN), or attaches to an existing one named ifname. mac: the"
                    + " guest's address (default 52:54:00:12:34:56 plus the NIC's index); queues: queue pairs"
                    + " (a multi-queue TAP above 1); id: a name for the monitor (default netN)."
                    + " vhost=on is not implemented."})
    List<String> nets = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", description = "The VM's name (QEMU's -name; query-name).")
    String name;

    @Option(names = "--uuid", paramLabel = "UUID", description = "The VM's UUID (QEMU's -uuid; query-uuid).")
    String uuid;

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
        if (incoming != null) {
            if (!incoming.startsWith("file:") || incoming.length() == 5) {
                return usage("--incoming " + incoming + ": only file:DIR is supported");
            }
            if (restoreDir != null) {
                return usage("--incoming and --restore name the same thing; give one");
            }
            restoreDir = Path.of(incoming.substring(5));
        }
        if (restoreDir != null) {
            return restore();
        }
        if (kernel == null) {
            return usage("Missing required option: '--kernel=FILE' (or --restore DIR to start from a snapshot)");
        }
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
        List<QmpAddress> qmpAddresses = new ArrayList<>();
        for (String q : qmp) {
            try {
                qmpAddresses.add(QmpAddress.parse(q));
            } catch (IllegalArgumentException e) {
                return usage("--qmp " + q + ": " + e.getMessage());
            }
        }
        Optional<UUID> vmUuid;
        try {
            vmUuid = Optional.ofNullable(uuid).map(UUID::fromString);
        } catch (IllegalArgumentException e) {
            return usage("--uuid " + uuid + ": not a UUID (expected 8-4-4-4-12 hex digits)");
        }
        List<DiskConfig> diskConfigs = new ArrayList<>();
        java.util.Set<String> diskIds = new java.util.HashSet<>();
        for (String d : disks) {
            DiskConfig dc;
            try {
                dc = DiskConfig.parse(d);
            } catch (IllegalArgumentException e) {
                return usage("--disk " + d + ": " + e.getMessage());
            }
            if (dc.id().isPresent() && !diskIds.add(dc.id().get())) {
                return usage("--disk " + d + ": duplicate id '" + dc.id().get() + "'");
            }
            String problem = checkReadable("--disk", dc.path());
            if (problem != null) {
                return usage(problem);
            }
            diskConfigs.add(dc);
        }
        if (diskConfigs.size() > VmConfig.MAX_DISKS) {
            return usage("--disk: at most " + VmConfig.MAX_DISKS + " disks");
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
        Optional<ConsoleConfig> console = Optional.empty();
        if (consoleDev != null) {
            try {
                console = Optional.of(ConsoleConfig.parse(consoleDev));
            } catch (IllegalArgumentException e) {
                return usage("--console-dev " + consoleDev + ": " + e.getMessage());
            }
        }
        if (diskConfigs.size() + (rng ? 1 : 0) + (console.isPresent() ? 1 : 0) > VmConfig.MAX_DISKS) {
            return usage("--rng/--console-dev: no PCI slot left after " + diskConfigs.size() + " disks");
        }
        List<NetConfig> netConfigs = new ArrayList<>();
        java.util.Set<String> netNames = new java.util.HashSet<>();
        for (String n : nets) {
            NetConfig nc;
            try {
                nc = NetConfig.parse(n);
            } catch (IllegalArgumentException e) {
                return usage("--net " + n + ": " + e.getMessage());
            }
            String nicName = nc.id().orElse("net" + netConfigs.size());
            if (!netNames.add(nicName)) {
                return usage("--net " + n + ": duplicate id '" + nicName + "'");
            }
            if (nc.vhost()) {
                if (choice.hypervisor() instanceof KvmHypervisor) {
                    choice.hypervisor().close();
                    return usage("--net " + n + ": vhost=on: vhost-net not implemented (use vhost=off: jkvm's"
                            + " own data path)");
                }
                err().println("jkvm: --net " + n + ": vhost=on needs the kvm backend (vhost-net not implemented);"
                        + " the emu backend uses jkvm's own data path");
            }
            netConfigs.add(nc);
        }
        if (diskConfigs.size() + (rng ? 1 : 0) + (console.isPresent() ? 1 : 0) + netConfigs.size()
                > VmConfig.MAX_DISKS) {
            return usage("--net: no PCI slot left for " + netConfigs.size() + " NICs");
        }
        VmConfig config = new VmConfig(kernel, Optional.ofNullable(initrd), cmdline, cpus, memoryBytes, rebootAction,
                diskConfigs, rng, console, netConfigs);
        return boot(config, new VmSupervisor.Identity(Optional.ofNullable(name), vmUuid), qmpAddresses, choice);
    }

    /** {@code --restore DIR}: the machine comes from the snapshot; only the run-time options apply. */
    private int restore() {
        for (String o : List.of("--kernel", "--initrd", "--cmdline", "--cpus", "--memory", "--disk", "--rng",
                "--console-dev")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                return usage(o + " cannot be used with --restore: the snapshot defines the machine");
            }
        }
        org.jkvm.vmm.snapshot.VmState state;
        VmConfig saved;
        try {
            state = org.jkvm.vmm.snapshot.SnapshotFiles.readState(restoreDir);
            org.jkvm.vmm.snapshot.VmSnapshots.checkDisks(state);
            saved = org.jkvm.vmm.snapshot.VmSnapshots.config(state);
        } catch (org.jkvm.vmm.snapshot.SnapshotException | IllegalArgumentException e) {
            return usage("--restore " + restoreDir + ": " + e.getMessage());
        }
        java.nio.file.Path memoryFile = restoreDir.resolve(org.jkvm.vmm.snapshot.SnapshotFiles.MEMORY_FILE);
        if (!Files.isRegularFile(memoryFile)) {
            return usage("--restore " + restoreDir + ": no guest RAM file " + memoryFile);
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
        List<QmpAddress> qmpAddresses = new ArrayList<>();
        for (String q : qmp) {
            try {
                qmpAddresses.add(QmpAddress.parse(q));
            } catch (IllegalArgumentException e) {
                return usage("--qmp " + q + ": " + e.getMessage());
            }
        }
        Optional<UUID> vmUuid;
        try {
            vmUuid = Optional.ofNullable(uuid).map(UUID::fromString);
        } catch (IllegalArgumentException e) {
            return usage("--uuid " + uuid + ": not a UUID (expected 8-4-4-4-12 hex digits)");
        }
        VmConfig config = new VmConfig(saved.kernel(), saved.initrd(), saved.cmdline(), saved.cpus(),
                saved.memoryBytes(), rebootAction, saved.disks(), saved.rng(), saved.console());
        Accelerator.Choice choice;
        try {
            choice = accelerator.open();
        } catch (HypervisorException e) {
            return usage(e.getMessage());
        }
        if (accelerator == Accelerator.AUTO) {
            err().println("jkvm: accel " + choice.reason());
        }
        return boot(config, new VmSupervisor.Identity(Optional.ofNullable(name), vmUuid), qmpAddresses, choice,
                new VmSupervisor.Restore(state, memoryFile));
    }

    private int boot(VmConfig config, VmSupervisor.Identity identity, List<QmpAddress> qmpAddresses,
                     Accelerator.Choice choice) {
        return boot(config, identity, qmpAddresses, choice, null);
    }

    private int boot(VmConfig config, VmSupervisor.Identity identity, List<QmpAddress> qmpAddresses,
                     Accelerator.Choice choice, VmSupervisor.Restore restoreFrom) {
        ConsoleOutput out = new ConsoleOutput(new FileOutputStream(FileDescriptor.out));
        VmSupervisor vm = new VmSupervisor(config, identity, choice.hypervisor(), out,
                msg -> err().println("jkvm: " + msg));
        if (restoreFrom != null) {
            vm.restoreFrom(restoreFrom);
        }
        // The monitor (and JSON) is loaded only when asked for: it costs start-up time and memory.
        QmpServer qmpServer = qmpAddresses.isEmpty() ? null : qmpServer(vm, qmpAddresses);
        TerminalMode[] terminal = new TerminalMode[1];
        try {
            List<CountDownLatch> waits = new ArrayList<>();
            List<QmpAddress> waitingOn = new ArrayList<>();
            for (QmpAddress a : qmpAddresses) {
                try {
                    CountDownLatch first = qmpServer.open(a);
                    if (a.waitForClient()) {
                        waits.add(first);
                        waitingOn.add(a);
                    }
                } catch (IOException e) {
                    return usage("--qmp " + a.spec() + ": " + e.getMessage());
                }
            }
            Signals.onTermination(sig -> vm.terminate(
                    ExitStatus.host(ShutdownCause.HOST_SIGNAL, "terminating on signal " + sig)));
            new ConsoleInput(new FileInputStream(FileDescriptor.in), () -> {
                Machine m = vm.currentMachine();
                return m == null ? null : m.devices().serial();
            }, () -> vm.terminate(ExitStatus.host(ShutdownCause.HOST_UI, "terminated by Ctrl-A x")),
                    msg -> err().print("\r\n" + msg + "\r\n")).start();
            for (int i = 0; i < waits.size(); i++) {
                err().println("jkvm: waiting for a QMP client on " + waitingOn.get(i).spec());
                while (!waits.get(i).await(50, TimeUnit.MILLISECONDS) && !vm.terminating()) {
                    // a signal or Ctrl-A x ends the wait
                }
            }
            ExitStatus status;
            try {
                status = vm.run(() -> terminal[0] = TerminalMode.rawIfTerminal(0));
            } catch (KernelLoadException e) {
                return usage(e.getMessage());
            } catch (HypervisorException e) {
                return usage(e.getMessage());
            } catch (org.jkvm.vmm.snapshot.SnapshotException e) {
                return usage("cannot restore: " + e.getMessage());
            }
            if (status.code() == ExitStatus.GUEST_CRASH || status.message().startsWith("terminat")) {
                err().println("jkvm: " + status.message());
            }
            return status.code();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.EXIT_USAGE;
        } finally {
            out.flush();
            if (qmpServer != null) {
                qmpServer.close();
            }
            out.close();
            if (terminal[0] != null) {
                terminal[0].close();
            }
            choice.hypervisor().close();
        }
    }

    private static QmpServer qmpServer(VmSupervisor vm, List<QmpAddress> qmpAddresses) {
        List<VmCommands.Chardev> chardevs = new ArrayList<>();
        for (int i = 0; i < qmpAddresses.size(); i++) {
            chardevs.add(new VmCommands.Chardev("compat_monitor" + i, qmpAddresses.get(i).filename()));
        }
        chardevs.add(new VmCommands.Chardev("serial0", "stdio"));
        QmpServer server = new QmpServer(VmCommands.table(Main.qmpVersion(), vm, chardevs));
        vm.addListener(server);
        return server;
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
