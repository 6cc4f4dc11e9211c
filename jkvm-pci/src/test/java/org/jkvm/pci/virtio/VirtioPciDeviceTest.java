package org.jkvm.pci.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jkvm.pci.virtio.VirtioPciLayout.*;

import java.util.ArrayList;
import java.util.List;

import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.pci.PciConfigSpace;
import org.jkvm.virtio.DescriptorChain;
import org.jkvm.virtio.MockDriver;
import org.jkvm.virtio.MockDriver.Buf;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioPciDeviceTest {
    static final int RING_SIZE = 8;
    static final long OFFERED = VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
            | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_INDIRECT_DESC) | 1L << 5;

    /** A two-queue test device: completes every chain with 0 bytes written; 8 bytes of config "ABCDEFGH". */
    static final class CompletingDevice implements VirtioDevice {
        int activations;
        boolean announce;

        @Override
        public boolean announceConfigAtDriverOk() {
            return announce;
        }

        @Override
        public int deviceType() {
            return 2;
        }

        @Override
        public long deviceFeatures() {
            return OFFERED;
        }

        @Override
        public int numQueues() {
            return 2;
        }

        @Override
        public int maxQueueSize(int index) {
            return RING_SIZE;
        }

        @Override
        public int configSize() {
            return 8;
        }

        @Override
        public void readConfig(int offset, byte[] dst, int dstOff, int len) {
            for (int i = 0; i < len; i++) {
                int at = offset + i;
                dst[dstOff + i] = at >= 0 && at < 8 ? (byte) ('A' + at) : 0;
            }
        }

        @Override
        public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
            activations++;
            DescriptorChain chain = queue.newChain();
            return () -> {
                boolean any = false;
                while (queue.pop(chain)) {
                    queue.addUsed(chain.head(), 0);
                    any = true;
                }
                return any && queue.needsNotification();
            };
        }

        @Override
        public String name() {
            return "test-device";
        }
    }

    private final MmapGuestMemory memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB));
    private final CompletingDevice device = new CompletingDevice();
    private final List<String> msis = new ArrayList<>();
    private final List<Integer> kicks = new ArrayList<>();
    private final List<String> moves = new ArrayList<>();
    private final boolean[] intx = new boolean[1];
    private final VirtioPciDevice pci = new VirtioPciDevice(device, memory, 0x010000,
            (v, a, d) -> msis.add(Long.toHexString(a) + "/" + d), level -> intx[0] = level,
            new VirtioPciDevice.Hooks() {
                @Override
                public void kick(int queue) {
                    kicks.add(queue);
                }

                @Override
                public void notifyMoved(int queue, long oldGpa, long newGpa) {
                    moves.add(queue + ":" + Long.toHexString(oldGpa) + "->" + Long.toHexString(newGpa));
                }
            }, "disk0");

    @AfterEach
    void close() {
        memory.close();
    }

    private long common(int offset, int size) {
        return pci.barRead(BAR, COMMON_OFFSET + offset, size);
    }

    private void setCommon(int offset, int size, long value) {
        pci.barWrite(BAR, COMMON_OFFSET + offset, size, value);
    }

    private void negotiate(long features) {
        setCommon(DEVICE_STATUS, 1, VirtioFeatures.STATUS_ACKNOWLEDGE | VirtioFeatures.STATUS_DRIVER);
        setCommon(DRIVER_FEATURE_SELECT, 4, 0);
        setCommon(DRIVER_FEATURE, 4, features & 0xffff_ffffL);
        setCommon(DRIVER_FEATURE_SELECT, 4, 1);
        setCommon(DRIVER_FEATURE, 4, features >>> 32);
        setCommon(DEVICE_STATUS, 1, VirtioFeatures.STATUS_ACKNOWLEDGE | VirtioFeatures.STATUS_DRIVER
                | VirtioFeatures.STATUS_FEATURES_OK);
    }

    private MockDriver setUpQueue(int q, long base, int vector) {
        MockDriver d = new MockDriver(memory, RING_SIZE, base, 1 << 20, false);
        setCommon(QUEUE_SELECT, 2, q);
        setCommon(QUEUE_SIZE, 2, RING_SIZE);
        setCommon(QUEUE_DESC, 8, d.descGpa());
        setCommon(QUEUE_DRIVER, 4, d.availGpa()); // a 64-bit field written as two halves
        setCommon(QUEUE_DRIVER + 4, 4, d.availGpa() >>> 32);
        setCommon(QUEUE_DEVICE, 8, d.usedGpa());
        setCommon(QUEUE_MSIX_VECTOR, 2, vector);
        setCommon(QUEUE_ENABLE, 2, 1);
        return d;
    }

    private int findCap(int type) {
        PciConfigSpace c = pci.config();
        for (int at = (int) c.read(PciConfigSpace.CAPABILITIES_POINTER, 1); at != 0;
             at = (int) c.read(at + 1, 1)) {
            if (c.read(at, 1) == CAP_VENDOR && c.read(at + 3, 1) == type) {
                return at;
            }
        }
        return -1;
    }

    private void enableMsix() {
        PciConfigSpace c = pci.config();
        int at = (int) c.read(PciConfigSpace.CAPABILITIES_POINTER, 1);
        while (c.read(at, 1) != 0x11) {
            at = (int) c.read(at + 1, 1);
        }
        c.write(at + 2, 2, 0x8000);
        pci.configWritten(at + 2, 2);
        for (int v = 0; v < 3; v++) {
            pci.barWrite(BAR, MSIX_TABLE_OFFSET + v * 16L, 8, 0xfee0_0000L);
            pci.barWrite(BAR, MSIX_TABLE_OFFSET + v * 16L + 8, 4, 0x40 + v);
            pci.barWrite(BAR, MSIX_TABLE_OFFSET + v * 16L + 12, 4, 0);
        }
    }

    @Test
    void identityAndCapabilities() {
        PciConfigSpace c = pci.config();
        assertThat(c.read(0, 4)).isEqualTo(0x1042_1af4L);
        assertThat(c.read(PciConfigSpace.REVISION_ID, 1)).isEqualTo(1);
        assertThat(c.read(PciConfigSpace.INTERRUPT_PIN, 1)).isEqualTo(1);
        int common = findCap(CAP_COMMON_CFG);
        assertThat(c.read(common + 4, 1)).isEqualTo(BAR);
        assertThat(c.read(common + 8, 4)).isEqualTo(COMMON_OFFSET);
        assertThat(c.read(common + 12, 4)).isEqualTo(COMMON_LENGTH);
        int notify = findCap(CAP_NOTIFY_CFG);
        assertThat(c.read(notify + 2, 1)).isEqualTo(NOTIFY_CAP_BYTES);
        assertThat(c.read(notify + 16, 4)).isEqualTo(NOTIFY_OFF_MULTIPLIER);
        assertThat(findCap(CAP_ISR_CFG)).isPositive();
        assertThat(c.read(findCap(CAP_DEVICE_CFG) + 12, 4)).isEqualTo(8);
        assertThat(findCap(CAP_PCI_CFG)).isPositive();
        assertThat(common(NUM_QUEUES, 2)).isEqualTo(2);
        assertThat(pci.barRead(BAR, DEVICE_OFFSET, 4)).isEqualTo(0x4443_4241L);
        assertThat(pci.barRead(BAR, DEVICE_OFFSET + 6, 4)).isEqualTo(0x4847L);
    }

    @Test
    void featureNegotiationNeedsVersion1AndOnlyOfferedBits() {
        setCommon(DEVICE_FEATURE_SELECT, 4, 1);
        assertThat(common(DEVICE_FEATURE, 4)).isEqualTo(1);
        setCommon(DEVICE_FEATURE_SELECT, 4, 0);
        assertThat(common(DEVICE_FEATURE, 4)).isEqualTo(OFFERED & 0xffff_ffffL);
        setCommon(DEVICE_FEATURE_SELECT, 4, 7);
        assertThat(common(DEVICE_FEATURE, 4)).isZero();

        negotiate(1L << 5); // no VERSION_1: a legacy driver
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_FEATURES_OK).isZero();
        setCommon(DEVICE_STATUS, 1, 0);
        negotiate(OFFERED | 1L << 6); // a bit not offered
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_FEATURES_OK).isZero();
        setCommon(DEVICE_STATUS, 1, 0);
        negotiate(OFFERED);
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_FEATURES_OK).isNotZero();
        setCommon(DRIVER_FEATURE_SELECT, 4, 0);
        setCommon(DRIVER_FEATURE, 4, 0); // after FEATURES_OK: ignored
        assertThat(common(DRIVER_FEATURE, 4)).isEqualTo(OFFERED & 0xffff_ffffL);
    }

    @Test
    void queueRoundTripWithMsix() throws Exception {
        enableMsix();
        negotiate(OFFERED);
        setCommon(CONFIG_MSIX_VECTOR, 2, 2);
        assertThat(common(CONFIG_MSIX_VECTOR, 2)).isEqualTo(2);
        MockDriver d = setUpQueue(0, 0x100000, 0);
        assertThat(common(QUEUE_ENABLE, 2)).isEqualTo(1);
        assertThat(common(QUEUE_DESC, 8)).isEqualTo(d.descGpa());
        assertThat(common(QUEUE_NOTIFY_OFF, 2)).isZero();
        setCommon(QUEUE_SELECT, 2, 1);
        assertThat(common(QUEUE_NOTIFY_OFF, 2)).isEqualTo(1);
        setCommon(QUEUE_SIZE, 2, 4);
        assertThat(common(QUEUE_SIZE, 2)).isEqualTo(4);

        long buf = d.alloc(64, 8);
        d.add(Buf.out(buf, 64));
        d.publish();
        pci.barWrite(BAR, NOTIFY_OFFSET, 2, 0);
        assertThat(kicks).isEmpty(); // no notifications before DRIVER_OK
        setCommon(DEVICE_STATUS, 1, 0xf);
        assertThat(kicks).containsExactly(0, 1); // DRIVER_OK: process what came before
        assertThat(device.activations).isEqualTo(1); // queue 1 is not enabled
        pci.barWrite(BAR, NOTIFY_OFFSET + 4, 2, 1);
        assertThat(kicks).containsExactly(0, 1, 1);

        pci.processQueue(0);
        assertThat(d.popUsed()).isNotNull();
        assertThat(msis).containsExactly("fee00000/64");
        assertThat(pci.barRead(BAR, ISR_OFFSET, 1)).isZero(); // MSI-X: no ISR
        pci.processQueue(1); // not enabled: nothing
        pci.processQueue(7);
        assertThat(msis).hasSize(1);
    }

    @Test
    void intxAndIsrWithoutMsix() throws Exception {
        negotiate(OFFERED);
        MockDriver d = setUpQueue(0, 0x100000, 0);
        setCommon(DEVICE_STATUS, 1, 0xf);
        d.add(Buf.out(d.alloc(16, 8), 16));
        d.publish();
        pci.processQueue(0);
        assertThat(intx[0]).isTrue();
        assertThat(pci.config().read(PciConfigSpace.STATUS, 2) & PciConfigSpace.STATUS_INTERRUPT).isNotZero();
        assertThat(pci.barRead(BAR, ISR_OFFSET, 1)).isEqualTo(ISR_QUEUE);
        assertThat(intx[0]).isFalse();
        assertThat(pci.barRead(BAR, ISR_OFFSET, 1)).isZero();
        assertThat(msis).isEmpty();
    }

    @Test
    void vectorsOutsideTheTableReadBackAsNoVector() {
        setCommon(CONFIG_MSIX_VECTOR, 2, 3);
        assertThat(common(CONFIG_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
        setCommon(QUEUE_SELECT, 2, 0);
        setCommon(QUEUE_MSIX_VECTOR, 2, 1000);
        assertThat(common(QUEUE_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
        setCommon(QUEUE_SELECT, 2, 5); // no such queue
        assertThat(common(QUEUE_SIZE, 2)).isZero();
        setCommon(QUEUE_ENABLE, 2, 1);
        assertThat(common(QUEUE_ENABLE, 2)).isZero();
    }

    @Test
    void malformedRingNeedsResetWithConfigInterrupt() {
        enableMsix();
        negotiate(OFFERED);
        setCommon(CONFIG_MSIX_VECTOR, 2, 2);
        MockDriver d = setUpQueue(0, 0x100000, 0);
        setCommon(DEVICE_STATUS, 1, 0xf);
        d.writeAvailRing(0, 200); // head beyond the queue
        d.writeAvailIdx(1);
        pci.processQueue(0);
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET).isNotZero();
        assertThat(pci.failure()).contains("queue 0");
        assertThat(msis).containsExactly("fee00000/66");
        setCommon(DEVICE_STATUS, 1, 0x4f); // the driver cannot clear it ...
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET).isNotZero();
        pci.processQueue(0);
        assertThat(msis).hasSize(1);
        setCommon(DEVICE_STATUS, 1, 0); // ... only a reset does
        assertThat(common(DEVICE_STATUS, 1)).isZero();
        assertThat(pci.failure()).isNull();
        setCommon(QUEUE_SELECT, 2, 0);
        assertThat(common(QUEUE_ENABLE, 2)).isZero();
        assertThat(common(QUEUE_MSIX_VECTOR, 2)).isEqualTo(NO_VECTOR);
    }

    @Test
    void aDeviceMayAnnounceItsConfigurationAtDriverOk() {
        device.announce = true;
        enableMsix();
        negotiate(OFFERED);
        setCommon(CONFIG_MSIX_VECTOR, 2, 2);
        setUpQueue(0, 0x100000, 0);
        assertThat(msis).as("nothing before DRIVER_OK").isEmpty();
        setCommon(DEVICE_STATUS, 1, 0xf);
        assertThat(msis).as("the configuration vector, once").containsExactly("fee00000/66");
        setCommon(DEVICE_STATUS, 1, 0xf); // DRIVER_OK again: not a transition
        assertThat(msis).hasSize(1);
    }

    @Test
    void aDeviceAnnouncesThroughTheIsrWithoutMsix() {
        device.announce = true;
        negotiate(OFFERED);
        setUpQueue(0, 0x100000, NO_VECTOR);
        assertThat(intx[0]).isFalse();
        setCommon(DEVICE_STATUS, 1, 0xf);
        assertThat(intx[0]).isTrue();
        assertThat(pci.barRead(BAR, ISR_OFFSET, 1)).isEqualTo(ISR_CONFIG);
        assertThat(intx[0]).as("reading the ISR clears it").isFalse();
    }

    @Test
    void ringOutsideRamAtEnableNeedsReset() {
        negotiate(OFFERED);
        setCommon(QUEUE_SELECT, 2, 0);
        setCommon(QUEUE_DESC, 8, 0x7fff_0000_0000L);
        setCommon(QUEUE_ENABLE, 2, 1);
        assertThat(common(QUEUE_ENABLE, 2)).isZero();
        assertThat(common(DEVICE_STATUS, 1) & VirtioFeatures.STATUS_DEVICE_NEEDS_RESET).isNotZero();
        assertThat(intx[0]).isTrue(); // configuration change through INTx (MSI-X is off)
        assertThat(pci.barRead(BAR, ISR_OFFSET, 1)).isEqualTo(ISR_CONFIG);
    }

    @Test
    void oddAccessesAreHarmless() {
        for (long off = -8; off < BAR_SIZE + 16; off += 3) {
            for (int size : new int[] {0, 1, 2, 3, 4, 8, 9}) {
                pci.barRead(BAR, off, size);
                pci.barWrite(BAR, off, size, -1L);
            }
        }
        pci.barRead(3, 0, 4);
        pci.barWrite(3, 0, 4, 1);
        assertThat(common(DEVICE_STATUS, 1)).isNotNegative();
    }

    @Test
    void pciCfgCapabilityReachesTheBar() {
        PciConfigSpace c = pci.config();
        int cap = findCap(CAP_PCI_CFG);
        c.write(cap + 4, 1, BAR);
        c.write(cap + 8, 4, NUM_QUEUES);
        c.write(cap + 12, 4, 2);
        assertThat(pci.configRead(cap + 16, 4)).isEqualTo(2);
        c.write(cap + 8, 4, DEVICE_FEATURE_SELECT);
        c.write(cap + 12, 4, 4);
        assertThat(pci.configWriteIntercept(cap + 16, 4, 1)).isTrue();
        assertThat(common(DEVICE_FEATURE_SELECT, 4)).isEqualTo(1);
        c.write(cap + 8, 4, 0x7fff_ffffL); // outside the BAR
        assertThat(pci.configRead(cap + 16, 4)).isZero();
    }

    @Test
    void notifyAddressesFollowTheBar() {
        pci.barMapped(BAR, 0x1_0000_0000L);
        pci.barMapped(BAR, -1);
        assertThat(moves).containsExactly("0:ffffffffffffffff->100003000", "1:ffffffffffffffff->100003004",
                "0:100003000->ffffffffffffffff", "1:100003004->ffffffffffffffff");
    }
}
