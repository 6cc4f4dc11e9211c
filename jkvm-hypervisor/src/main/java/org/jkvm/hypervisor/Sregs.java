package org.jkvm.hypervisor;

/**
 * Segment, control and system registers: struct kvm_sregs. {@code interruptBitmap} is the pending external
 * interrupt (KVM's 256-bit bitmap, four longs).
 */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss, Segment tr,
                    Segment ldt, DescriptorTable gdt, DescriptorTable idt,
                    long cr0, long cr2, long cr3, long cr4, long cr8, long efer, long apicBase,
                    long[] interruptBitmap) {
    public Sregs {
        interruptBitmap = interruptBitmap.clone();
        if (interruptBitmap.length != 4) {
            throw new IllegalArgumentException("interrupt bitmap must be 4 longs");
        }
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    public Sregs withSegments(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase,
                interruptBitmap);
    }

    public Sregs withTables(DescriptorTable gdt, DescriptorTable idt) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase,
                interruptBitmap);
    }

    public Sregs withControl(long cr0, long cr3, long cr4, long efer) {
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase,
                interruptBitmap);
    }
}
