package org.jkvm.devices;

import java.util.ArrayList;
import java.util.List;

/** An {@link InterruptLine} for tests: remembers the level and every transition. */
public final class RecordingLine implements InterruptLine {

    private boolean level;
    private final List<Boolean> history = new ArrayList<>();

    @Override
    public synchronized void set(boolean asserted) {
        level = asserted;
        history.add(asserted);
    }

    public synchronized boolean level() {
        return level;
    }

    /** Number of low-to-high transitions seen. */
    public synchronized int rises() {
        int n = 0;
        boolean previous = false;
        for (boolean b : history) {
            if (b && !previous) {
                n++;
            }
            previous = b;
        }
        return n;
    }

    public synchronized List<Boolean> history() {
        return List.copyOf(history);
    }
}
