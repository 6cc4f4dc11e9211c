package org.jkvm.devices.legacy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.jkvm.devices.RecordingLine;
import org.junit.jupiter.api.Test;

class I8042Test {

    static final int DATA = 0, CMD = 4;

    final RecordingLine irq1 = new RecordingLine();
    final AtomicInteger resets = new AtomicInteger();
    final I8042 kbc = new I8042(irq1, resets::incrementAndGet);

    int status() {
        return (int) kbc.read(CMD, 1);
    }

    int data() {
        return (int) kbc.read(DATA, 1);
    }

    void command(int c) {
        kbc.write(CMD, 1, c);
    }

    void writeData(int d) {
        kbc.write(DATA, 1, d);
    }

    @Test
    void controllerSelfTestAndInterfaceTest() {
        assertThat(status() & 0x01).isZero();
        command(0xAA);
        assertThat(status() & 0x01).isEqualTo(1);
        assertThat(status() & 0x02).as("IBF never set").isZero();
        assertThat(status() & 0x04).as("SYS flag").isEqualTo(0x04);
        assertThat(status() & 0x08).as("A2: last write was a command").isEqualTo(0x08);
        assertThat(data()).isEqualTo(0x55);
        assertThat(status() & 0x01).isZero();
        command(0xAB);
        assertThat(data()).isEqualTo(0x00);
        command(0xA9);
        assertThat(data()).isEqualTo(0x00);
    }

    @Test
    void commandByteReadAndWrite() {
        command(0x20);
        assertThat(data()).isEqualTo(0x65); // kbd int, SYS, aux disabled, translate
        command(0x60);
        writeData(0x47);
        assertThat(status() & 0x08).isZero();
        command(0x20);
        assertThat(data()).as("aux stays disabled: no mouse").isEqualTo(0x67);
        command(0xAD);
        command(0x20);
        assertThat(data() & 0x10).isEqualTo(0x10);
        command(0xAE);
        command(0x20);
        assertThat(data() & 0x10).isZero();
    }

    @Test
    void keyboardResetAnswersAckThenSelfTestPassedWithOneInterruptEach() {
        writeData(0xFF);
        assertThat(irq1.level()).isTrue();
        assertThat(data()).isEqualTo(0xFA);
        assertThat(irq1.level()).isTrue();
        assertThat(data()).isEqualTo(0xAA);
        assertThat(irq1.level()).isFalse();
        assertThat(irq1.rises()).as("an edge per byte").isEqualTo(2);
        assertThat(data()).as("latch keeps the last byte").isEqualTo(0xAA);
        assertThat(status() & 0x01).isZero();
    }

    @Test
    void keyboardIdentifyTranslatedAndRaw() {
        writeData(0xF2);
        assertThat(new int[] {data(), data(), data()}).containsExactly(0xFA, 0xAB, 0x41);
        command(0x60);
        writeData(0x05); // translation off
        writeData(0xF2);
        assertThat(new int[] {data(), data(), data()}).containsExactly(0xFA, 0xAB, 0x83);
    }

    @Test
    void atkbdProbeCommandsAreAcknowledged() {
        writeData(0xF5);
        assertThat(data()).isEqualTo(0xFA);
        writeData(0xED);
        assertThat(data()).isEqualTo(0xFA);
        writeData(0x07); // LED argument, not a command
        assertThat(data()).isEqualTo(0xFA);
        writeData(0xF3);
        writeData(0x00);
        assertThat(new int[] {data(), data()}).containsExactly(0xFA, 0xFA);
        writeData(0xF0);
        writeData(0x00); // query the scan code set
        assertThat(new int[] {data(), data(), data()}).containsExactly(0xFA, 0xFA, 0x02);
        writeData(0xF4);
        assertThat(data()).isEqualTo(0xFA);
        writeData(0xEE);
        assertThat(data()).isEqualTo(0xEE);
        writeData(0x12);
        assertThat(data()).as("unknown command: resend").isEqualTo(0xFE);
    }

    @Test
    void noInterruptWhenTheCommandByteDisablesIt() {
        command(0x60);
        writeData(0x44);
        writeData(0xF4);
        assertThat(status() & 0x01).isEqualTo(1);
        assertThat(irq1.level()).isFalse();
        command(0x60);
        writeData(0x45); // enabling it with a byte waiting raises it
        assertThat(irq1.level()).isTrue();
    }

    @Test
    void resetCommands() {
        command(0xFE);
        assertThat(resets.get()).isEqualTo(1);
        command(0xFF); // pulse nothing
        assertThat(resets.get()).isEqualTo(1);
        command(0xD1);
        writeData(0x03); // reset line stays high
        assertThat(resets.get()).isEqualTo(1);
        command(0xD0);
        assertThat(data() & 0x03).isEqualTo(0x03);
        command(0xD1);
        writeData(0x02); // bit 0 low: reset
        assertThat(resets.get()).isEqualTo(2);
    }

    @Test
    void resetCallbackRunsWithoutTheDeviceLock() throws Exception {
        AtomicInteger seen = new AtomicInteger(-1);
        I8042[] self = new I8042[1];
        self[0] = new I8042(irq1, () -> {
            Thread other = new Thread(() -> seen.set((int) self[0].read(CMD, 1)));
            other.start();
            try {
                other.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        self[0].write(CMD, 1, 0xFE);
        assertThat(seen.get()).as("another thread could use the device during the callback").isNotNegative();
    }

    @Test
    void linuxSeesNoAuxPortQuickly() {
        // i8042_check_aux: the internal aux loopback echoes on the aux channel...
        command(0xD3);
        writeData(0x5A);
        assertThat(status() & 0x21).isEqualTo(0x21);
        assertThat(irq1.level()).as("aux bytes do not use IRQ 1").isFalse();
        assertThat(data()).isEqualTo(0x5A);
        // ...but the aux port cannot be enabled
        command(0xA7);
        command(0x20);
        assertThat(data() & 0x20).isEqualTo(0x20);
        command(0xA8);
        command(0x20);
        assertThat(data() & 0x20).isEqualTo(0x20);
        command(0xD4);
        writeData(0xFF); // to the absent mouse: nothing comes back
        assertThat(status() & 0x01).isZero();
    }

    @Test
    void writeKeyboardOutputBuffer() {
        command(0xD2);
        writeData(0x1C);
        assertThat(irq1.level()).isTrue();
        assertThat(status() & 0x21).isEqualTo(0x01);
        assertThat(data()).isEqualTo(0x1C);
    }

    @Test
    void outputQueueIsBoundedAndHostileAccessesNeverThrow() {
        for (int i = 0; i < 100; i++) {
            writeData(0xEE);
        }
        int n = 0;
        while ((status() & 1) != 0) {
            data();
            n++;
        }
        assertThat(n).isEqualTo(16);
        long[] offsets = {-1, 1, 2, 3, 5, 1L << 33, Long.MIN_VALUE};
        for (long offset : offsets) {
            for (int size : new int[] {0, -5, 1, 2, 4, 8, 1000}) {
                kbc.read(offset, size);
                kbc.write(offset, size, -1L);
            }
        }
        assertThat(resets.get()).isZero();
    }

    @Test
    void port61RefreshBitToggles() {
        int a = (int) kbc.read(1, 1);
        int b = (int) kbc.read(1, 1);
        assertThat((a ^ b) & 0x30).isEqualTo(0x30);
        kbc.write(1, 1, 0x03);
        assertThat(kbc.read(1, 1) & 0x0F).isEqualTo(0x03);
    }
}
