package org.jkvm.console;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtQueueException;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;

/**
 * The console device (virtio 1.2 section 5.3) with one port, which Linux makes {@code hvc0}: queue 0 (receiveq) takes
 * the host's input into device-writable buffers, queue 1 (transmitq) carries the guest's output from device-readable
 * buffers to a {@link ConsoleBackend}. Offered: VERSION_1, INDIRECT_DESC, EVENT_IDX and CONSOLE_F_EMERG_WRITE (a
 * 32-bit write to the emerg_wr configuration field puts one character out, before the queues work), and
 * CONSOLE_F_SIZE when the console was given a size (the cols and rows configuration fields; Linux applies them to
 * hvc0's window size when the tty opens; the transport sends a configuration change notification at DRIVER_OK,
 * the only time Linux reads them for a single-port console). Not offered: CONSOLE_F_MULTIPORT (one port, no control queues).
 *
 * <p>Input waits in the backend until the guest posts receive buffers (the backend's own buffer is bounded, so a
 * client that sends faster than the guest reads is slowed, not truncated); when input arrives the backend calls the
 * {@link #setInputKick} hook, which makes the I/O thread run queue 0. A transmit chain's device-writable buffers
 * are a driver error: its readable part is sent and nothing is written. Malformed rings are DEVICE_NEEDS_RESET.
 */
public final class VirtioConsole implements VirtioDevice {
    public static final int DEVICE_TYPE = 3;
    public static final int QUEUE_SIZE = 128;
    public static final int RX = 0, TX = 1;
    public static final int F_SIZE = 0, F_MULTIPORT = 1, F_EMERG_WRITE = 2;
    /** struct virtio_console_config: cols, rows (le16), max_nr_ports, emerg_wr (le32). */
    public static final int CONFIG_BYTES = 12, CFG_EMERG_WR = 8;
    private static final int CHUNK = 4096;

    private final ConsoleBackend backend;
    private final int cols, rows;
    private final ByteBuffer txBuf = ByteBuffer.allocateDirect(CHUNK);
    private final MemorySegment txSeg = MemorySegment.ofBuffer(txBuf);
    private final ByteBuffer rxBuf = ByteBuffer.allocateDirect(CHUNK);
    private final MemorySegment rxSeg = MemorySegment.ofBuffer(rxBuf);
    private final java.util.concurrent.atomic.AtomicLong txBytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong rxBytes = new java.util.concurrent.atomic.AtomicLong();
    /** Input read from the backend that no receive buffer has taken yet (rxBuf's [0, rxPending)). */
    private int rxPending;
    private int rxOffset;

    /** A console without a size (CONSOLE_F_SIZE not offered). */
    public VirtioConsole(ConsoleBackend backend) {
        this(backend, 0, 0);
    }

    /**
     * A console of {@code cols} x {@code rows} characters (each 1 to 65535; both 0: no size, CONSOLE_F_SIZE not
     * offered).
     */
    public VirtioConsole(ConsoleBackend backend, int cols, int rows) {
        if ((cols == 0) != (rows == 0) || cols < 0 || cols > 0xffff || rows < 0 || rows > 0xffff) {
            throw new IllegalArgumentException("console size " + cols + "x" + rows);
        }
        this.backend = backend;
        this.cols = cols;
        this.rows = rows;
    }

    /** {@code kick} makes the I/O thread process queue 0 (the transport's doorbell for it). */
    public void setInputKick(Runnable kick) {
        backend.onInput(kick);
    }

    public ConsoleBackend backend() {
        return backend;
    }

    @Override
    public int deviceType() {
        return DEVICE_TYPE;
    }

    @Override
    public long deviceFeatures() {
        return VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC)
                | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX)
                | VirtioFeatures.bit(F_EMERG_WRITE)
                | (cols != 0 ? VirtioFeatures.bit(F_SIZE) : 0);
    }

    @Override
    public int numQueues() {
        return 2;
    }

    @Override
    public int maxQueueSize(int index) {
        return QUEUE_SIZE;
    }

    @Override
    public int configSize() {
        return CONFIG_BYTES;
    }

    @Override
    public void readConfig(int offset, byte[] dst, int dstOff, int len) {
        // cols (le16 at 0), rows (le16 at 2); max_nr_ports (no MULTIPORT) and emerg_wr (write-only) read 0
        byte[] cfg = new byte[CONFIG_BYTES];
        cfg[0] = (byte) cols;
        cfg[1] = (byte) (cols >>> 8);
        cfg[2] = (byte) rows;
        cfg[3] = (byte) (rows >>> 8);
        for (int i = 0; i < len; i++) {
            int o = offset + i;
            dst[dstOff + i] = o >= 0 && o < CONFIG_BYTES ? cfg[o] : 0;
        }
    }

    /**
     * A sized console announces its configuration at DRIVER_OK: Linux reads cols and rows of a single-port console
     * only on a configuration change notification, and applies them to hvc0 when the tty opens.
     */
    @Override
    public boolean announceConfigAtDriverOk() {
        return cols != 0;
    }

    @Override
    public synchronized void writeConfig(int offset, byte[] src, int srcOff, int len) {
        if (offset == CFG_EMERG_WR && len >= 1) {
            backend.write(ByteBuffer.wrap(src, srcOff, 1));
            txBytes.incrementAndGet();
        }
    }

    @Override
    public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
        DescriptorChain chain = queue.newChain();
        return index == TX ? () -> transmit(queue, chain) : () -> receive(queue, chain);
    }

    private boolean transmit(VirtQueue queue, DescriptorChain c) throws VirtQueueException {
        boolean completed = false;
        do {
            queue.disableNotification();
            while (queue.pop(c)) {
                long total = c.readableBytes();
                for (long off = 0; off < total; ) {
                    long n = Math.min(CHUNK, total - off);
                    c.readReadable(off, txSeg, 0, n);
                    txBuf.clear().limit((int) n);
                    synchronized (this) {
                        backend.write(txBuf);
                    }
                    off += n;
                }
                txBytes.addAndGet(total);
                queue.addUsed(c.head(), 0);
                completed = true;
            }
        } while (queue.enableNotification());
        return completed && queue.needsNotification();
    }

    private boolean receive(VirtQueue queue, DescriptorChain c) throws VirtQueueException {
        boolean completed = false;
        while (true) {
            if (rxPending == rxOffset) {
                rxBuf.clear();
                rxPending = backend.read(rxBuf);
                rxOffset = 0;
                if (rxPending == 0) {
                    break; // no input: the receive buffers wait for the next kick
                }
            }
            if (!queue.pop(c)) {
                if (queue.enableNotification()) {
                    continue; // buffers arrived meanwhile
                }
                break; // input waits for the guest's next buffers (their kick runs this again)
            }
            long n = Math.min(c.writableBytes(), rxPending - rxOffset);
            long written = c.writeWritable(0, rxSeg, rxOffset, n);
            rxOffset += (int) written;
            rxBytes.addAndGet(written);
            queue.addUsed(c.head(), written);
            completed = true;
        }
        return completed && queue.needsNotification();
    }

    /** Host input read from the backend and not yet given to the guest (at most one chunk). */
    @Override
    public byte[] saveDeviceState() {
        byte[] b = new byte[rxPending - rxOffset];
        MemorySegment.copy(rxSeg, java.lang.foreign.ValueLayout.JAVA_BYTE, rxOffset, b, 0, b.length);
        return b;
    }

    @Override
    public void restoreDeviceState(byte[] state) {
        if (state.length > CHUNK) {
            throw new IllegalArgumentException("virtio-console: " + state.length + " bytes of pending input, at most "
                    + CHUNK);
        }
        MemorySegment.copy(state, 0, rxSeg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, state.length);
        rxOffset = 0;
        rxPending = state.length;
    }

    @Override
    public String name() {
        return "virtio-console";
    }

    /** Bytes the guest sent (transmitq and emergency writes). */
    public long bytesFromGuest() {
        return txBytes.get();
    }

    /** Bytes the guest received. */
    public long bytesToGuest() {
        return rxBytes.get();
    }
}
