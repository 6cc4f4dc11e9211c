package org.jkvm.hypervisor.state;

import java.util.List;

/** The i8254 PIT's three channels and port 0x61's speaker bits (struct kvm_pit_state2 without the flags). */
public record PitState(List<PitChannelState> channels, int speaker) {
    public PitState {
        if (channels == null || channels.size() != 3) {
            throw new IllegalArgumentException("the PIT has 3 channels");
        }
        channels = List.copyOf(channels);
        if (speaker < 0 || speaker > 0xff) {
            throw new IllegalArgumentException("port 0x61 value " + speaker + " out of range");
        }
    }
}
