package org.jkvm.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;

import org.jkvm.devices.BusDevice;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.jkvm.pci.virtio.VirtioPciDevice;
import org.jkvm.pci.virtio.VirtioPciLayout;
import org.jkvm.virtio.VirtQueue;
import org.jkvm.virtio.VirtioDevice;
import org.jkvm.virtio.VirtioFeatures;
import org.junit.jupiter.api.Test;

/**
 * The guest is hostile: a seeded stream of random configuration accesses (type 1 and ECAM, any offset, size and
 * value, BAR moves included) and random BAR accesses (any offset and size) against the host bridge and a virtio
 * function, with the I/O path running in between. Nothing may throw, and whatever the guest did, the IDs stay.
 */
class HostileGuestTest {
    static final PciWindow LOW = new PciWindow(0xc000_0000L, 0x2000_0000L);
    static final PciWindow HIGH = new PciWindow(0x1_0000_0000L, 1L << 34);

    /** A one-queue device that completes every chain. */
    static final class Sink implements VirtioDevice {
        @Override
        public int deviceType() {
            return 4;
        }

        @Override
        public long deviceFeatures() {
            return VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_VERSION_1)
                    | VirtioFeatures.bit(VirtioFeatures.VIRTIO_F_EVENT_IDX);
        }

        @Override
        public int numQueues() {
            return 1;
        }

        @Override
        public int maxQueueSize(int index) {
            return 16;
        }

        @Override
        public int configSize() {
            return 4;
        }

        @Override
        public void readConfig(int offset, byte[] dst, int dstOff, int len) {
            for (int i = 0; i < len; i++) {
                dst[dstOff + i] = 0x5a;
            }
        }

        @Override
        public QueueHandler activate(int index, VirtQueue queue, long negotiatedFeatures) {
            var chain = queue.newChain();
            return () -> {
                while (queue.pop(chain)) {
                    queue.addUsed(chain.head(), 0);
                }
                return queue.needsNotification();
            };
        }

        @Override
        public String name() {
            return "sink";
        }
    }

    @Test
    void randomAccessesNeverThrow() {
        try (MmapGuestMemory memory = MmapGuestMemory.create(PcMemoryLayout.of(64 * PcMemoryLayout.MIB))) {
            PciBus bus = new PciBus(List.of(LOW, HIGH));
            bus.add(new HostBridge());
            int[] kicks = new int[1];
            VirtioPciDevice dev = new VirtioPciDevice(new Sink(), memory, 0xff0000, (v, a, d) -> { },
                    level -> { }, new VirtioPciDevice.Hooks() {
                        @Override
                        public void kick(int queue) {
                            kicks[0]++;
                        }
                    }, "");
            new BarAllocator(LOW, HIGH).assign(dev);
            int slot = bus.add(dev);
            PciConfigIo io = new PciConfigIo(bus);
            BusDevice address = io.address();
            BusDevice data = io.data();
            PciEcam ecam = new PciEcam(bus);
            BusDevice low = bus.windowDevice(LOW);
            BusDevice high = bus.windowDevice(HIGH);
            int[] sizes = {-1, 0, 1, 2, 3, 4, 8, 16};
            Random r = new Random(42);
            for (int i = 0; i < 200_000; i++) {
                int size = sizes[r.nextInt(sizes.length)];
                long value = r.nextInt(4) == 0 ? -1L : r.nextLong();
                switch (r.nextInt(7)) {
                    case 0 -> address.write(r.nextInt(4), size, 0x8000_0000L | (r.nextInt(4) << 11)
                            | r.nextInt(256));
                    case 1 -> data.write(r.nextInt(6) - 1, size, value);
                    case 2 -> data.read(r.nextInt(6) - 1, size);
                    case 3 -> ecam.write(r.nextLong(PciEcam.BUS_SIZE + 64) - 32, size, value);
                    case 4 -> ecam.read(r.nextLong(PciEcam.BUS_SIZE + 64) - 32, size);
                    case 5 -> {
                        long bar = dev.config().barAddress(VirtioPciLayout.BAR);
                        long off = r.nextLong(VirtioPciLayout.BAR_SIZE + 32) - 16;
                        BusDevice w = bar >= HIGH.baseGpa() ? high : low;
                        long base = bar >= HIGH.baseGpa() ? HIGH.baseGpa() : LOW.baseGpa();
                        if (r.nextBoolean()) {
                            w.write(bar - base + off, size, value);
                        } else {
                            w.read(bar - base + off, size);
                        }
                    }
                    default -> dev.processQueue(r.nextInt(3) - 1);
                }
            }
            assertThat(bus.configRead(0, 0, 0, 0, 4)).isEqualTo(0x29c0_8086L);
            assertThat(bus.configRead(0, slot, 0, 0, 4)).isEqualTo(0x1044_1af4L);
        }
    }
}
