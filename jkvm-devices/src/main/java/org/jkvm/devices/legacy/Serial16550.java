package org.jkvm.devices.legacy;

import java.util.function.IntConsumer;
import org.jkvm.devices.BusDevice;
import org.jkvm.devices.InterruptLine;

/**
 * A National Semiconductor PC16550D / 16550A UART (the "16550A" Linux's 8250 driver detects), as found at COM1
 * (ports 0x3F8-0x3FF, IRQ 4) on a PC. Eight byte-wide registers at offsets 0-7: RBR/THR/DLL, IER/DLM, IIR/FCR, LCR,
 * MCR, LSR, MSR, SCR.
 *
 * <p>Implemented: the divisor latch (LCR.DLAB), IER (4 bits), IIR with the FIFO-enabled bits (0xC0) and the
 * datasheet's priority (line status &gt; received data / character timeout &gt; THR empty &gt; modem status), FCR
 * (FIFO enable, RX/TX FIFO reset, trigger level), LCR, MCR with loopback (TX goes to RX, DTR/RTS/OUT1/OUT2 drive
 * DSR/CTS/RI/DCD with their delta bits), LSR (DR, OE, THRE, TEMT), MSR (delta bits clear on read), SCR. As on a PC,
 * MCR.OUT2 gates the interrupt onto the bus and loopback mode disconnects it (the OUT2 pin is forced inactive).
 *
 * <p>Transmission is instantaneous: a THR write hands the byte to {@code output} at once, THRE and TEMT always read
 * 1, and the THR-empty interrupt becomes pending after every THR write and whenever IER's THRE bit goes from 0 to
 * 1 (Linux's {@code UART_BUG_THRE} test relies on that). There is no baud-rate timing: the received-data interrupt is
 * raised as soon as data is present; below the FIFO trigger level it is reported as a character timeout (IIR 0x0C),
 * which a real UART would raise four character times later. Parity, framing and break are never produced.
 *
 * <p>Receive buffer: the RX FIFO itself, 16 bytes with FIFOs enabled and 1 byte (the 16450 holding register) without;
 * there is no larger host-side buffer, so {@link #enqueueInput} refuses bytes the guest has not yet room for;
 * the host input thread checks {@link #inputSpace} or blocks in {@link #awaitInputSpace} until the guest reads. Host input never overruns; only loopback can
 * (then OE is set and the byte is lost, as on hardware).
 *
 * <p>Locking: every method holds this object's monitor. The interrupt line and the output consumer are called
 * while holding it (so interrupt levels and output bytes are never reordered between threads); they must not call
 * back into this device and must not block indefinitely. A slow consumer only delays the vCPU that writes.
 */
public final class Serial16550 implements BusDevice {

    /** Size of the receive FIFO with FIFOs enabled. */
    public static final int FIFO_SIZE = 16;

    private static final int IER_RDI = 0x01;
    private static final int IER_THRI = 0x02;
    private static final int IER_RLSI = 0x04;
    private static final int IER_MSI = 0x08;

    private static final int IIR_NO_INT = 0x01;
    private static final int IIR_MSI = 0x00;
    private static final int IIR_THRI = 0x02;
    private static final int IIR_RDI = 0x04;
    private static final int IIR_RLSI = 0x06;
    private static final int IIR_TIMEOUT = 0x0C;
    private static final int IIR_FIFO_ENABLED = 0xC0;

    private static final int FCR_ENABLE = 0x01;
    private static final int FCR_CLEAR_RX = 0x02;
    private static final int FCR_KEPT = 0x01 | 0x08 | 0xC0;

    private static final int LCR_DLAB = 0x80;

    private static final int MCR_DTR = 0x01;
    private static final int MCR_RTS = 0x02;
    private static final int MCR_OUT1 = 0x04;
    private static final int MCR_OUT2 = 0x08;
    private static final int MCR_LOOP = 0x10;

    private static final int LSR_DR = 0x01;
    private static final int LSR_OE = 0x02;
    private static final int LSR_THRE = 0x20;
    private static final int LSR_TEMT = 0x40;

    private static final int MSR_DCTS = 0x01;
    private static final int MSR_DDSR = 0x02;
    private static final int MSR_TERI = 0x04;
    private static final int MSR_DDCD = 0x08;
    private static final int MSR_CTS = 0x10;
    private static final int MSR_DSR = 0x20;
    private static final int MSR_RI = 0x40;
    private static final int MSR_DCD = 0x80;
    /** What the (absent) modem reports outside loopback: carrier, data set ready, clear to send. */
    private static final int MSR_EXTERNAL = MSR_DCD | MSR_DSR | MSR_CTS;

    private final InterruptLine irq;
    private final IntConsumer output;

    private final byte[] rx = new byte[FIFO_SIZE];
    private int rxHead;
    private int rxCount;

    private int ier;
    private int fcr;
    private int lcr;
    private int mcr;
    private int scr;
    private int dll = 12; // 9600 baud with the PC's 1.8432 MHz clock
    private int dlm;
    private boolean overrun;
    private int msrDeltas;
    private boolean thrInterruptPending;
    private boolean irqLevel;

    /**
     * @param irq    the UART's interrupt output after the PC's OUT2 gate (IRQ 4 for COM1)
     * @param output receives each byte the guest transmits, 0-255, on the writing vCPU thread
     */
    public Serial16550(InterruptLine irq, IntConsumer output) {
        if (irq == null || output == null) {
            throw new NullPointerException();
        }
        this.irq = irq;
        this.output = output;
    }

    /**
     * Offers one byte from the host side (e.g. stdin) to the guest.
     *
     * @return false, keeping nothing, when the receive FIFO is full or the UART is in loopback mode (its input pin
     *         is disconnected); retry once {@link #inputSpace} is positive
     */
    public synchronized boolean enqueueInput(byte b) {
        if ((mcr & MCR_LOOP) != 0 || rxCount >= rxCapacity()) {
            return false;
        }
        push(b);
        updateIrq();
        return true;
    }

    /** How many bytes {@link #enqueueInput} would accept now. */
    public synchronized int inputSpace() {
        return (mcr & MCR_LOOP) != 0 ? 0 : rxCapacity() - rxCount;
    }

    /**
     * Blocks the host input thread until {@link #inputSpace} is positive (the guest read a byte, reset the FIFO or
     * left loopback), at most {@code timeoutMillis} (0 means no wait).
     *
     * @return whether there is room now
     */
    public synchronized boolean awaitInputSpace(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (inputSpace() == 0) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size <= 0 || offset < 0 || offset > 7) {
            return 0xFF;
        }
        return switch ((int) offset) {
            case 0 -> (lcr & LCR_DLAB) != 0 ? dll : readRbr();
            case 1 -> (lcr & LCR_DLAB) != 0 ? dlm : ier;
            case 2 -> readIir();
            case 3 -> lcr;
            case 4 -> mcr;
            case 5 -> readLsr();
            case 6 -> readMsr();
            default -> scr;
        };
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (size <= 0 || offset < 0 || offset > 7) {
            return;
        }
        int v = (int) value & 0xFF;
        switch ((int) offset) {
            case 0 -> {
                if ((lcr & LCR_DLAB) != 0) {
                    dll = v;
                } else {
                    writeThr(v);
                }
            }
            case 1 -> {
                if ((lcr & LCR_DLAB) != 0) {
                    dlm = v;
                } else {
                    writeIer(v);
                }
            }
            case 2 -> writeFcr(v);
            case 3 -> lcr = v;
            case 4 -> writeMcr(v);
            case 7 -> scr = v;
            default -> {
                // LSR and MSR writes are factory-test only: ignored.
            }
        }
    }

    /** The baud-rate divisor the guest programmed (DLM:DLL). */
    public synchronized int divisor() {
        return dlm << 8 | dll;
    }

    /** The registers and unread input, for a snapshot. */
    public synchronized SerialState saveState() {
        byte[] bytes = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) {
            bytes[i] = rx[(rxHead + i) % FIFO_SIZE];
        }
        return new SerialState(bytes, ier, fcr, lcr, mcr, scr, dll, dlm, overrun, msrDeltas, thrInterruptPending);
    }

    /**
     * Loads a saved state with the interrupt output low; {@link #refreshInterrupt} then drives it from the state
     * (after the interrupt controllers were restored).
     */
    public synchronized void restoreState(SerialState s) {
        byte[] bytes = s.rx();
        rxHead = 0;
        rxCount = bytes.length;
        System.arraycopy(bytes, 0, rx, 0, bytes.length);
        ier = s.ier() & 0x0f;
        fcr = s.fcr();
        lcr = s.lcr();
        mcr = s.mcr() & 0x1f;
        scr = s.scr();
        dll = s.dll();
        dlm = s.dlm();
        overrun = s.overrun();
        msrDeltas = s.msrDeltas() & 0x0f;
        thrInterruptPending = s.thrInterruptPending();
        irqLevel = false;
        notifyAll();
    }

    /** Drives the interrupt output from the current state (after a restore). */
    public synchronized void refreshInterrupt() {
        updateIrq();
    }

    private int rxCapacity() {
        return (fcr & FCR_ENABLE) != 0 ? FIFO_SIZE : 1;
    }

    private void push(byte b) {
        rx[(rxHead + rxCount) % FIFO_SIZE] = b;
        rxCount++;
    }

    private int readRbr() {
        if (rxCount == 0) {
            return 0;
        }
        int b = rx[rxHead] & 0xFF;
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        updateIrq();
        notifyAll(); // room for awaitInputSpace
        return b;
    }

    private void writeThr(int v) {
        if ((mcr & MCR_LOOP) != 0) {
            if (rxCount >= rxCapacity()) {
                overrun = true;
            } else {
                push((byte) v);
            }
        } else {
            output.accept(v);
        }
        thrInterruptPending = true;
        updateIrq();
    }

    private void writeIer(int v) {
        int old = ier;
        ier = v & 0x0F;
        if ((old & IER_THRI) == 0 && (ier & IER_THRI) != 0) {
            thrInterruptPending = true; // the THR is always empty
        }
        updateIrq();
    }

    private void writeFcr(int v) {
        if (((v ^ fcr) & FCR_ENABLE) != 0) {
            clearRx(); // toggling FIFO mode empties both FIFOs
        }
        if ((v & FCR_ENABLE) == 0) {
            fcr = 0; // the other bits are only programmed together with FCR0
        } else {
            if ((v & FCR_CLEAR_RX) != 0) {
                clearRx();
            }
            fcr = v & FCR_KEPT;
        }
        updateIrq();
        notifyAll();
    }

    private void clearRx() {
        rxHead = 0;
        rxCount = 0;
    }

    private void writeMcr(int v) {
        int before = statusLines();
        mcr = v & 0x1F;
        int after = statusLines();
        int changed = before ^ after;
        if ((changed & MSR_CTS) != 0) {
            msrDeltas |= MSR_DCTS;
        }
        if ((changed & MSR_DSR) != 0) {
            msrDeltas |= MSR_DDSR;
        }
        if ((changed & MSR_DCD) != 0) {
            msrDeltas |= MSR_DDCD;
        }
        if ((before & MSR_RI) != 0 && (after & MSR_RI) == 0) {
            msrDeltas |= MSR_TERI; // trailing edge of ring indicator
        }
        updateIrq();
        notifyAll();
    }

    private int statusLines() {
        if ((mcr & MCR_LOOP) == 0) {
            return MSR_EXTERNAL;
        }
        int s = 0;
        if ((mcr & MCR_RTS) != 0) {
            s |= MSR_CTS;
        }
        if ((mcr & MCR_DTR) != 0) {
            s |= MSR_DSR;
        }
        if ((mcr & MCR_OUT1) != 0) {
            s |= MSR_RI;
        }
        if ((mcr & MCR_OUT2) != 0) {
            s |= MSR_DCD;
        }
        return s;
    }

    private int readLsr() {
        int v = LSR_THRE | LSR_TEMT;
        if (rxCount > 0) {
            v |= LSR_DR;
        }
        if (overrun) {
            v |= LSR_OE;
            overrun = false;
            updateIrq();
        }
        return v;
    }

    private int readMsr() {
        int v = statusLines() | msrDeltas;
        if (msrDeltas != 0) {
            msrDeltas = 0;
            updateIrq();
        }
        return v;
    }

    private int readIir() {
        int iir = iir();
        if ((iir & 0x0F) == IIR_THRI) {
            thrInterruptPending = false; // reading IIR with THRE as the source clears it
            updateIrq();
        }
        return iir;
    }

    /** The highest-priority pending interrupt, with the FIFO bits. */
    private int iir() {
        int id;
        if ((ier & IER_RLSI) != 0 && overrun) {
            id = IIR_RLSI;
        } else if ((ier & IER_RDI) != 0 && rxCount > 0) {
            id = (fcr & FCR_ENABLE) != 0 && rxCount < triggerLevel() ? IIR_TIMEOUT : IIR_RDI;
        } else if ((ier & IER_THRI) != 0 && thrInterruptPending) {
            id = IIR_THRI;
        } else if ((ier & IER_MSI) != 0 && msrDeltas != 0) {
            id = IIR_MSI;
        } else {
            id = IIR_NO_INT;
        }
        return (fcr & FCR_ENABLE) != 0 ? id | IIR_FIFO_ENABLED : id;
    }

    private int triggerLevel() {
        return switch (fcr >> 6) {
            case 0 -> 1;
            case 1 -> 4;
            case 2 -> 8;
            default -> 14;
        };
    }

    private void updateIrq() {
        boolean level = (iir() & IIR_NO_INT) == 0 && (mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }
}
