package org.jkvm.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.sys.Tap;

/**
 * A TAP device as a {@link NetBackend}: {@code queues} descriptors of one TAP interface (IFF_MULTI_QUEUE when more
 * than one), created by jkvm or attached to by name. The offloads a guest can be given are probed once at open
 * (TUNSETOFFLOAD refuses bits the kernel does not know, such as UFO on some kernels).
 */
public final class TapBackend implements NetBackend {
    private final Tap[] taps;
    private final int supported;

    private TapBackend(Tap[] taps, int supported) {
        this.taps = taps;
        this.supported = supported;
    }

    /** Opens {@code queues} queues of TAP {@code ifname} (empty: the kernel names it). */
    public static TapBackend open(String ifname, int queues) throws Tap.TapException {
        List<Tap> opened = new ArrayList<>();
        try {
            Tap first = Tap.open(ifname, queues > 1);
            opened.add(first);
            for (int i = 1; i < queues; i++) {
                opened.add(Tap.open(first.name(), true));
            }
            int supported = 0;
            for (int bit : new int[] {Tap.TUN_F_CSUM, Tap.TUN_F_TSO4, Tap.TUN_F_TSO6, Tap.TUN_F_TSO_ECN,
                    Tap.TUN_F_UFO}) {
                // segmentation needs checksum offload, ECN needs segmentation: probe each with what it needs
                int base = Tap.TUN_F_CSUM | (bit == Tap.TUN_F_TSO_ECN ? Tap.TUN_F_TSO4 : 0);
                if (first.setOffload(base | bit) == 0) {
                    supported |= bit;
                }
            }
            first.setOffload(0);
            return new TapBackend(opened.toArray(Tap[]::new), supported);
        } catch (Tap.TapException | RuntimeException e) {
            for (Tap t : opened) {
                t.close();
            }
            throw e;
        }
    }

    /** True if this open created the interface (it goes away when jkvm closes it). */
    public boolean created() {
        return taps[0].created();
    }

    @Override
    public int queues() {
        return taps.length;
    }

    @Override
    public int fd(int q) {
        return taps[q].fd();
    }

    @Override
    public long read(int q, MemorySegment buf, long len) {
        return taps[q].read(buf, len);
    }

    @Override
    public long writev(int q, MemorySegment iov, int iovcnt) {
        return taps[q].writev(iov, iovcnt);
    }

    @Override
    public int setOffload(int tunFlags) {
        return taps[0].setOffload(tunFlags & supported);
    }

    @Override
    public int supportedOffloads() {
        return supported;
    }

    @Override
    public int setQueueEnabled(int q, boolean enabled) {
        return taps.length > 1 ? taps[q].setQueueAttached(enabled) : 0;
    }

    @Override
    public String name() {
        return taps[0].name();
    }

    @Override
    public void close() {
        for (Tap t : taps) {
            t.close();
        }
    }
}
