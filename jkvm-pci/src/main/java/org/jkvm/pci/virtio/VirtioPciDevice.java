package org.jkvm.pci.virtio;

import static org.jkvm.pci.virtio.VirtioPciLayout.*;

import java.util.concurrent.atomic.AtomicBoolean;

import org.jkvm.devices.InterruptLine;
import org.jkvm.memory.GuestMemory;
import org.jkvm.pci.MsiSink;
import org.jkvm.pci.MsixTable;
import org.jkvm.pci.PciConfigSpace;
import org.jkvm.pci.PciDevice;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * A virtio device on PCI, the modern (virtio 1.x, non-transitional) interface of virtio 1.2 section 4.1: the
 * structure capabilities (common, notify, ISR, device, PCI configuration access), feature negotiation (VERSION_1
 * required), the device status machine, queue setup, MSI-X vectors for configuration changes and queues, and INTx
 * with the ISR when MSI-X is off. {@link VirtioPciLayout} gives the BAR layout.
 *
 * <p>Threads: vCPU threads access the BAR and config space; an I/O thread calls {@link #processQueue} when a queue
 * was notified. A notify write reaching this device (the software CPU, or KVM without ioeventfd) is handed to
 * {@link Hooks#kick}, which wakes that I/O thread: requests are never processed on a vCPU thread. Locks: this
 * object guards the registers; each queue has a lock held while its requests are processed and while the
 * transport changes it (lock order: this, then the queue's). Status bits are read without either.
 *
 * <p>Errors: a {@link VirtQueueException} (a malformed ring or request) or any unexpected failure while processing
 * puts the device in DEVICE_NEEDS_RESET (status bit 0x40, section 2.1.2) with a configuration-change interrupt; it
 * is reported once on stderr and processing stops until the driver resets the device. Nothing the driver writes
 * can make this class throw.
 */
public final class VirtioPciDevice implements PciDevice {
    /** How the transport reaches the VMM's event machinery. */
    public interface Hooks {
        /** Queue {@code queue} was notified through an MMIO write: wake the I/O thread for it. */
        void kick(int queue);

        /**
         * The notify address of {@code queue} moved from {@code oldGpa} to {@code newGpa} (-1: none), for an
         * in-kernel ioeventfd.
         */
        default void notifyMoved(int queue, long oldGpa, long newGpa) {
        }
    }

    private final VirtioDevice device;
    private final PciConfigSpace config;
    private final MsixTable msix;
    private final InterruptLine intx;
    private final Hooks hooks;
    private final String id;
    private final int numQueues;
    private final VirtQueue[] queues;
    private final VirtioDevice.QueueHandler[] handlers;
    private final Object[] queueLocks;
    private final int[] queueVectors;
    private final byte[] scratch = new byte[8];
    private final Object isrLock = new Object();
    private final AtomicBoolean failureReported = new AtomicBoolean();
    private final int pciCfgCap;

    private volatile int status;
    private int isr;
    private int deviceFeatureSelect;
    private int driverFeatureSelect;
    private long driverFeatures;
    private int configVector = NO_VECTOR;
    private int queueSelect;
    private long barGpa = -1;
    private volatile String failure;
    /** Set while a snapshot is taken: queues are not processed; a kick meanwhile is replayed on {@link #resumeIo}. */
    private volatile boolean quiesced;
    private volatile int configGeneration;

    /**
     * Wraps {@code device} (its queues in {@code memory}) with PCI class {@code classCode}; MSI-X messages go to
     * {@code msi}, INTx to {@code intx}.
     */
    public VirtioPciDevice(VirtioDevice device, GuestMemory memory, int classCode, MsiSink msi, InterruptLine intx,
                           Hooks hooks, String id) {
        this.device = device;
        this.numQueues = device.numQueues();
        if (numQueues < 1 || numQueues + 1 > MAX_VECTORS) {
            throw new IllegalArgumentException(device.name() + ": 1 to " + (MAX_VECTORS - 1) + " queues");
        }
        if (device.configSize() > DEVICE_WINDOW) {
            throw new IllegalArgumentException(device.name() + ": configuration space over 4 KiB");
        }
        this.intx = intx;
        this.hooks = hooks;
        this.id = id;
        this.queues = new VirtQueue[numQueues];
        this.handlers = new VirtioDevice.QueueHandler[numQueues];
        this.queueLocks = new Object[numQueues];
        this.queueVectors = new int[numQueues];
        for (int q = 0; q < numQueues; q++) {
            queues[q] = new VirtQueue(memory, device.maxQueueSize(q));
            queueLocks[q] = new Object();
            queueVectors[q] = NO_VECTOR;
        }
        this.msix = new MsixTable(numQueues + 1, msi);
        this.config = new PciConfigSpace(VENDOR_ID, DEVICE_ID_BASE + device.deviceType(), classCode, REVISION,
                SUBSYSTEM_VENDOR_ID, SUBSYSTEM_ID);
        config.addBar(BAR, BAR_SIZE, true, false);
        config.setInterruptPin(1, 0);
        msix.addCapability(config, BAR, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET);
        addCap(CAP_COMMON_CFG, CAP_BYTES, COMMON_OFFSET, COMMON_LENGTH);
        int notify = addCap(CAP_NOTIFY_CFG, NOTIFY_CAP_BYTES, NOTIFY_OFFSET, numQueues * NOTIFY_OFF_MULTIPLIER);
        config.put(notify + CAP_EXTRA, 4, NOTIFY_OFF_MULTIPLIER);
        addCap(CAP_ISR_CFG, CAP_BYTES, ISR_OFFSET, ISR_LENGTH);
        if (device.configSize() > 0) {
            addCap(CAP_DEVICE_CFG, CAP_BYTES, DEVICE_OFFSET, device.configSize());
        }
        pciCfgCap = addCap(CAP_PCI_CFG, PCI_CFG_CAP_BYTES, 0, 0);
        config.writableBits(pciCfgCap + CAP_BAR, 1, 0xff);
        config.writableBits(pciCfgCap + CAP_OFFSET, 4, 0xffff_ffffL);
        config.writableBits(pciCfgCap + CAP_LENGTH, 4, 0xffff_ffffL);
    }

    private int addCap(int type, int bytes, int offset, int length) {
        int at = config.addCapability(CAP_VENDOR, bytes);
        config.put(at + CAP_LEN, 1, bytes);
        config.put(at + CAP_CFG_TYPE, 1, type);
        config.put(at + CAP_BAR, 1, BAR);
        config.put(at + CAP_ID, 1, 0);
        config.put(at + CAP_OFFSET, 4, offset);
        config.put(at + CAP_LENGTH, 4, length);
        return at;
    }

    public VirtioDevice virtioDevice() {
        return device;
    }

    public MsixTable msix() {
        return msix;
    }

    /** The device status register (section 2.1). */
    public int status() {
        return status;
    }

    /** Why the device is in DEVICE_NEEDS_RESET, or null. */
    public String failure() {
        return failure;
    }

    @Override
    public PciConfigSpace config() {
        return config;
    }

    @Override
    public String description() {
        return device.name();
    }

    @Override
    public String id() {
        return id;
    }

    // ---- PCI configuration space ----

    @Override
    public long configRead(int offset, int size) {
        if (overlapsPciCfgData(offset, size)) {
            return pciCfgAccess(false, 0);
        }
        return config.read(offset, size);
    }

    @Override
    public void configWritten(int offset, int size) {
        msix.configWritten(config, offset, size);
    }

    @Override
    public boolean configWriteIntercept(int offset, int size, long value) {
        if (overlapsPciCfgData(offset, size)) {
            pciCfgAccess(true, value);
            return true;
        }
        return false;
    }

    private boolean overlapsPciCfgData(int offset, int size) {
        int data = pciCfgCap + CAP_EXTRA;
        return offset == data && size == 4;
    }

    /** VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): a BAR access through config space, as bar/offset/length select. */
    private long pciCfgAccess(boolean write, long value) {
        int bar = (int) config.get(pciCfgCap + CAP_BAR, 1);
        long offset = config.get(pciCfgCap + CAP_OFFSET, 4);
        int length = (int) config.get(pciCfgCap + CAP_LENGTH, 4);
        if (bar != BAR || (length != 1 && length != 2 && length != 4) || (offset & (length - 1)) != 0
                || offset >= BAR_SIZE) {
            return 0;
        }
        if (write) {
            barWrite(BAR, offset, length, value);
            return 0;
        }
        return barRead(BAR, offset, length);
    }

    @Override
    public void barMapped(int bar, long gpa) {
        long old;
        synchronized (this) {
            old = barGpa;
            barGpa = gpa;
        }
        for (int q = 0; q < numQueues; q++) {
            hooks.notifyMoved(q, old < 0 ? -1 : notifyGpa(old, q), gpa < 0 ? -1 : notifyGpa(gpa, q));
        }
    }

    private static long notifyGpa(long base, int queue) {
        return base + NOTIFY_OFFSET + (long) queue * NOTIFY_OFF_MULTIPLIER;
    }

    // ---- the BAR ----

    @Override
    public long barRead(int bar, long offset, int size) {
        if (bar != BAR || offset < 0 || offset >= BAR_SIZE || size < 1 || size > 8) {
            return 0;
        }
        if (offset < COMMON_OFFSET + COMMON_LENGTH) {
            return readCommon((int) offset, size);
        }
        if (offset == ISR_OFFSET) {
            return readIsr();
        }
        if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + DEVICE_WINDOW) {
            return readDeviceConfig((int) offset - DEVICE_OFFSET, size);
        }
        if (offset >= MSIX_TABLE_OFFSET && offset < MSIX_TABLE_OFFSET + msix.tableBytes()) {
            return msix.readTable(offset - MSIX_TABLE_OFFSET, size);
        }
        if (offset >= MSIX_PBA_OFFSET && offset < MSIX_PBA_OFFSET + msix.pbaBytes()) {
            return msix.readPba(offset - MSIX_PBA_OFFSET, size);
        }
        return 0;
    }

    @Override
    public void barWrite(int bar, long offset, int size, long value) {
        if (bar != BAR || offset < 0 || offset >= BAR_SIZE || size < 1 || size > 8) {
            return;
        }
        if (offset < COMMON_OFFSET + COMMON_LENGTH) {
            writeCommon((int) offset, size, value);
        } else if (offset >= NOTIFY_OFFSET && offset < NOTIFY_OFFSET + (long) numQueues * NOTIFY_OFF_MULTIPLIER) {
            int q = (int) (offset - NOTIFY_OFFSET) / NOTIFY_OFF_MULTIPLIER;
            if ((status & VirtioFeatures.STATUS_DRIVER_OK) != 0) {
                hooks.kick(q);
            }
        } else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + DEVICE_WINDOW) {
            writeDeviceConfig((int) offset - DEVICE_OFFSET, size, value);
        } else if (offset >= MSIX_TABLE_OFFSET && offset < MSIX_TABLE_OFFSET + msix.tableBytes()) {
            msix.writeTable(offset - MSIX_TABLE_OFFSET, size, value);
        }
    }

    private synchronized long readDeviceConfig(int offset, int size) {
        device.readConfig(offset, scratch, 0, size);
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (scratch[i] & 0xffL) << (8 * i);
        }
        return v;
    }

    private synchronized void writeDeviceConfig(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            scratch[i] = (byte) (value >>> (8 * i));
        }
        device.writeConfig(offset, scratch, 0, size);
    }

    // ---- ISR and INTx ----

    private int readIsr() {
        synchronized (isrLock) {
            int v = isr;
            if (v != 0) {
                isr = 0;
                config.setInterruptStatus(false);
                intx.set(false);
            }
            return v;
        }
    }

    private void raiseIsr(int bit) {
        synchronized (isrLock) {
            boolean wasClear = isr == 0;
            isr |= bit;
            if (wasClear && (config.command() & PciConfigSpace.COMMAND_INTX_DISABLE) == 0) {
                config.setInterruptStatus(true);
                intx.set(true);
            }
        }
    }

    /** Sends a used-buffer notification for {@code queue}: its MSI-X vector, or the ISR and INTx. */
    private void interruptQueue(int queue) {
        if (msix.enabled()) {
            int vector = queueVectors[queue];
            if (vector != NO_VECTOR) {
                msix.fire(vector);
            }
        } else {
            raiseIsr(ISR_QUEUE);
        }
    }

    /** Sends a configuration change notification. */
    private void interruptConfig() {
        if (msix.enabled()) {
            int vector = configVector;
            if (vector != NO_VECTOR) {
                msix.fire(vector);
            }
        } else {
            raiseIsr(ISR_CONFIG);
        }
    }

    // ---- request processing (the I/O thread) ----

    /**
     * Completes the requests queue {@code queue} has (called by the I/O thread after a notification) and sends the
     * used-buffer notification the driver asked for. Does nothing unless the driver is ready (DRIVER_OK) and the
     * device does not need a reset.
     */
    public void processQueue(int queue) {
        if (queue < 0 || queue >= numQueues) {
            return;
        }
        boolean notify = false;
        String error = null;
        synchronized (queueLocks[queue]) {
            if (quiesced) {
                return; // resumeIo kicks every queue
            }
            VirtioDevice.QueueHandler h = handlers[queue];
            int s = status;
            if (h == null || (s & VirtioFeatures.STATUS_DRIVER_OK) == 0
                    || (s & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET) != 0) {
                return;
            }
            try {
                notify = h.process();
            } catch (VirtQueueException e) {
                error = "queue " + queue + ": " + e.getMessage();
            } catch (RuntimeException e) {
                error = "queue " + queue + ": unexpected " + e;
            }
        }
        if (error != null) {
            fail(error); // outside the queue's lock: fail takes this object's, which comes first in lock order
        } else if (notify) {
            interruptQueue(queue);
        }
    }

    // ---- snapshots ----

    /**
     * Stops request processing: waits for each queue's current pass (requests complete synchronously inside it), then
     * keeps the queues untouched until {@link #resumeIo}. Nothing is in flight afterwards.
     */
    public void quiesce() {
        quiesced = true;
        for (Object lock : queueLocks) {
            synchronized (lock) {
                // a pass that started before the flag was set has finished once this lock is held
            }
        }
    }

    /** Resumes request processing and kicks every queue (kicks that came while quiesced were dropped). */
    public void resumeIo() {
        quiesced = false;
        for (int q = 0; q < numQueues; q++) {
            hooks.kick(q);
        }
    }

    /** The transport's state; only while {@link #quiesce}d and the vCPUs are stopped. */
    public synchronized VirtioTransportState saveState() {
        java.util.List<org.jkvm.virtio.QueueState> qs = new java.util.ArrayList<>(numQueues);
        for (int q = 0; q < numQueues; q++) {
            synchronized (queueLocks[q]) {
                qs.add(queues[q].save());
            }
        }
        int isrNow;
        synchronized (isrLock) {
            isrNow = isr;
        }
        return new VirtioTransportState(device.deviceType(), status, driverFeatures, deviceFeatureSelect,
                driverFeatureSelect, configVector, queueSelect, isrNow, queueVectors.clone(), qs, msix.saveWords(),
                msix.savePending(), device.saveDeviceState());
    }

    /**
     * Loads a saved transport (after the configuration space, so the BAR and MSI-X control are in place): the
     * queues are validated as if the driver had enabled them and activated when the driver was ready; then every
     * queue is kicked once, so requests made available before the save are served.
     *
     * @throws IllegalArgumentException when the state is not this device's or does not validate
     */
    public void restoreState(VirtioTransportState s) {
        if (s.deviceType() != device.deviceType() || s.queues().size() != numQueues) {
            throw new IllegalArgumentException(device.name() + ": saved state is of device type " + s.deviceType()
                    + " with " + s.queues().size() + " queues");
        }
        if ((s.driverFeatures() & ~device.deviceFeatures()) != 0) {
            throw new IllegalArgumentException(device.name() + ": saved driver features 0x"
                    + Long.toHexString(s.driverFeatures()) + " are not all offered");
        }
        msix.restore(s.msixTable(), s.msixPending());
        synchronized (this) {
            reset();
            driverFeatures = s.driverFeatures();
            deviceFeatureSelect = s.deviceFeatureSelect();
            driverFeatureSelect = s.driverFeatureSelect();
            configVector = vectorOrNone(s.configVector() & 0xffff);
            queueSelect = s.queueSelect() & 0xffff;
            int[] vectors = s.queueVectors();
            for (int q = 0; q < numQueues; q++) {
                synchronized (queueLocks[q]) {
                    try {
                        queues[q].restore(s.queues().get(q));
                    } catch (org.jkvm.virtio.VirtQueueException e) {
                        queues[q].reset();
                        throw new IllegalArgumentException(device.name() + ": queue " + q + ": " + e.getMessage(), e);
                    }
                    queueVectors[q] = vectorOrNone(vectors[q] & 0xffff);
                    if ((s.status() & VirtioFeatures.STATUS_DRIVER_OK) != 0 && queues[q].isReady()) {
                        handlers[q] = device.activate(q, queues[q], driverFeatures);
                    }
                }
            }
            status = s.status();
            device.restoreDeviceState(s.deviceState());
        }
        synchronized (isrLock) {
            isr = s.isr();
            if (isr != 0) {
                config.setInterruptStatus(true);
                if ((config.command() & PciConfigSpace.COMMAND_INTX_DISABLE) == 0 && !msix.enabled()) {
                    intx.set(true);
                }
            }
        }
        for (int q = 0; q < numQueues; q++) {
            hooks.kick(q);
        }
    }

    /**
     * The device changed its configuration space (virtio-net's link status): bumps {@code config_generation}
     * (4.1.4.3) and sends a configuration change notification (4.1.5.3) once the driver is ready (DRIVER_OK).
     */
    public void configChanged() {
        configGeneration++;
        if ((status & VirtioFeatures.STATUS_DRIVER_OK) != 0) {
            interruptConfig();
        }
    }

    /** Sets DEVICE_NEEDS_RESET and sends a configuration change interrupt (2.1.2); reports the first cause. */
    private void fail(String why) {
        failure = why;
        synchronized (this) {
            status |= VirtioFeatures.STATUS_DEVICE_NEEDS_RESET;
        }
        if (failureReported.compareAndSet(false, true)) {
            System.err.println("jkvm: " + device.name() + (id.isEmpty() ? "" : " '" + id + "'")
                    + " needs reset: " + why);
        }
        interruptConfig();
    }

    // ---- common configuration ----

    private synchronized long readCommon(int offset, int size) {
        long v = 0;
        for (int i = 0; i < size; i++) {
            int at = offset + i;
            int f = field(at);
            if (f >= 0) {
                long fv = fieldValue(FIELD_OFFSETS[f]);
                v |= ((fv >>> (8 * (at - FIELD_OFFSETS[f]))) & 0xff) << (8 * i);
            }
        }
        return v;
    }

    private static int field(int offset) {
        for (int f = FIELD_OFFSETS.length - 1; f >= 0; f--) {
            if (offset >= FIELD_OFFSETS[f]) {
                return offset < FIELD_OFFSETS[f] + FIELD_SIZES[f] ? f : -1;
            }
        }
        return -1;
    }

    private VirtQueue selected() {
        return queueSelect < numQueues ? queues[queueSelect] : null;
    }

    private long fieldValue(int field) {
        VirtQueue q = selected();
        return switch (field) {
            case DEVICE_FEATURE_SELECT -> Integer.toUnsignedLong(deviceFeatureSelect);
            case DEVICE_FEATURE -> deviceFeatureSelect < 2
                    ? (device.deviceFeatures() >>> (32 * deviceFeatureSelect)) & 0xffff_ffffL : 0;
            case DRIVER_FEATURE_SELECT -> Integer.toUnsignedLong(driverFeatureSelect);
            case DRIVER_FEATURE -> driverFeatureSelect < 2
                    ? (driverFeatures >>> (32 * driverFeatureSelect)) & 0xffff_ffffL : 0;
            case CONFIG_MSIX_VECTOR -> configVector;
            case NUM_QUEUES -> numQueues;
            case DEVICE_STATUS -> status;
            case QUEUE_SELECT -> queueSelect;
            case QUEUE_SIZE -> q == null ? 0 : q.size();
            case QUEUE_MSIX_VECTOR -> q == null ? NO_VECTOR : queueVectors[queueSelect];
            case QUEUE_ENABLE -> q != null && q.isReady() ? 1 : 0;
            case QUEUE_NOTIFY_OFF -> q == null ? 0 : queueSelect;
            case QUEUE_DESC -> q == null ? 0 : q.descGpa();
            case QUEUE_DRIVER -> q == null ? 0 : q.availGpa();
            case QUEUE_DEVICE -> q == null ? 0 : q.usedGpa();
            case CONFIG_GENERATION -> configGeneration & 0xff;
            default -> 0; // queue_notify_data, queue_reset
        };
    }

    private void writeCommon(int offset, int size, long value) {
        boolean kickAll = false;
        synchronized (this) {
            int f = field(offset);
            if (f < 0) {
                return;
            }
            int start = FIELD_OFFSETS[f];
            int width = FIELD_SIZES[f];
            if (width == 8 && (size == 8 && offset == start || size == 4)) {
                long old = fieldValue(start);
                int shift = 8 * (offset - start);
                long mask = size == 8 ? -1L : 0xffff_ffffL << shift;
                writeQueueAddress(start, (old & ~mask) | ((value << shift) & mask));
                return;
            }
            if (size != width || offset != start) {
                return; // the driver MUST use the field's width (4.1.3.1); anything else is dropped
            }
            int v = (int) value;
            switch (start) {
                case DEVICE_FEATURE_SELECT -> deviceFeatureSelect = v;
                case DRIVER_FEATURE_SELECT -> driverFeatureSelect = v;
                case DRIVER_FEATURE -> {
                    if (driverFeatureSelect < 2 && (status & VirtioFeatures.STATUS_FEATURES_OK) == 0) {
                        int shift = 32 * driverFeatureSelect;
                        driverFeatures = (driverFeatures & ~(0xffff_ffffL << shift))
                                | ((value & 0xffff_ffffL) << shift);
                    }
                }
                case CONFIG_MSIX_VECTOR -> configVector = vectorOrNone(v & 0xffff);
                case DEVICE_STATUS -> kickAll = writeStatus(v & 0xff);
                case QUEUE_SELECT -> queueSelect = v & 0xffff;
                case QUEUE_SIZE -> {
                    VirtQueue q = selected();
                    if (q != null) {
                        synchronized (queueLocks[queueSelect]) {
                            q.setSize(v & 0xffff);
                        }
                    }
                }
                case QUEUE_MSIX_VECTOR -> {
                    if (selected() != null) {
                        queueVectors[queueSelect] = vectorOrNone(v & 0xffff);
                    }
                }
                case QUEUE_ENABLE -> {
                    if ((v & 0xffff) == 1) {
                        enableSelected();
                    }
                }
                default -> {
                    // read-only fields; queue_reset needs VIRTIO_F_RING_RESET, which is not offered
                }
            }
        }
        if (kickAll) {
            for (int q = 0; q < numQueues; q++) {
                hooks.kick(q); // buffers made available before DRIVER_OK are processed now
            }
            if (device.announceConfigAtDriverOk()) {
                interruptConfig();
            }
        }
    }

    private int vectorOrNone(int vector) {
        return msix.isVector(vector) ? vector : NO_VECTOR;
    }

    private void writeQueueAddress(int field, long gpa) {
        VirtQueue q = selected();
        if (q == null) {
            return;
        }
        synchronized (queueLocks[queueSelect]) {
            switch (field) {
                case QUEUE_DESC -> q.setDescGpa(gpa);
                case QUEUE_DRIVER -> q.setAvailGpa(gpa);
                default -> q.setUsedGpa(gpa);
            }
        }
    }

    private void enableSelected() {
        VirtQueue q = selected();
        if (q == null || q.isReady() || (status & VirtioFeatures.STATUS_FEATURES_OK) == 0
                || (status & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET) != 0) {
            return;
        }
        int index = queueSelect;
        String error = null;
        synchronized (queueLocks[index]) {
            q.setFeatures(VirtioFeatures.has(driverFeatures, VirtioFeatures.VIRTIO_F_EVENT_IDX),
                    VirtioFeatures.has(driverFeatures, VirtioFeatures.VIRTIO_F_INDIRECT_DESC));
            try {
                q.enable();
            } catch (VirtQueueException e) {
                error = "queue " + index + ": " + e.getMessage();
            }
            if ((status & VirtioFeatures.STATUS_DRIVER_OK) != 0 && q.isReady()) {
                handlers[index] = device.activate(index, q, driverFeatures);
            }
        }
        if (error != null) {
            fail(error);
        }
    }

    /** Handles a device_status write; returns true when the queues should be kicked (DRIVER_OK just set). */
    private boolean writeStatus(int value) {
        if (value == 0) {
            reset();
            return false;
        }
        int old = status;
        int next = value | (old & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET);
        if ((next & VirtioFeatures.STATUS_FEATURES_OK) != 0 && (old & VirtioFeatures.STATUS_FEATURES_OK) == 0
                && !featuresAcceptable()) {
            next &= ~VirtioFeatures.STATUS_FEATURES_OK; // the driver reads it back and gives up (3.1.1)
        }
        boolean driverOk = (next & VirtioFeatures.STATUS_DRIVER_OK) != 0
                && (old & VirtioFeatures.STATUS_DRIVER_OK) == 0;
        if (driverOk && (next & VirtioFeatures.STATUS_FEATURES_OK) == 0) {
            next &= ~VirtioFeatures.STATUS_DRIVER_OK;
            driverOk = false;
        }
        if (driverOk) {
            for (int q = 0; q < numQueues; q++) {
                synchronized (queueLocks[q]) {
                    if (queues[q].isReady()) {
                        handlers[q] = device.activate(q, queues[q], driverFeatures);
                    }
                }
            }
        }
        status = next;
        return driverOk;
    }

    private boolean featuresAcceptable() {
        return (driverFeatures & ~device.deviceFeatures()) == 0
                && VirtioFeatures.has(driverFeatures, VirtioFeatures.VIRTIO_F_VERSION_1);
    }

    /** Device reset (writing 0 to device_status, 4.1.4.3.1): back to the initial state; MSI-X is PCI state. */
    private void reset() {
        for (int q = 0; q < numQueues; q++) {
            synchronized (queueLocks[q]) {
                queues[q].reset();
                handlers[q] = null;
                queueVectors[q] = NO_VECTOR;
            }
        }
        status = 0;
        driverFeatures = 0;
        deviceFeatureSelect = 0;
        driverFeatureSelect = 0;
        configVector = NO_VECTOR;
        queueSelect = 0;
        failure = null;
        failureReported.set(false);
        synchronized (isrLock) {
            if (isr != 0) {
                isr = 0;
                config.setInterruptStatus(false);
                intx.set(false);
            }
        }
    }
}
