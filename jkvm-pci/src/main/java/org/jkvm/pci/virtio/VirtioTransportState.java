package org.jkvm.pci.virtio;

import java.util.List;

import org.jkvm.virtio.QueueState;

/**
 * A virtio-pci function's transport state (virtio 1.2 section 4.1.4.3, the common configuration): device status,
 * negotiated driver features, the selectors, the configuration and per-queue MSI-X vectors, the ISR, each
 * virtqueue ({@link QueueState}, validated again on restore), and the MSI-X table's words and pending bits.
 */
public record VirtioTransportState(int deviceType, int status, long driverFeatures, int deviceFeatureSelect,
                                   int driverFeatureSelect, int configVector, int queueSelect, int isr,
                                   int[] queueVectors, List<QueueState> queues, int[] msixTable, long[] msixPending,
                                   byte[] deviceState) {
    public VirtioTransportState {
        if (queueVectors == null || queues == null || msixTable == null || msixPending == null || deviceState == null
                || queueVectors.length != queues.size() || queues.isEmpty()) {
            throw new IllegalArgumentException("virtio transport state: queue and vector lists must match");
        }
        if (status < 0 || status > 0xff || isr < 0 || isr > 3) {
            throw new IllegalArgumentException("virtio device status " + status + " or ISR " + isr + " out of range");
        }
        queueVectors = queueVectors.clone();
        queues = List.copyOf(queues);
        msixTable = msixTable.clone();
        msixPending = msixPending.clone();
        deviceState = deviceState.clone();
    }

    @Override
    public byte[] deviceState() {
        return deviceState.clone();
    }

    @Override
    public int[] queueVectors() {
        return queueVectors.clone();
    }

    @Override
    public int[] msixTable() {
        return msixTable.clone();
    }

    @Override
    public long[] msixPending() {
        return msixPending.clone();
    }
}
