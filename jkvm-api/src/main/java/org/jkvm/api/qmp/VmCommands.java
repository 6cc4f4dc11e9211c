package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.EMPTY;
import static org.jkvm.api.qmp.QapiType.STR;
import static org.jkvm.api.qmp.QapiType.arrayOf;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.vmm.RunState;
import org.jkvm.vmm.VmSupervisor;

/**
 * jkvm's QMP commands on a {@link VmSupervisor}, with QEMU's names, argument and result shapes
 * (qapi/run-state.json, misc.json, machine.json, control.json, char.json, block-core.json). The vCPU topology is
 * jkvm's: one socket of N single-threaded cores.
 */
public final class VmCommands {
    /** A character device for query-chardev (QEMU's ChardevInfo). */
    public record Chardev(String label, String filename) {}

    private static final ObjectNode NOTHING = Json.MAPPER.createObjectNode();

    private VmCommands() {}

    /** The whole table: QMP's own commands, the VM's, and the events. */
    public static CommandTable table(CommandTable.Version version, VmSupervisor vm, List<Chardev> chardevs) {
        CommandTable t = new CommandTable(version);
        Hmp hmp = new Hmp(vm);
        t.add(new QmpCommand("query-status", EMPTY, QmpTypes.STATUS_INFO, a -> {
            RunState s = vm.state();
            return obj().put("running", s == RunState.RUNNING).put("singlestep", false).put("status", s.qapiName());
        }));
        t.add(new QmpCommand("query-name", EMPTY, QmpTypes.NAME_INFO, a -> {
            ObjectNode r = obj();
            vm.identity().name().ifPresent(n -> r.put("name", n));
            return r;
        }));
        t.add(new QmpCommand("query-uuid", EMPTY, QmpTypes.UUID_INFO, a -> obj().put("UUID",
                vm.identity().uuid().map(Object::toString).orElse("00000000-0000-0000-0000-000000000000"))));
        t.add(new QmpCommand("query-kvm", EMPTY, QmpTypes.KVM_INFO,
                a -> obj().put("enabled", vm.kvmEnabled()).put("present", true)));
        t.add(new QmpCommand("query-cpus-fast", EMPTY, arrayOf(QmpTypes.CPU_INFO_FAST), a -> {
            ArrayNode list = Json.MAPPER.createArrayNode();
            int[] tids = vm.vcpuThreadIds();
            for (int i = 0; i < tids.length; i++) {
                ObjectNode c = list.addObject().put("cpu-index", i).put("qom-path", qomPath(i))
                        .put("thread-id", tids[i]);
                props(c.putObject("props"), i);
                c.put("target", "x86_64");
            }
            return list;
        }));
        t.add(new QmpCommand("query-hotpluggable-cpus", EMPTY, arrayOf(QmpTypes.HOTPLUGGABLE_CPU), a -> {
            ArrayNode list = Json.MAPPER.createArrayNode();
            for (int i = vm.config().cpus() - 1; i >= 0; i--) { // QEMU lists them last first
                ObjectNode c = list.addObject().put("type", "host-x86_64-cpu").put("vcpus-count", 1);
                props(c.putObject("props"), i);
                c.put("qom-path", qomPath(i));
            }
            return list;
        }));
        t.add(new QmpCommand("query-memory-size-summary", EMPTY, QmpTypes.MEMORY_INFO,
                a -> obj().put("base-memory", vm.config().memoryBytes()).put("plugged-memory", 0)));
        t.add(new QmpCommand("query-chardev", EMPTY, arrayOf(QmpTypes.CHARDEV_INFO), a -> {
            ArrayNode list = Json.MAPPER.createArrayNode();
            chardevs.forEach(c -> list.addObject().put("label", c.label()).put("filename", c.filename())
                    .put("frontend-open", true));
            return list;
        }));
        BlockCommands.register(t, vm);
        PciCommands.register(t, vm);
        SnapshotCommands.register(t, vm);
        NetCommands.register(t, vm);
        t.add(new QmpCommand("stop", EMPTY, EMPTY, a -> {
            try {
                vm.stop();
            } catch (IllegalStateException e) {
                throw QmpError.generic(e.getMessage());
            }
            return NOTHING;
        }));
        t.add(new QmpCommand("cont", EMPTY, EMPTY, a -> {
            vm.cont();
            return NOTHING;
        }));
        t.add(new QmpCommand("system_reset", EMPTY, EMPTY, a -> {
            vm.systemReset();
            return NOTHING;
        }));
        t.add(new QmpCommand("system_powerdown", EMPTY, EMPTY, a -> {
            vm.systemPowerdown();
            return NOTHING;
        }));
        t.add(new QmpCommand("quit", EMPTY, EMPTY, a -> {
            vm.quit();
            return NOTHING;
        }));
        t.add(new QmpCommand("human-monitor-command", QmpTypes.HMP_ARGS, STR, a -> {
            JsonNode cpu = a.get("cpu-index");
            return Json.MAPPER.getNodeFactory().textNode(
                    hmp.execute(a.get("command-line").asText(), cpu == null ? -1 : cpu.asInt()));
        }));
        t.addEvent(new QmpCommand.Event("SHUTDOWN", QmpTypes.SHUTDOWN_DATA));
        t.addEvent(new QmpCommand.Event("POWERDOWN", EMPTY));
        t.addEvent(new QmpCommand.Event("RESET", QmpTypes.RESET_DATA));
        t.addEvent(new QmpCommand.Event("STOP", EMPTY));
        t.addEvent(new QmpCommand.Event("RESUME", EMPTY));
        t.addEvent(new QmpCommand.Event("GUEST_PANICKED", QmpTypes.GUEST_PANICKED_DATA));
        return t;
    }

    static String qomPath(int cpu) {
        return "/machine/unattached/device[" + cpu + "]";
    }

    private static void props(ObjectNode p, int cpu) {
        p.put("core-id", cpu).put("thread-id", 0).put("socket-id", 0);
    }

    private static ObjectNode obj() {
        return Json.MAPPER.createObjectNode();
    }
}
