package org.jkvm.api.qmp;

import java.util.List;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;
import org.jkvm.hypervisor.Vcpu;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.RunState;
import org.jkvm.vmm.VmSupervisor;

/**
 * The few human monitor commands jkvm has, for QMP's human-monitor-command: {@code info status}, {@code info cpus},
 * {@code info registers [-a]}, {@code stop}, {@code cont}/{@code c}, {@code system_reset},
 * {@code system_powerdown}, {@code quit}/{@code q}. Output is QEMU's text with "\r\n" line ends; an unknown command
 * is answered as QEMU does, "unknown command: '...'", not as an error.
 */
final class Hmp {
    private final VmSupervisor vm;

    Hmp(VmSupervisor vm) {
        this.vm = vm;
    }

    /** @param cpuIndex the monitor's current CPU, or -1 for CPU 0 */
    String execute(String line, int cpuIndex) throws QmpError, InterruptedException {
        String[] words = line.trim().split("\\s+");
        int cpu = Math.max(cpuIndex, 0);
        if (cpuIndex >= vm.config().cpus()) {
            throw QmpError.generic("CPU index out of range");
        }
        switch (words[0]) {
            case "info" -> {
                if (words.length < 2) {
                    return "info cpus  -- show infos for each CPU\r\ninfo registers [-a]  -- show the cpu registers"
                            + "\r\ninfo pci  -- show PCI info"
                            + "\r\ninfo status  -- show the current VM status (running|paused)\r\n";
                }
                switch (words[1]) {
                    case "status" -> {
                        return "VM status: " + status() + "\r\n";
                    }
                    case "pci" -> {
                        return PciCommands.infoPci(vm);
                    }
                    case "cpus" -> {
                        StringBuilder sb = new StringBuilder();
                        int[] tids = vm.vcpuThreadIds();
                        for (int i = 0; i < tids.length; i++) {
                            sb.append(i == cpu ? "* " : "  ").append("CPU #").append(i).append(": thread_id=")
                                    .append(tids[i]).append("\r\n");
                        }
                        return sb.toString();
                    }
                    case "registers" -> {
                        boolean all = words.length > 2 && words[2].equals("-a");
                        try {
                            return vm.withVcpusParked(m -> registers(m, all ? -1 : cpu));
                        } catch (IllegalStateException e) {
                            throw QmpError.generic(e.getMessage());
                        }
                    }
                    default -> {
                        return "unknown command: '" + line.trim() + "'\r\n";
                    }
                }
            }
            case "stop" -> {
                vm.stop();
                return "";
            }
            case "c", "cont" -> {
                vm.cont();
                return "";
            }
            case "system_reset" -> {
                vm.systemReset();
                return "";
            }
            case "system_powerdown" -> {
                vm.systemPowerdown();
                return "";
            }
            case "q", "quit" -> {
                vm.quit();
                return "";
            }
            default -> {
                return "unknown command: '" + line.trim() + "'\r\n";
            }
        }
    }

    private String status() {
        RunState s = vm.state();
        return switch (s) {
            case RUNNING -> "running";
            case PAUSED -> "paused";
            default -> "paused (" + s.qapiName() + ")";
        };
    }

    /** QEMU's x86 register dump (target/i386 x86_cpu_dump_state), 64-bit form in long mode, else 32-bit. */
    static String registers(Machine m, int only) {
        StringBuilder sb = new StringBuilder();
        List<Vcpu> vcpus = m.vcpus();
        for (Vcpu v : vcpus) {
            if (only >= 0 && v.index() != only) {
                continue;
            }
            Regs r = v.getRegs();
            Sregs s = v.getSregs();
            sb.append("\r\nCPU#").append(v.index()).append("\r\n");
            boolean lm = (s.efer() & (1 << 10)) != 0 && s.cs().l();
            long fl = r.rflags();
            String flags = "[" + (bit(fl, 10) ? 'D' : '-') + (bit(fl, 11) ? 'O' : '-') + (bit(fl, 7) ? 'S' : '-')
                    + (bit(fl, 6) ? 'Z' : '-') + (bit(fl, 4) ? 'A' : '-') + (bit(fl, 2) ? 'P' : '-')
                    + (bit(fl, 0) ? 'C' : '-') + "]";
            int cpl = s.cs().selector() & 3;
            if (lm) {
                sb.append(String.format("RAX=%016x RBX=%016x RCX=%016x RDX=%016x\r\n", r.rax(), r.rbx(), r.rcx(), r.rdx()));
                sb.append(String.format("RSI=%016x RDI=%016x RBP=%016x RSP=%016x\r\n", r.rsi(), r.rdi(), r.rbp(), r.rsp()));
                sb.append(String.format("R8 =%016x R9 =%016x R10=%016x R11=%016x\r\n", r.r8(), r.r9(), r.r10(), r.r11()));
                sb.append(String.format("R12=%016x R13=%016x R14=%016x R15=%016x\r\n", r.r12(), r.r13(), r.r14(), r.r15()));
                sb.append(String.format("RIP=%016x RFL=%08x %s CPL=%d\r\n", r.rip(), fl, flags, cpl));
            } else {
                sb.append(String.format("EAX=%08x EBX=%08x ECX=%08x EDX=%08x\r\n", (int) r.rax(), (int) r.rbx(),
                        (int) r.rcx(), (int) r.rdx()));
                sb.append(String.format("ESI=%08x EDI=%08x EBP=%08x ESP=%08x\r\n", (int) r.rsi(), (int) r.rdi(),
                        (int) r.rbp(), (int) r.rsp()));
                sb.append(String.format("EIP=%08x EFL=%08x %s CPL=%d\r\n", (int) r.rip(), fl, flags, cpl));
            }
            segment(sb, "ES =", s.es(), lm);
            segment(sb, "CS =", s.cs(), lm);
            segment(sb, "SS =", s.ss(), lm);
            segment(sb, "DS =", s.ds(), lm);
            segment(sb, "FS =", s.fs(), lm);
            segment(sb, "GS =", s.gs(), lm);
            segment(sb, "LDT=", s.ldt(), lm);
            segment(sb, "TR =", s.tr(), lm);
            table(sb, "GDT=", s.gdt(), lm);
            table(sb, "IDT=", s.idt(), lm);
            if (lm) {
                sb.append(String.format("CR0=%08x CR2=%016x CR3=%016x CR4=%08x\r\n", s.cr0(), s.cr2(), s.cr3(), s.cr4()));
            } else {
                sb.append(String.format("CR0=%08x CR2=%08x CR3=%08x CR4=%08x\r\n", s.cr0(), s.cr2(), s.cr3(), s.cr4()));
            }
            sb.append(String.format("EFER=%016x\r\n", s.efer()));
        }
        return sb.toString();
    }

    private static boolean bit(long v, int n) {
        return (v >>> n & 1) != 0;
    }

    private static void segment(StringBuilder sb, String label, Segment seg, boolean lm) {
        String base = lm ? String.format("%016x", seg.base()) : String.format("%08x", (int) seg.base());
        sb.append(String.format("%s%04x %s %08x %08x DPL=%d\r\n", label, seg.selector(), base, seg.limit(),
                seg.accessRights() << 8, seg.dpl()));
    }

    private static void table(StringBuilder sb, String label, DescriptorTable t, boolean lm) {
        String base = lm ? String.format("%016x", t.base()) : String.format("%08x", (int) t.base());
        sb.append(String.format("%s     %s %08x\r\n", label, base, t.limit()));
    }
}
