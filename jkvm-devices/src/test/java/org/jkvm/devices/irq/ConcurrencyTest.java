package org.jkvm.devices.irq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.jkvm.devices.timer.Hpet;
import org.jkvm.devices.timer.Pit;
import org.junit.jupiter.api.Test;

/**
 * The whole wiring under contention: device threads pulsing ISA lines, a "vCPU" acknowledging and EOIing through
 * the ports, the local APIC side's EOIs feeding the I/O APIC, and a timer thread servicing the PIT and the HPET.
 * Checks that nothing deadlocks or throws (the lock order is device, router, PIC/I/O APIC).
 */
class ConcurrencyTest {

    @Test
    void noDeadlockUnderContention() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), this::run);
    }

    private void run() throws InterruptedException {
        AtomicInteger messages = new AtomicInteger();
        AtomicIntegerArray eoiPending = new AtomicIntegerArray(256); // level vectors the "local APIC" accepted
        IoApic ioapic = new IoApic((d, l, v, m, lv, t) -> {
            messages.incrementAndGet();
            if (t) {
                eoiPending.set(v, 1);
            }
        });
        Pic8259 pic = new Pic8259(level -> { });
        IrqRouter router = new IrqRouter(pic, ioapic);
        Hpet hpet = new Hpet(router);
        Pit pit = new Pit(hpet.unlessLegacyReplacement(router.isaLine(0)));
        for (int pin = 0; pin < 16; pin++) {
            ioapic.write(IoApic.IOREGSEL, 1, 0x10 + 2 * pin);
            ioapic.write(IoApic.IOWIN, 4, (pin % 2 == 0 ? 1 << 15 : 0) | 0x40 + pin);
        }
        pic.master().write(0, 1, 0x11);
        pic.master().write(1, 1, 0x30);
        pic.master().write(1, 1, 0x04);
        pic.master().write(1, 1, 0x01);
        pic.master().write(1, 1, 0x00);
        pit.write(3, 1, 0x34);
        pit.write(0, 1, 0x40);
        pit.write(0, 1, 0x00);
        hpet.write(0x10, 4, 1);
        hpet.write(0x100, 4, 1 << 2 | 1 << 3 | 1 << 6 | 16 << 9);
        hpet.write(0x108, 4, 500);

        long end = System.nanoTime() + 200_000_000L;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(4);
        Runnable[] jobs = {
            () -> {
                for (int i = 0; System.nanoTime() < end; i++) {
                    int irq = 1 + i % 7;
                    router.isaLine(irq == Pic8259.CASCADE ? 3 : irq).pulse();
                }
            },
            () -> {
                for (int i = 0; System.nanoTime() < end; i++) {
                    router.gsiLine(10).set(true);
                    router.gsiLine(10).set(false);
                    hpet.write(0x10, 4, 1 | (i & 1) << 1);
                }
            },
            () -> {
                while (System.nanoTime() < end) {
                    pic.acknowledge();
                    pic.master().write(0, 1, 0x20);
                    pit.read(0, 1);
                    for (int v = 0x40; v < 0x50; v++) {
                        if (eoiPending.getAndSet(v, 0) != 0) {
                            ioapic.endOfInterrupt(v); // the local APIC's EOI broadcast, on the vCPU thread
                        }
                    }
                }
            },
            () -> {
                while (System.nanoTime() < end) {
                    long now = System.nanoTime();
                    pit.service(now);
                    hpet.service(now);
                    Thread.onSpinWait();
                }
            },
        };
        for (Runnable job : jobs) {
            Thread.ofPlatform().start(() -> {
                try {
                    job.run();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        done.await();
        assertThat(failure.get()).isNull();
        assertThat(messages.get()).isPositive();
    }
}
