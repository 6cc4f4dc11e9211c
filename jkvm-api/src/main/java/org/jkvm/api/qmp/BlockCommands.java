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

import org.jkvm.block.BlockStats;
import org.jkvm.block.DiskConfig;
import org.jkvm.vmm.Machine;
import org.jkvm.vmm.VmSupervisor;
import org.jkvm.vmm.device.PciPlatform;

/**
 * QMP {@code query-block} and {@code query-blockstats} (QEMU's qapi/block-core.json) fed from the VM's virtio-blk
 * disks. {@code BlockDeviceInfo} has QEMU's required members (throttling is not implemented: its limits are 0, as
 * QEMU reports "no limit"); {@code BlockDeviceStats} has the counters jkvm keeps ({@link BlockStats}): bytes,
 * operations, total time, failed and invalid operations of reads, writes, flushes and unmaps (discard and write
 * zeroes); no zone append, timed statistics or idle time (docs/qmp.md).
 */
final class BlockCommands {
    static final QapiType.Struct IMAGE_INFO = QapiType.Struct.of("ImageInfo",
            required("filename", STR), required("format", STR), required("virtual-size", INT),
            optional("actual-size", INT));
    static final QapiType.Struct CACHE_INFO = QapiType.Struct.of("BlockdevCacheInfo",
            required("writeback", BOOL), required("direct", BOOL), required("no-flush", BOOL));
    static final QapiType.Struct BLOCK_DEVICE_INFO = QapiType.Struct.of("BlockDeviceInfo",
            required("file", STR), optional("node-name", STR), required("ro", BOOL), required("drv", STR),
            required("backing_file_depth", INT), required("encrypted", BOOL),
            required("detect_zeroes", QapiType.Enum.of("BlockdevDetectZeroesOptions", "off", "on", "unmap")),
            required("bps", INT), required("bps_rd", INT), required("bps_wr", INT), required("iops", INT),
            required("iops_rd", INT), required("iops_wr", INT), required("image", IMAGE_INFO),
            required("write_threshold", INT), required("cache", CACHE_INFO));
    static final QapiType.Struct BLOCK_INFO = QapiType.Struct.of("BlockInfo",
            required("device", STR), optional("qdev", STR), required("type", STR), required("removable", BOOL),
            required("locked", BOOL), optional("inserted", BLOCK_DEVICE_INFO), optional("tray_open", BOOL),
            optional("io-status", QapiType.Enum.of("BlockDeviceIoStatus", "ok", "failed", "nospace")));
    static final QapiType.Struct BLOCKSTATS_ARGS = QapiType.Struct.of("q_obj_query-blockstats-arg",
            optional("query-nodes", BOOL));
    /** BlockDeviceStats with the members jkvm counts (no zone append, no timed statistics, no idle time). */
    static final QapiType.Struct BLOCK_DEVICE_STATS = QapiType.Struct.of("BlockDeviceStats",
            required("rd_bytes", INT), required("wr_bytes", INT), required("unmap_bytes", INT),
            required("rd_operations", INT), required("wr_operations", INT), required("flush_operations", INT),
            required("unmap_operations", INT), required("rd_total_time_ns", INT), required("wr_total_time_ns", INT),
            required("flush_total_time_ns", INT), required("unmap_total_time_ns", INT), required("rd_merged", INT),
            required("wr_merged", INT), required("unmap_merged", INT),
            required("failed_rd_operations", INT), required("failed_wr_operations", INT),
            required("failed_flush_operations", INT), required("failed_unmap_operations", INT),
            required("invalid_rd_operations", INT), required("invalid_wr_operations", INT),
            required("invalid_flush_operations", INT), required("invalid_unmap_operations", INT),
            required("account_invalid", BOOL), required("account_failed", BOOL));
    static final QapiType.Struct BLOCK_STATS = QapiType.Struct.of("BlockStats",
            optional("device", STR), optional("qdev", STR), optional("node-name", STR),
            required("stats", BLOCK_DEVICE_STATS));

    private BlockCommands() {}

    static void register(CommandTable t, VmSupervisor vm) {
        t.add(new QmpCommand("query-block", EMPTY, arrayOf(BLOCK_INFO), a -> queryBlock(vm)));
        t.add(new QmpCommand("query-blockstats", BLOCKSTATS_ARGS, arrayOf(BLOCK_STATS), a -> queryBlockstats(vm)));
    }

    /** QEMU's qdev path of an anonymous or named virtio-blk-pci's backend. */
    static String qdev(PciPlatform.Disk d) {
        return d.config().id().map(id -> "/machine/peripheral/" + id + "/virtio-backend")
                .orElse("/machine/peripheral-anon/device[" + (d.slot() - 1) + "]/virtio-backend");
    }

    static ArrayNode queryBlock(VmSupervisor vm) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        Machine m = vm.currentMachine();
        if (m == null) {
            return list;
        }
        for (PciPlatform.Disk d : m.devices().pci().disks()) {
            DiskConfig c = d.config();
            ObjectNode b = list.addObject().put("device", "").put("qdev", qdev(d)).put("type", "unknown")
                    .put("removable", false).put("locked", false);
            ObjectNode in = b.putObject("inserted");
            String file = c.path().toString();
            in.put("file", file).put("ro", c.readOnly()).put("drv", "raw").put("backing_file_depth", 0)
                    .put("encrypted", false).put("detect_zeroes", "off");
            for (String limit : new String[] {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"}) {
                in.put(limit, 0);
            }
            in.putObject("image").put("filename", file).put("format", "raw")
                    .put("virtual-size", d.image().sizeBytes());
            in.put("write_threshold", 0);
            in.putObject("cache").put("writeback", true).put("direct", d.image().direct()).put("no-flush", false);
            b.put("io-status", "ok");
        }
        return list;
    }

    static ArrayNode queryBlockstats(VmSupervisor vm) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        Machine m = vm.currentMachine();
        if (m != null) {
            for (PciPlatform.Disk d : m.devices().pci().disks()) {
                ObjectNode s = list.addObject().put("device", "").put("qdev", qdev(d)).putObject("stats");
                BlockStats st = d.blk().stats();
                s.put("rd_bytes", st.bytes(BlockStats.READ)).put("wr_bytes", st.bytes(BlockStats.WRITE))
                        .put("unmap_bytes", st.bytes(BlockStats.UNMAP));
                String[] names = {"rd", "wr", "flush", "unmap"};
                int[] kinds = {BlockStats.READ, BlockStats.WRITE, BlockStats.FLUSH, BlockStats.UNMAP};
                for (int i = 0; i < kinds.length; i++) {
                    s.put(names[i] + "_operations", st.operations(kinds[i]));
                }
                for (int i = 0; i < kinds.length; i++) {
                    s.put(names[i] + "_total_time_ns", st.totalTimeNs(kinds[i]));
                }
                s.put("rd_merged", 0).put("wr_merged", 0).put("unmap_merged", 0); // jkvm merges no requests
                for (int i = 0; i < kinds.length; i++) {
                    s.put("failed_" + names[i] + "_operations", st.failedOperations(kinds[i]));
                }
                for (int i = 0; i < kinds.length; i++) {
                    s.put("invalid_" + names[i] + "_operations", st.invalidOperations(kinds[i]));
                }
                s.put("account_invalid", true).put("account_failed", true);
            }
        }
        return list;
    }
}
