package org.jkvm.cli;

import org.jkvm.api.qmp.CommandTable;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code jkvm} command. */
@Command(name = "jkvm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A KVM virtual machine monitor in Java.",
        subcommands = {RunCommand.class, QmpCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the guest powered off or rebooted, or jkvm was told to stop (signal, Ctrl-A x)",
            "2:bad usage or nothing could be started (missing /dev/kvm, bad kernel, bad sizes...)",
            "4:the guest crashed (triple fault) or the backend failed",
            "odd:(v << 1) | 1 after the guest wrote v to the debug-exit port 0xf4"})
public final class Main {
    /** Exit status for usage errors and anything that prevents the VM from starting. */
    public static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cmd = new CommandLine(Main.class);
        cmd.setExitCodeExceptionMapper(t -> EXIT_USAGE);
        cmd.setParameterExceptionHandler((ex, a) -> {
            String sub = ex.getCommandLine().getCommandName().equals("jkvm")
                    ? "" : ex.getCommandLine().getCommandName() + " ";
            ex.getCommandLine().getErr().println("jkvm: " + ex.getMessage() + " (see 'jkvm " + sub + "--help')");
            return EXIT_USAGE;
        });
        return cmd.execute(args);
    }

    /** jkvm's version in QMP's VersionInfo shape: 0.1.0-SNAPSHOT is major 0, minor 1, micro 0. */
    static CommandTable.Version qmpVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        int[] n = new int[3];
        if (v != null) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?").matcher(v);
            if (m.lookingAt()) {
                for (int i = 0; i < 3; i++) {
                    n[i] = m.group(i + 1) == null ? 0 : Integer.parseInt(m.group(i + 1));
                }
            }
        }
        return new CommandTable.Version(n[0], n[1], n[2], "jkvm " + (v != null ? v : "(development build)"));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"jkvm " + (v != null ? v : "(development build)") + ", Java "
                    + Runtime.version()};
        }
    }
}
