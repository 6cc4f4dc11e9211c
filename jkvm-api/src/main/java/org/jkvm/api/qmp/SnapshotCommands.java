package org.jkvm.api.qmp;

import static org.jkvm.api.qmp.QapiType.optional;
import static org.jkvm.api.qmp.QapiType.required;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.jkvm.vmm.VmSupervisor;
import org.jkvm.vmm.snapshot.SnapshotException;

/**
 * Saving the VM to a snapshot directory (docs/snapshot.md): QEMU's {@code migrate} with a {@code file:} URI (as
 * QEMU 8.2+ accepts it; jkvm's file is a snapshot directory) and {@code query-migrate} (qapi/migration.json,
 * MigrationInfo's status, total-time and ram), and jkvm's own pair {@code x-jkvm-snapshot-save} and
 * {@code x-jkvm-snapshot-load} with a plain path (the load replaces the running VM by the snapshot's). A snapshot is
 * also loaded when jkvm starts ({@code jkvm run --restore DIR} or {@code --incoming file:DIR}).
 */
final class SnapshotCommands {
    static final QapiType.Struct MIGRATE_ARGS = QapiType.Struct.of("q_obj_migrate-arg",
            optional("uri", QapiType.STR), optional("detach", QapiType.BOOL), optional("resume", QapiType.BOOL));
    static final QapiType.Struct MIGRATION_STATS = QapiType.Struct.of("MigrationStats",
            required("transferred", QapiType.INT), required("remaining", QapiType.INT), required("total", QapiType.INT),
            required("duplicate", QapiType.INT), required("normal", QapiType.INT),
            required("normal-bytes", QapiType.INT));
    static final QapiType.Struct MIGRATION_INFO = QapiType.Struct.of("MigrationInfo",
            optional("status", QapiType.Enum.of("MigrationStatus", "none", "setup", "cancelling", "cancelled",
                    "active", "postcopy-active", "postcopy-paused", "postcopy-recover-setup", "postcopy-recover",
                    "completed", "failed", "colo", "pre-switchover", "device", "wait-unplug")),
            optional("ram", MIGRATION_STATS), optional("total-time", QapiType.INT),
            optional("error-desc", QapiType.STR));
    static final QapiType.Struct SAVE_ARGS = QapiType.Struct.of("q_obj_x-jkvm-snapshot-save-arg",
            required("path", QapiType.STR));
    static final QapiType.Struct SAVE_RESULT = QapiType.Struct.of("JkvmSnapshotInfo",
            required("path", QapiType.STR), required("total-time", QapiType.INT), required("ram-bytes", QapiType.INT),
            required("ram-written-bytes", QapiType.INT));

    static final QapiType.Struct LOAD_ARGS = QapiType.Struct.of("q_obj_x-jkvm-snapshot-load-arg",
            required("path", QapiType.STR));

    private SnapshotCommands() {}

    static void register(CommandTable t, VmSupervisor vm) {
        t.add(new QmpCommand("migrate", MIGRATE_ARGS, QapiType.EMPTY, a -> {
            if (!a.has("uri")) {
                throw QmpError.generic("migrate: jkvm needs 'uri' (file:PATH); 'channels' is not supported");
            }
            String uri = a.get("uri").asText();
            if (!uri.startsWith("file:") || uri.length() == 5) {
                throw QmpError.generic("migrate: only file:PATH URIs are supported (a snapshot directory), not '"
                        + uri + "'");
            }
            if (a.has("resume") && a.get("resume").asBoolean()) {
                throw QmpError.generic("migrate: resume is not supported");
            }
            save(vm, Path.of(uri.substring(5)));
            return Json.MAPPER.createObjectNode();
        }));
        t.add(new QmpCommand("query-migrate", QapiType.EMPTY, MIGRATION_INFO, a -> {
            ObjectNode r = Json.MAPPER.createObjectNode();
            VmSupervisor.SnapshotInfo info = vm.lastSnapshot();
            if (info == null) {
                return r;
            }
            r.put("status", info.status());
            if (!"active".equals(info.status())) {
                r.put("total-time", info.totalMillis());
            }
            long pages = info.ramBytes() / 4096;
            long normal = Math.max(0, info.ramWrittenBytes()) / 4096;
            r.putObject("ram").put("transferred", Math.max(0, info.ramWrittenBytes())).put("remaining", 0)
                    .put("total", info.ramBytes()).put("duplicate", pages - normal).put("normal", normal)
                    .put("normal-bytes", normal * 4096);
            if (info.error() != null) {
                r.put("error-desc", info.error());
            }
            return r;
        }));
        t.add(new QmpCommand("x-jkvm-snapshot-save", SAVE_ARGS, SAVE_RESULT, a -> {
            String path = a.get("path").asText();
            VmSupervisor.SnapshotInfo info = save(vm, Path.of(path));
            return Json.MAPPER.createObjectNode().put("path", path).put("total-time", info.totalMillis())
                    .put("ram-bytes", info.ramBytes()).put("ram-written-bytes", info.ramWrittenBytes());
        }));
        registerLoad(t, vm);
    }

    static void registerLoad(CommandTable t, VmSupervisor vm) {
        t.add(new QmpCommand("x-jkvm-snapshot-load", LOAD_ARGS, QapiType.EMPTY, a -> {
            try {
                vm.loadSnapshot(Path.of(a.get("path").asText()));
            } catch (SnapshotException e) {
                throw QmpError.generic(e.getMessage());
            }
            return Json.MAPPER.createObjectNode();
        }));
    }

    private static VmSupervisor.SnapshotInfo save(VmSupervisor vm, Path dir) throws QmpError {
        try {
            return vm.saveSnapshot(dir);
        } catch (SnapshotException e) {
            throw QmpError.generic(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw QmpError.generic("interrupted while saving the snapshot");
        }
    }
}
