package org.jkvm.cli;

import java.util.function.IntConsumer;

import sun.misc.Signal;

/**
 * SIGTERM, SIGINT and SIGHUP end the VM cleanly (vCPUs stopped, console flushed, terminal restored) with exit
 * status 0, as QEMU does ("terminating on signal 15"). Uses jdk.unsupported's sun.misc.Signal, the supported way
 * for a Java program to replace the JVM's default handling of these signals.
 */
final class Signals {
    private static volatile IntConsumer handler = sig -> { };

    private Signals() {}

    static void onTermination(IntConsumer h) {
        handler = h;
        for (String name : new String[] {"TERM", "INT", "HUP"}) {
            try {
                Signal.handle(new Signal(name), s -> handler.accept(s.getNumber()));
            } catch (IllegalArgumentException e) {
                // the JVM reserves this signal (e.g. with -Xrs): keep its default behaviour
            }
        }
    }
}
