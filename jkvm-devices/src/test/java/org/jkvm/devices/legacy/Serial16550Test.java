package org.jkvm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class Serial16550Test {

    static final int RBR = 0, THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    final RecordingLine irq = new RecordingLine();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Serial16550 uart = new Serial16550(irq, out::write);

    int in(int reg) {
        return (int) uart.read(reg, 1);
    }

    void out(int reg, int value) {
        uart.write(reg, 1, value);
    }

    @Test
    void linuxAutoconfigDetects16550A() {
        // scratch test (drivers/tty/serial/8250/8250_port.c autoconfig)
        int scratch = in(IER);
        out(IER, 0);
        assertThat(in(IER) & 0x0F).isZero();
        out(IER, 0x0F);
        assertThat(in(IER) & 0x0F).isEqualTo(0x0F);
        out(IER, scratch);
        out(SCR, 0xA5);
        assertThat(in(SCR)).isEqualTo(0xA5);
        // loopback test: MCR = LOOP | OUT2 | RTS must read back CTS | DCD
        int saveMcr = in(MCR);
        out(MCR, 0x10 | 0x0A);
        assertThat(in(MSR) & 0xF0).isEqualTo(0x90);
        out(MCR, saveMcr);
        // FIFO detection
        out(LCR, 0);
        out(FCR, 0x01);
        assertThat(in(IIR) >> 6).isEqualTo(3);
        // no EFR with DLAB set or LCR = 0xBF: offset 2 still reads the IIR, which is non-zero
        out(LCR, 0x80);
        assertThat(in(2)).isNotZero();
        out(LCR, 0xBF);
        assertThat(in(2)).isNotZero();
        out(LCR, 0);
        // not a TI16750: IIR bit 5 never follows FCR bit 5
        out(FCR, 0x01 | 0x20);
        assertThat(in(IIR) & 0xE0).isEqualTo(0xC0);
        out(FCR, 0);
        assertThat(in(IIR)).isEqualTo(0x01);
        // not an XScale: IER bit 6 (UUE) does not stick
        out(IER, 0x40);
        assertThat(in(IER) & 0x40).isZero();
        assertThat(in(LSR)).isNotEqualTo(0xFF).isEqualTo(0x60);
    }

    @Test
    void thrEmptyInterruptOnEnableAndAfterEachWrite() {
        out(MCR, 0x08); // OUT2: connect the interrupt to the PIC
        out(FCR, 0x07);
        assertThat(irq.level()).isFalse();
        out(IER, 0x02);
        assertThat(irq.level()).isTrue();
        assertThat(in(IIR)).isEqualTo(0xC2);
        assertThat(irq.level()).isFalse(); // reading IIR with THRE as the source clears it
        assertThat(in(IIR)).isEqualTo(0xC1);
        // Linux's UART_BUG_THRE test: IER off and on again re-asserts THRE
        out(IER, 0);
        out(IER, 0x02);
        assertThat(in(IIR)).isEqualTo(0xC2);
        out(THR, 'h');
        assertThat(irq.level()).isTrue();
        out(THR, 'i');
        assertThat(out.toString()).isEqualTo("hi");
        assertThat(in(LSR) & 0x60).isEqualTo(0x60);
        out(IER, 0);
        assertThat(irq.level()).isFalse();
    }

    @Test
    void out2GatesTheInterruptAndLoopbackDisconnectsIt() {
        out(IER, 0x02);
        assertThat(in(IIR) & 0x0F).isEqualTo(0x02); // pending inside the UART...
        out(IER, 0);
        out(IER, 0x02);
        assertThat(irq.level()).isFalse(); // ...but OUT2 is low
        out(MCR, 0x08);
        assertThat(irq.level()).isTrue();
        out(MCR, 0x18);
        assertThat(irq.level()).isFalse();
    }

    @Test
    void receivedDataRaisesTheInterruptAndReadsInOrder() {
        out(MCR, 0x08);
        out(FCR, 0x01); // FIFO on, trigger level 1
        out(IER, 0x01);
        assertThat(uart.enqueueInput((byte) 'a')).isTrue();
        assertThat(uart.enqueueInput((byte) 'b')).isTrue();
        assertThat(irq.level()).isTrue();
        assertThat(in(IIR)).isEqualTo(0xC4);
        assertThat(in(LSR) & 0x01).isEqualTo(1);
        assertThat(in(RBR)).isEqualTo('a');
        assertThat(irq.level()).isTrue();
        assertThat(in(RBR)).isEqualTo('b');
        assertThat(irq.level()).isFalse();
        assertThat(in(LSR) & 0x01).isZero();
        assertThat(in(IIR)).isEqualTo(0xC1);
    }

    @Test
    void belowTheTriggerLevelDataIsReportedAsCharacterTimeout() {
        out(MCR, 0x08);
        out(FCR, 0xC1); // trigger level 14
        out(IER, 0x01);
        uart.enqueueInput((byte) 1);
        assertThat(in(IIR)).isEqualTo(0xCC);
        for (int i = 0; i < 13; i++) {
            uart.enqueueInput((byte) 2);
        }
        assertThat(in(IIR)).isEqualTo(0xC4);
    }

    @Test
    void fullFifoRefusesInputForBackPressure() {
        out(FCR, 0x01);
        assertThat(uart.inputSpace()).isEqualTo(16);
        for (int i = 0; i < 16; i++) {
            assertThat(uart.enqueueInput((byte) i)).isTrue();
        }
        assertThat(uart.inputSpace()).isZero();
        assertThat(uart.enqueueInput((byte) 99)).isFalse();
        assertThat(in(LSR) & 0x02).as("host input never overruns").isZero();
        assertThat(in(RBR)).isZero();
        assertThat(uart.inputSpace()).isEqualTo(1);
        assertThat(uart.enqueueInput((byte) 16)).isTrue();
        for (int i = 1; i <= 16; i++) {
            assertThat(in(RBR)).isEqualTo(i);
        }
        assertThat(in(RBR)).as("empty FIFO").isZero();
        // FIFO reset empties it
        uart.enqueueInput((byte) 7);
        out(FCR, 0x03);
        assertThat(in(LSR) & 0x01).isZero();
    }

    @Test
    void withoutFifosTheHoldingRegisterHoldsOneByte() {
        assertThat(uart.inputSpace()).isEqualTo(1);
        assertThat(uart.enqueueInput((byte) 'x')).isTrue();
        assertThat(uart.enqueueInput((byte) 'y')).isFalse();
        assertThat(in(IIR)).isEqualTo(0x01); // no FIFO bits, no interrupt enabled
        assertThat(in(RBR)).isEqualTo('x');
    }

    @Test
    void loopbackRoutesTransmitToReceiveAndOverrunsWhenFull() {
        out(FCR, 0x00);
        out(MCR, 0x10);
        assertThat(uart.inputSpace()).isZero();
        assertThat(uart.enqueueInput((byte) 1)).isFalse();
        out(THR, 0x55);
        assertThat(out.size()).as("nothing leaves the chip in loopback").isZero();
        out(THR, 0x66); // holding register full: overrun, byte lost
        out(IER, 0x05);
        assertThat(in(IIR)).isEqualTo(0x06); // line status has top priority
        int lsr = in(LSR);
        assertThat(lsr & 0x03).isEqualTo(0x03);
        assertThat(in(LSR) & 0x02).as("OE clears on read").isZero();
        assertThat(in(IIR)).isEqualTo(0x04);
        assertThat(in(RBR)).isEqualTo(0x55);
        assertThat(in(IIR)).isEqualTo(0x01);
    }

    @Test
    void modemStatusDeltasInLoopback() {
        out(MCR, 0x10);
        in(MSR); // clear the deltas from entering loopback
        out(IER, 0x08);
        out(MCR, 0x10 | 0x01 | 0x02 | 0x04); // DTR, RTS, OUT1
        assertThat(in(IIR)).isEqualTo(0x00); // modem status interrupt
        assertThat(in(MSR)).isEqualTo(0x70 | 0x03);
        assertThat(in(IIR)).isEqualTo(0x01);
        out(MCR, 0x10); // everything off: RI falling edge sets TERI
        assertThat(in(MSR)).isEqualTo(0x04 | 0x03);
        out(MCR, 0);
        assertThat(in(MSR) & 0xF0).isEqualTo(0xB0);
    }

    @Test
    void divisorLatchSharesOffsetsWithThrAndIer() {
        out(LCR, 0x83);
        out(0, 0x01);
        out(1, 0x00);
        assertThat(uart.divisor()).isEqualTo(1);
        assertThat(in(0)).isEqualTo(1);
        out(LCR, 0x03);
        assertThat(in(LCR)).isEqualTo(0x03);
        assertThat(in(IER)).isZero();
        out(THR, 'z');
        assertThat(out.toString()).isEqualTo("z");
        assertThat(uart.divisor()).isEqualTo(1);
    }

    @Test
    void priorityOrderLineStatusThenDataThenThreThenModem() {
        out(MCR, 0x10);
        in(MSR);
        out(FCR, 0x01);
        for (int i = 0; i < 17; i++) {
            out(THR, i); // the 17th overruns
        }
        out(MCR, 0x11); // DTR: DSR delta
        out(IER, 0x0F);
        assertThat(in(IIR)).isEqualTo(0xC6);
        in(LSR);
        assertThat(in(IIR)).isEqualTo(0xC4);
        for (int i = 0; i < 16; i++) {
            in(RBR);
        }
        assertThat(in(IIR)).isEqualTo(0xC2);
        assertThat(in(IIR)).isEqualTo(0xC0);
        in(MSR);
        assertThat(in(IIR)).isEqualTo(0xC1);
    }

    @Test
    void hostileOffsetsAndSizesNeverThrow() {
        long[] offsets = {-1, 8, 9, 1L << 40, Long.MIN_VALUE, Long.MAX_VALUE};
        int[] sizes = {0, -1, 3, 8, Integer.MAX_VALUE};
        for (long offset : offsets) {
            for (int size : sizes) {
                uart.read(offset, size);
                uart.write(offset, size, -1L);
            }
        }
        assertThat(out.size()).isZero();
        uart.write(0, 4, 0x1234_5641L); // a wide write uses the low byte
        assertThat(out.toByteArray()).containsExactly(0x41);
        assertThat(uart.read(0, 0)).isEqualTo(0xFF); // size 0: no side effect
    }

    @Test
    void awaitInputSpaceTimesOutWhenFullAndReturnsAtOnceWithRoom() throws Exception {
        assertThat(uart.awaitInputSpace(0)).isTrue();
        uart.enqueueInput((byte) 1);
        long t0 = System.nanoTime();
        assertThat(uart.awaitInputSpace(20)).isFalse();
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(15_000_000L);
        in(RBR);
        assertThat(uart.awaitInputSpace(0)).isTrue();
    }

    @Test
    void concurrentInputAndGuestReadsKeepOrder() throws Exception {
        out(FCR, 0x01);
        int n = 2000;
        Thread stdin = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    while (!uart.enqueueInput((byte) i)) {
                        uart.awaitInputSpace(1000); // woken by the guest's RBR read
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        stdin.start();
        List<Integer> got = new ArrayList<>();
        while (got.size() < n) {
            if ((in(LSR) & 1) != 0) {
                got.add(in(RBR));
            } else {
                Thread.onSpinWait();
            }
        }
        stdin.join();
        for (int i = 0; i < n; i++) {
            assertThat(got.get(i)).isEqualTo(i & 0xFF);
        }
    }
}
