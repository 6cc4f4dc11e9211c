package org.jkvm.vmm.console;

import java.io.IOException;
import java.io.InputStream;

import java.util.function.Supplier;

import org.jkvm.devices.legacy.Serial16550;

/**
 * Feeds host input to the guest's serial port on a thread of its own, with QEMU's escape keys: Ctrl-A x quits,
 * Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A h prints help. When the port's receive buffer is full the thread waits,
 * so nothing typed is lost. End of input stops the thread and leaves the guest running.
 */
public final class ConsoleInput {
    static final int CTRL_A = 1;
    private final InputStream in;
    private final Supplier<Serial16550> serial;
    private final Runnable quit;
    private final java.util.function.Consumer<String> message;

    /**
     * @param serial the UART input goes to: the current VM's (a VM restarted by a guest reboot gets a new one);
     *               null while there is none, and input waits
     */
    public ConsoleInput(InputStream in, Supplier<Serial16550> serial, Runnable quit,
                        java.util.function.Consumer<String> message) {
        this.in = in;
        this.serial = serial;
        this.quit = quit;
        this.message = message;
    }

    public Thread start() {
        return Thread.ofPlatform().name("console-input").daemon(true).start(this::pump);
    }

    void pump() {
        byte[] buf = new byte[256];
        boolean escape = false;
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                for (int i = 0; i < n; i++) {
                    int b = buf[i] & 0xff;
                    if (escape) {
                        escape = false;
                        switch (b) {
                            case 'x', 'X' -> {
                                quit.run();
                                return;
                            }
                            case 'h', 'H', '?' -> message.accept(
                                    "C-a h    print this help\r\nC-a x    exit jkvm\r\nC-a C-a  send C-a");
                            case CTRL_A -> send(CTRL_A);
                            default -> { } // unknown escapes are swallowed, as QEMU does
                        }
                    } else if (b == CTRL_A) {
                        escape = true;
                    } else {
                        send(b);
                    }
                }
            }
        } catch (IOException e) {
            // input closed: the guest keeps running without it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(int b) throws InterruptedException {
        while (true) {
            Serial16550 uart = serial.get();
            if (uart == null) {
                Thread.sleep(10);
            } else if (uart.enqueueInput((byte) b)) {
                return;
            } else {
                uart.awaitInputSpace(100);
            }
        }
    }
}
