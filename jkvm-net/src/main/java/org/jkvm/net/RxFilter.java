package org.jkvm.net;

import java.util.Arrays;

/**
 * The receive filter the driver programs through the control queue (virtio 1.2 section 5.1.6.5.1 and 5.1.6.5.2):
 * promiscuous, all-multicast, all-unicast, no-multicast, no-unicast and no-broadcast modes, and the unicast and
 * multicast MAC tables ({@value #TABLE_ENTRIES} entries each, as QEMU; a longer table sets the overflow flag and
 * then every address of that kind passes). An immutable value: the control queue swaps in a new one, the receive
 * path reads one volatile reference per batch. A device reset returns to {@link #initial}: promiscuous, as QEMU
 * starts (a driver without VIRTIO_NET_F_CTRL_RX expects to see every frame).
 */
public record RxFilter(long mac, boolean promisc, boolean allMulti, boolean allUni, boolean noMulti, boolean noUni,
                       boolean noBroadcast, long[] unicast, boolean unicastOverflow, long[] multicast,
                       boolean multicastOverflow) {
    public static final int TABLE_ENTRIES = 64;

    public RxFilter {
        unicast = unicast.clone();
        multicast = multicast.clone();
    }

    public static RxFilter initial(long mac) {
        return new RxFilter(mac, true, false, false, false, false, false, new long[0], false, new long[0], false);
    }

    /** Whether a frame to {@code dst} reaches the driver (QEMU's receive_filter, without VLANs). */
    public boolean accepts(long dst) {
        if (promisc) {
            return true;
        }
        if (MacAddress.isMulticast(dst)) {
            if (dst == MacAddress.BROADCAST) {
                return !noBroadcast;
            }
            if (noMulti) {
                return false;
            }
            if (allMulti || multicastOverflow) {
                return true;
            }
            for (long m : multicast) {
                if (m == dst) {
                    return true;
                }
            }
            return false;
        }
        if (noUni) {
            return false;
        }
        if (allUni || unicastOverflow || dst == mac) {
            return true;
        }
        for (long m : unicast) {
            if (m == dst) {
                return true;
            }
        }
        return false;
    }

    public RxFilter withMac(long m) {
        return new RxFilter(m, promisc, allMulti, allUni, noMulti, noUni, noBroadcast, unicast, unicastOverflow,
                multicast, multicastOverflow);
    }

    /** VIRTIO_NET_CTRL_RX command {@code cmd} (0 PROMISC .. 5 NOBCAST) set to {@code on}; null for an unknown one. */
    public RxFilter withRxMode(int cmd, boolean on) {
        return switch (cmd) {
            case 0 -> new RxFilter(mac, on, allMulti, allUni, noMulti, noUni, noBroadcast, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            case 1 -> new RxFilter(mac, promisc, on, allUni, noMulti, noUni, noBroadcast, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            case 2 -> new RxFilter(mac, promisc, allMulti, on, noMulti, noUni, noBroadcast, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            case 3 -> new RxFilter(mac, promisc, allMulti, allUni, on, noUni, noBroadcast, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            case 4 -> new RxFilter(mac, promisc, allMulti, allUni, noMulti, on, noBroadcast, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            case 5 -> new RxFilter(mac, promisc, allMulti, allUni, noMulti, noUni, on, unicast,
                    unicastOverflow, multicast, multicastOverflow);
            default -> null;
        };
    }

    /** VIRTIO_NET_CTRL_MAC_TABLE_SET: the new tables (each already cut to {@value #TABLE_ENTRIES} entries). */
    public RxFilter withTables(long[] uni, boolean uniOverflow, long[] multi, boolean multiOverflow) {
        return new RxFilter(mac, promisc, allMulti, allUni, noMulti, noUni, noBroadcast, uni, uniOverflow, multi,
                multiOverflow);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RxFilter f && mac == f.mac && promisc == f.promisc && allMulti == f.allMulti
                && allUni == f.allUni && noMulti == f.noMulti && noUni == f.noUni && noBroadcast == f.noBroadcast
                && Arrays.equals(unicast, f.unicast) && unicastOverflow == f.unicastOverflow
                && Arrays.equals(multicast, f.multicast) && multicastOverflow == f.multicastOverflow;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(mac) * 31 + Arrays.hashCode(unicast) * 17 + Arrays.hashCode(multicast);
    }

    @Override
    public long[] unicast() {
        return unicast.clone();
    }

    @Override
    public long[] multicast() {
        return multicast.clone();
    }
}
