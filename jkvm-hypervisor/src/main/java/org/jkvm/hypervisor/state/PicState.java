package org.jkvm.hypervisor.state;

/**
 * One 8259A's state in the form of KVM's struct kvm_pic_state (the in-kernel PIC; jkvm's own model maps onto it):
 * the request, in-service and mask registers, the lowest-priority rotation ({@code priorityAdd}), the vector base,
 * the read-register and poll latches, the initialization sequence and mode bits, and the edge/level control register.
 */
public record PicState(int lastIrr, int irr, int imr, int isr, int priorityAdd, int irqBase, boolean readRegSelect,
                       boolean poll, boolean specialMask, int initState, boolean autoEoi, boolean rotateOnAutoEoi,
                       boolean specialFullyNestedMode, boolean init4, int elcr, int elcrMask) {
    public PicState {
        for (int v : new int[] {lastIrr, irr, imr, isr, priorityAdd, irqBase, elcr, elcrMask}) {
            if (v < 0 || v > 0xff) {
                throw new IllegalArgumentException("PIC register value " + v + " outside 0..255");
            }
        }
        if (priorityAdd > 7 || (irqBase & 7) != 0 || initState < 0 || initState > 3) {
            throw new IllegalArgumentException("PIC state out of range: priority_add " + priorityAdd
                    + ", irq_base " + irqBase + ", init_state " + initState);
        }
    }
}
