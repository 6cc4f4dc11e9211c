package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.BOOL;
import static org.jkvm.api.qmp.QapiType.EMPTY;
import static org.jkvm.api.qmp.QapiType.INT;
import static org.jkvm.api.qmp.QapiType.STR;
import static org.jkvm.api.qmp.QapiType.arrayOf;
import static org.jkvm.api.qmp.QapiType.optional;
import static org.jkvm.api.qmp.QapiType.required;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.pci.PciBar;
import org.jkvm.pci.PciBus;
import org.jkvm.pci.PciConfigSpace;
import org.jkvm.pci.PciDevice;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.VmSupervisor;

/**
 * QMP {@code query-pci} and HMP {@code info pci} (QEMU's qapi/pci.json and hw/pci/pci-hmp-cmds.c): bus 0 with each
 * function's IDs, class, INTx line and pin, and BARs at the addresses the guest programmed (QEMU's -1 for a BAR
 * that does not decode). jkvm has no PCI-to-PCI bridges, so {@code pci_bridge} never appears.
 */
final class PciCommands {
    static final QapiType.Struct PCI_MEMORY_REGION = QapiType.Struct.of("PciMemoryRegion",
            required("bar", INT), required("type", STR), required("address", INT), required("size", INT),
            optional("prefetch", BOOL), optional("mem_type_64", BOOL));
    static final QapiType.Struct PCI_DEVICE_INFO = QapiType.Struct.of("PciDeviceInfo",
            required("bus", INT), required("slot", INT), required("function", INT),
            required("class_info", QapiType.Struct.of("PciDeviceClass", optional("desc", STR),
                    required("class", INT))),
            required("id", QapiType.Struct.of("PciDeviceId", required("device", INT), required("vendor", INT),
                    optional("subsystem", INT), optional("subsystem-vendor", INT))),
            optional("irq", INT), required("irq_pin", INT), required("qdev_id", STR),
            required("regions", arrayOf(PCI_MEMORY_REGION)));
    static final QapiType.Struct PCI_INFO = QapiType.Struct.of("PciInfo",
            required("bus", INT), required("devices", arrayOf(PCI_DEVICE_INFO)));

    private PciCommands() {}

    static void register(CommandTable t, VmSupervisor vm) {
        t.add(new QmpCommand("query-pci", EMPTY, arrayOf(PCI_INFO), a -> queryPci(vm)));
    }

    /** QEMU's names for the classes jkvm's functions have (the 16-bit base class and subclass). */
    static String classDescription(int pciClass) {
        return switch (pciClass) {
            case 0x0100 -> "SCSI controller";
            case 0x0180 -> "Storage controller";
            case 0x0200 -> "Ethernet controller";
            case 0x0600 -> "Host bridge";
            default -> null;
        };
    }

    static ArrayNode queryPci(VmSupervisor vm) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        Machine m = vm.currentMachine();
        if (m == null) {
            return list;
        }
        PciBus bus = m.devices().pci().bus();
        ObjectNode info = list.addObject().put("bus", 0);
        ArrayNode devices = info.putArray("devices");
        List<PciDevice> slots = bus.devices();
        for (int slot = 0; slot < slots.size(); slot++) {
            PciDevice d = slots.get(slot);
            if (d != null) {
                devices.add(deviceInfo(slot, d));
            }
        }
        return list;
    }

    private static ObjectNode deviceInfo(int slot, PciDevice d) {
        PciConfigSpace c = d.config();
        ObjectNode o = Json.MAPPER.createObjectNode().put("bus", 0).put("slot", slot).put("function", 0);
        int pciClass = (int) c.get(PciConfigSpace.CLASS_PROG + 1, 2);
        ObjectNode cls = o.putObject("class_info");
        String desc = classDescription(pciClass);
        if (desc != null) {
            cls.put("desc", desc);
        }
        cls.put("class", pciClass);
        o.putObject("id").put("device", c.get(PciConfigSpace.DEVICE_ID, 2))
                .put("vendor", c.get(PciConfigSpace.VENDOR_ID, 2))
                .put("subsystem", c.get(PciConfigSpace.SUBSYSTEM_ID, 2))
                .put("subsystem-vendor", c.get(PciConfigSpace.SUBSYSTEM_VENDOR_ID, 2));
        int pin = (int) c.get(PciConfigSpace.INTERRUPT_PIN, 1);
        if (pin != 0) {
            o.put("irq", c.get(PciConfigSpace.INTERRUPT_LINE, 1));
        }
        o.put("irq_pin", pin);
        o.put("qdev_id", d.id());
        ArrayNode regions = o.putArray("regions");
        boolean decoding = (c.command() & PciConfigSpace.COMMAND_MEMORY) != 0;
        for (int i = 0; i < PciConfigSpace.BAR_COUNT; i++) {
            PciBar bar = c.bar(i);
            if (bar != null) {
                regions.addObject().put("bar", i).put("type", "memory")
                        .put("address", decoding ? c.barAddress(i) : -1).put("size", bar.sizeBytes())
                        .put("prefetch", bar.prefetchable()).put("mem_type_64", bar.is64());
            }
        }
        return o;
    }

    /** HMP {@code info pci}, in QEMU's words and layout. */
    static String infoPci(VmSupervisor vm) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode bus : queryPci(vm)) {
            for (JsonNode d : bus.get("devices")) {
                sb.append(String.format("  Bus %2d, device %3d, function %d:\r\n", d.get("bus").asInt(),
                        d.get("slot").asInt(), d.get("function").asInt()));
                JsonNode cls = d.get("class_info");
                sb.append("    ").append(cls.has("desc") ? cls.get("desc").asText()
                        : String.format("Class %04x", cls.get("class").asInt()));
                JsonNode id = d.get("id");
                sb.append(String.format(": PCI device %04x:%04x\r\n", id.get("vendor").asInt(),
                        id.get("device").asInt()));
                sb.append(String.format("      PCI subsystem %04x:%04x\r\n", id.get("subsystem-vendor").asInt(),
                        id.get("subsystem").asInt()));
                if (d.has("irq")) {
                    sb.append(String.format("      IRQ %d, pin %c\r\n", d.get("irq").asInt(),
                            (char) ('A' + d.get("irq_pin").asInt() - 1)));
                }
                for (JsonNode r : d.get("regions")) {
                    long address = r.get("address").asLong();
                    sb.append(String.format("      BAR%d: %d bit%s memory at 0x%08x [0x%08x].\r\n",
                            r.get("bar").asInt(), r.get("mem_type_64").asBoolean() ? 64 : 32,
                            r.get("prefetch").asBoolean() ? " prefetchable" : "", address,
                            address + r.get("size").asLong() - 1));
                }
                sb.append("      id \"").append(d.get("qdev_id").asText()).append("\"\r\n");
            }
        }
        return sb.toString();
    }
}
