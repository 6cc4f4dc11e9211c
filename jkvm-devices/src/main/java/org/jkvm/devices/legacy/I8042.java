package org.jkvm.devices.legacy;

import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * The PC keyboard controller (Intel 8042 / compatible PS/2 controller) with an AT keyboard attached and no
 * auxiliary (mouse) device. Registered at port 0x60, length 5: offset 0 is the data port (0x60), offset 4 the
 * status (read) / command (write) port (0x64).
 *
 * <p>Controller commands: 0x20-0x3F read RAM (0x20 is the command byte), 0x60-0x7F write RAM, 0xA7/0xA8 aux
 * disable/enable, 0xA9 aux interface test (0x00), 0xAA self test (0x55, sets the SYS flag), 0xAB keyboard interface
 * test (0x00), 0xAD/0xAE keyboard disable/enable, 0xC0 read input port, 0xD0/0xD1 read/write output port (bit 0
 * clear requests a reset), 0xD2/0xD3 write keyboard/aux output buffer, 0xD4 write to aux (dropped: no device),
 * 0xDD/0xDF A20 (ignored, A20 is always on), 0xE0 test inputs, 0xF0-0xFF pulse output lines (an even command such
 * as 0xFE pulses the reset line).
 *
 * <p>The keyboard answers the commands Linux's atkbd driver sends so its probe finishes without timeouts: 0xED and
 * 0xF3 (with their argument byte) and 0xF4/0xF5/0xF6/0xF7-0xFD with ACK (0xFA), 0xEE echo, 0xF0 scan-code set
 * (argument 0 reports the set), 0xF2 identify (ACK, 0xAB, 0x83, or 0x41 while the controller translates, as the
 * translation turns 0x83 into 0x41), 0xFF reset (ACK, then 0xAA self-test passed); anything else gets RESEND (0xFE).
 *
 * <p>No mouse: the aux loopback (0xD3) echoes like a real controller's internal loop, but 0xA8 cannot enable the
 * absent aux port (command byte bit 5 stays set, also through 0x60), which is how Linux's {@code i8042_check_aux} concludes there is
 * no aux port within a few milliseconds instead of waiting out command timeouts.
 *
 * <p>IRQ 1 is asserted while the output buffer holds a keyboard byte and command-byte bit 0 is set; reading the data
 * port lowers it and raises it again for the next queued byte, so an edge-triggered PIC sees one edge per byte. Aux
 * bytes set status bit 5 and raise no interrupt (there is no IRQ 12 wire). The status register reports IBF = 0
 * always: commands complete instantly.
 *
 * <p>Offsets 1-3 (ports 0x61-0x63) are not part of the 8042. Port 0x61 (system control port B) is normally handled
 * by KVM's in-kernel PIT; if it reaches this device, bits 0-3 read back as written and bits 4 (refresh) and 5 (PIT
 * channel 2 output) toggle on every read so that guest polling loops end.
 *
 * <p>Locking: every access holds this object's monitor; the IRQ line is called under it, {@code resetRequested}
 * after releasing it (it may stop vCPUs).
 */
public final class I8042 implements BusDevice {

    private static final int STATUS_OBF = 0x01;
    private static final int STATUS_SYS = 0x04;
    private static final int STATUS_A2 = 0x08;
    private static final int STATUS_UNLOCKED = 0x10;
    private static final int STATUS_AUX = 0x20;

    private static final int CTR_KBD_INT = 0x01;
    private static final int CTR_SYS = 0x04;
    private static final int CTR_KBD_DISABLE = 0x10;
    private static final int CTR_AUX_DISABLE = 0x20;
    private static final int CTR_XLATE = 0x40;

    private static final int ACK = 0xFA;
    private static final int RESEND = 0xFE;
    private static final int QUEUE_SIZE = 16;

    private final InterruptLine irq1;
    private final Runnable resetRequested;

    /** Output buffer queue: low 8 bits the byte, bit 8 set for aux bytes. */
    private final int[] queue = new int[QUEUE_SIZE];
    private int queueHead;
    private int queueCount;
    private int lastRead;

    private final byte[] ram = new byte[32];
    private boolean sysFlag;
    private boolean lastWasCommand;
    /** Controller command awaiting its data byte on port 0x60, or 0. */
    private int pendingCommand;
    /** Keyboard command awaiting its argument byte, or 0. */
    private int keyboardPending;
    private int scanCodeSet = 2;
    private int outputPort = 0x03; // reset line inactive, A20 enabled
    private int portB;
    private boolean irqLevel;

    /**
     * @param irq1           the keyboard interrupt (IRQ 1)
     * @param resetRequested called (outside the device lock) when the guest pulses the CPU reset line
     */
    public I8042(InterruptLine irq1, Runnable resetRequested) {
        if (irq1 == null || resetRequested == null) {
            throw new NullPointerException();
        }
        this.irq1 = irq1;
        this.resetRequested = resetRequested;
        ram[0] = (byte) (CTR_KBD_INT | CTR_SYS | CTR_XLATE | CTR_AUX_DISABLE);
    }

    @Override
    public long read(long offset, int size) {
        if (size <= 0) {
            return 0xFF;
        }
        synchronized (this) {
            if (offset == 0) {
                return readData();
            }
            if (offset == 4) {
                return status();
            }
            if (offset == 1) {
                portB ^= 0x30;
                return portB;
            }
            return 0xFF;
        }
    }

    @Override
    public void write(long offset, int size, long value) {
        if (size <= 0) {
            return;
        }
        int v = (int) value & 0xFF;
        boolean reset;
        synchronized (this) {
            if (offset == 0) {
                lastWasCommand = false;
                reset = writeData(v);
            } else if (offset == 4) {
                lastWasCommand = true;
                reset = command(v);
            } else {
                if (offset == 1) {
                    portB = (portB & 0x30) | (v & 0x0F);
                }
                reset = false;
            }
        }
        if (reset) {
            resetRequested.run();
        }
    }

    private int ctr() {
        return ram[0] & 0xFF;
    }

    private int status() {
        int s = STATUS_UNLOCKED;
        if (queueCount > 0) {
            s |= STATUS_OBF;
            if ((queue[queueHead] & 0x100) != 0) {
                s |= STATUS_AUX;
            }
        }
        if (sysFlag || (ctr() & CTR_SYS) != 0) {
            s |= STATUS_SYS;
        }
        if (lastWasCommand) {
            s |= STATUS_A2;
        }
        return s;
    }

    private int readData() {
        if (queueCount == 0) {
            return lastRead; // the output latch keeps its last value
        }
        lastRead = queue[queueHead] & 0xFF;
        queueHead = (queueHead + 1) % QUEUE_SIZE;
        queueCount--;
        setIrq(false); // one edge per byte for an edge-triggered PIC
        updateIrq();
        return lastRead;
    }

    private void enqueue(int b, boolean aux) {
        if (queueCount == QUEUE_SIZE) {
            return; // a real controller would stall the device; dropping is the closest without a clock
        }
        queue[(queueHead + queueCount) % QUEUE_SIZE] = (b & 0xFF) | (aux ? 0x100 : 0);
        queueCount++;
        updateIrq();
    }

    /** The controller's state, for a snapshot. */
    public synchronized I8042State saveState() {
        int[] q = new int[queueCount];
        for (int i = 0; i < queueCount; i++) {
            q[i] = queue[(queueHead + i) % QUEUE_SIZE];
        }
        return new I8042State(q, lastRead, ram.clone(), sysFlag, lastWasCommand, pendingCommand, keyboardPending,
                scanCodeSet, outputPort, portB);
    }

    /** Loads a saved state with IRQ 1 low; {@link #refreshInterrupt} drives it afterwards. */
    public synchronized void restoreState(I8042State s) {
        int[] q = s.queue();
        queueHead = 0;
        queueCount = q.length;
        System.arraycopy(q, 0, queue, 0, q.length);
        lastRead = s.lastRead() & 0xff;
        System.arraycopy(s.ram(), 0, ram, 0, ram.length);
        sysFlag = s.sysFlag();
        lastWasCommand = s.lastWasCommand();
        pendingCommand = s.pendingCommand() & 0xff;
        keyboardPending = s.keyboardPending() & 0xff;
        scanCodeSet = s.scanCodeSet();
        outputPort = s.outputPort() & 0xff;
        portB = s.portB() & 0xff;
        irqLevel = false;
    }

    /** Drives IRQ 1 from the current state (after a restore). */
    public synchronized void refreshInterrupt() {
        updateIrq();
    }

    private void updateIrq() {
        setIrq(queueCount > 0 && (queue[queueHead] & 0x100) == 0 && (ctr() & CTR_KBD_INT) != 0);
    }

    private void setIrq(boolean level) {
        if (level != irqLevel) {
            irqLevel = level;
            irq1.set(level);
        }
    }

    /** A controller command from port 0x64; returns whether to reset. */
    private boolean command(int cmd) {
        pendingCommand = 0;
        if (cmd >= 0x20 && cmd <= 0x3F) {
            enqueue(ram[cmd & 0x1F], false);
            return false;
        }
        if (cmd >= 0x60 && cmd <= 0x7F) {
            pendingCommand = cmd;
            return false;
        }
        if (cmd >= 0xF0) {
            return (cmd & 1) == 0; // bit 0 low pulses the reset line
        }
        switch (cmd) {
            case 0xA7 -> ram[0] |= CTR_AUX_DISABLE;
            case 0xA8 -> {
                // No aux device: the port cannot be enabled (see the class comment).
            }
            case 0xA9, 0xAB -> enqueue(0x00, false);
            case 0xAA -> {
                sysFlag = true;
                enqueue(0x55, false);
            }
            case 0xAD -> ram[0] |= CTR_KBD_DISABLE;
            case 0xAE -> ram[0] &= ~CTR_KBD_DISABLE;
            case 0xC0 -> enqueue(0x80, false);
            case 0xD0 -> enqueue(outputPortValue(), false);
            case 0xD1, 0xD2, 0xD3, 0xD4 -> pendingCommand = cmd;
            case 0xE0 -> enqueue(0x00, false);
            default -> {
                // 0xDD/0xDF (A20) and unknown commands: ignored.
            }
        }
        return false;
    }

    private int outputPortValue() {
        int v = outputPort & 0xCF;
        if (queueCount > 0) {
            v |= (queue[queueHead] & 0x100) != 0 ? 0x20 : 0x10;
        }
        return v;
    }

    /** A byte on port 0x60: a controller command's data or a byte for the keyboard; returns whether to reset. */
    private boolean writeData(int v) {
        int cmd = pendingCommand;
        pendingCommand = 0;
        if (cmd >= 0x60 && cmd <= 0x7F) {
            ram[cmd & 0x1F] = (byte) v;
            if (cmd == 0x60) {
                ram[0] |= CTR_AUX_DISABLE; // there is no aux port to enable
                if ((v & CTR_SYS) != 0) {
                    sysFlag = true;
                }
                updateIrq();
            }
            return false;
        }
        switch (cmd) {
            case 0xD1 -> {
                outputPort = v;
                return (v & 1) == 0;
            }
            case 0xD2 -> enqueue(v, false);
            case 0xD3 -> enqueue(v, true);
            case 0xD4 -> {
                // No aux device attached: the byte goes nowhere.
            }
            default -> keyboard(v);
        }
        return false;
    }

    /** The AT keyboard's command interpreter. */
    private void keyboard(int v) {
        int pending = keyboardPending;
        keyboardPending = 0;
        if (pending != 0) {
            if (pending == 0xF0 && v == 0) {
                enqueue(ACK, false);
                enqueue(scanCodeSet, false);
                return;
            }
            if (pending == 0xF0 && v <= 3) {
                scanCodeSet = v;
            }
            enqueue(ACK, false); // the argument of 0xED, 0xF0, 0xF3
            return;
        }
        switch (v) {
            case 0xED, 0xF0, 0xF3 -> {
                keyboardPending = v;
                enqueue(ACK, false);
            }
            case 0xEE -> enqueue(0xEE, false);
            case 0xF2 -> {
                enqueue(ACK, false);
                enqueue(0xAB, false);
                enqueue((ctr() & CTR_XLATE) != 0 ? 0x41 : 0x83, false);
            }
            case 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD -> {
                if (v == 0xF5 || v == 0xF6) {
                    scanCodeSet = 2;
                }
                enqueue(ACK, false);
            }
            case 0xFF -> {
                scanCodeSet = 2;
                enqueue(ACK, false);
                enqueue(0xAA, false);
            }
            default -> enqueue(RESEND, false);
        }
    }
}
