package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.BOOL;
import static org.jkvm.api.qmp.QapiType.EMPTY;
import static org.jkvm.api.qmp.QapiType.INT;
import static org.jkvm.api.qmp.QapiType.STR;
import static org.jkvm.api.qmp.QapiType.arrayOf;
import static org.jkvm.api.qmp.QapiType.optional;
import static org.jkvm.api.qmp.QapiType.required;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.net.MacAddress;
import org.jkvm.net.RxFilter;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.VmSupervisor;
import org.jkvm.vmm.device.PciPlatform;

/**
 * QMP for NICs (QEMU's qapi/net.json): {@code query-rx-filter} (each virtio-net NIC's receive filter as the guest
 * programmed it; asking re-arms that NIC's NIC_RX_FILTER_CHANGED event, as QEMU), {@code set_link} (the link as the
 * guest sees it) and the NIC_RX_FILTER_CHANGED event.
 */
final class NetCommands {
    static final QapiType.Enum RX_STATE = QapiType.Enum.of("RxState", "normal", "none", "all");
    static final QapiType.Struct RX_FILTER_INFO = QapiType.Struct.of("RxFilterInfo",
            required("name", STR), required("promiscuous", BOOL), required("multicast", RX_STATE),
            required("unicast", RX_STATE), required("vlan", RX_STATE), required("broadcast-allowed", BOOL),
            required("multicast-overflow", BOOL), required("unicast-overflow", BOOL), required("main-mac", STR),
            required("vlan-table", arrayOf(INT)), required("unicast-table", arrayOf(STR)),
            required("multicast-table", arrayOf(STR)));
    static final QapiType.Struct RX_FILTER_ARGS = QapiType.Struct.of("q_obj_query-rx-filter-arg",
            optional("name", STR));
    static final QapiType.Struct SET_LINK_ARGS = QapiType.Struct.of("q_obj_set_link-arg",
            required("name", STR), required("up", BOOL));
    static final QapiType.Struct NIC_RX_FILTER_CHANGED = QapiType.Struct.of("q_obj_NIC_RX_FILTER_CHANGED-arg",
            optional("name", STR), required("path", STR));

    private NetCommands() {}

    static void register(CommandTable t, VmSupervisor vm) {
        t.add(new QmpCommand("query-rx-filter", RX_FILTER_ARGS, arrayOf(RX_FILTER_INFO),
                a -> queryRxFilter(vm, a.has("name") ? a.get("name").asText() : null)));
        t.add(new QmpCommand("set_link", SET_LINK_ARGS, EMPTY, a -> {
            String name = a.get("name").asText();
            if (!vm.setLink(name, a.get("up").asBoolean())) {
                throw new QmpError(QmpError.ErrorClass.DeviceNotFound, "Device '" + name + "' not found");
            }
            return Json.MAPPER.createObjectNode();
        }));
        t.addEvent(new QmpCommand.Event("NIC_RX_FILTER_CHANGED", NIC_RX_FILTER_CHANGED));
    }

    static ArrayNode queryRxFilter(VmSupervisor vm, String name) throws QmpError {
        ArrayNode list = Json.MAPPER.createArrayNode();
        Machine m = vm.currentMachine();
        boolean found = false;
        if (m != null) {
            for (PciPlatform.Nic n : m.devices().pci().nics()) {
                if (name != null && !name.equals(n.name())) {
                    continue;
                }
                found = true;
                RxFilter f = n.net().filter();
                n.net().rearmFilterEvent();
                ObjectNode o = list.addObject().put("name", n.name()).put("promiscuous", f.promisc())
                        .put("multicast", f.noMulti() ? "none" : f.allMulti() ? "all" : "normal")
                        .put("unicast", f.noUni() ? "none" : f.allUni() ? "all" : "normal")
                        .put("vlan", "all") // no VLAN filtering (CTRL_VLAN is not offered): everything passes
                        .put("broadcast-allowed", !f.noBroadcast())
                        .put("multicast-overflow", f.multicastOverflow())
                        .put("unicast-overflow", f.unicastOverflow())
                        .put("main-mac", MacAddress.format(f.mac()));
                o.putArray("vlan-table");
                ArrayNode uni = o.putArray("unicast-table");
                for (long mac : f.unicast()) {
                    uni.add(MacAddress.format(mac));
                }
                ArrayNode multi = o.putArray("multicast-table");
                for (long mac : f.multicast()) {
                    multi.add(MacAddress.format(mac));
                }
            }
        }
        if (name != null && !found) {
            throw QmpError.generic("invalid net client name: " + name);
        }
        return list;
    }
}
