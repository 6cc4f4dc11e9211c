package org.jkvm.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.hypervisor.Fpu;
import org.jkvm.hypervisor.MsrEntry;
import org.jkvm.hypervisor.Regs;
import org.jkvm.hypervisor.Segment;
import org.jkvm.hypervisor.Sregs;

/** Converts between jkvm's state records and KVM's structs (kvm_regs, kvm_sregs, kvm_fpu, kvm_msrs). */
final class KvmStateCodec {
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private KvmStateCodec() {}

    static Regs decodeRegs(MemorySegment b) {
        long[] v = new long[18];
        for (int i = 0; i < 18; i++) {
            v[i] = b.get(L, i * 8L);
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                v[14], v[15], v[16], v[17]);
    }

    static void encodeRegs(Regs r, MemorySegment b) {
        long[] v = {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(), r.r10(),
            r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags()};
        for (int i = 0; i < 18; i++) {
            b.set(L, i * 8L, v[i]);
        }
    }

    private static Segment decodeSegment(MemorySegment b, long o) {
        return new Segment(b.get(L, o), b.get(I, o + 8), Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, o + 12)),
                b.get(ValueLayout.JAVA_BYTE, o + 14), b.get(ValueLayout.JAVA_BYTE, o + 15) != 0,
                b.get(ValueLayout.JAVA_BYTE, o + 16), b.get(ValueLayout.JAVA_BYTE, o + 17) != 0,
                b.get(ValueLayout.JAVA_BYTE, o + 18) != 0, b.get(ValueLayout.JAVA_BYTE, o + 19) != 0,
                b.get(ValueLayout.JAVA_BYTE, o + 20) != 0, b.get(ValueLayout.JAVA_BYTE, o + 21) != 0,
                b.get(ValueLayout.JAVA_BYTE, o + 22) != 0);
    }

    private static void encodeSegment(Segment s, MemorySegment b, long o) {
        b.set(L, o, s.base());
        b.set(I, o + 8, s.limit());
        b.set(ValueLayout.JAVA_SHORT, o + 12, (short) s.selector());
        b.set(ValueLayout.JAVA_BYTE, o + 14, (byte) s.type());
        b.set(ValueLayout.JAVA_BYTE, o + 15, (byte) (s.present() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 16, (byte) s.dpl());
        b.set(ValueLayout.JAVA_BYTE, o + 17, (byte) (s.db() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 18, (byte) (s.s() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 19, (byte) (s.l() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 20, (byte) (s.g() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 21, (byte) (s.avl() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 22, (byte) (s.unusable() ? 1 : 0));
        b.set(ValueLayout.JAVA_BYTE, o + 23, (byte) 0);
    }

    private static DescriptorTable decodeDtable(MemorySegment b, long o) {
        return new DescriptorTable(b.get(L, o), Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, o + 8)));
    }

    private static void encodeDtable(DescriptorTable t, MemorySegment b, long o) {
        b.set(L, o, t.base());
        b.set(ValueLayout.JAVA_SHORT, o + 8, (short) t.limit());
        b.asSlice(o + 10, 6).fill((byte) 0);
    }

    static Sregs decodeSregs(MemorySegment b) {
        Segment[] s = new Segment[8];
        for (int i = 0; i < 8; i++) {
            s[i] = decodeSegment(b, KvmAbi.SREGS_CS + i * (long) KvmAbi.KVM_SEGMENT_SIZE);
        }
        long c = KvmAbi.SREGS_CR0;
        long[] bitmap = new long[4];
        for (int i = 0; i < 4; i++) {
            bitmap[i] = b.get(L, KvmAbi.SREGS_INTERRUPT_BITMAP + i * 8L);
        }
        return new Sregs(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                decodeDtable(b, KvmAbi.SREGS_GDT), decodeDtable(b, KvmAbi.SREGS_IDT),
                b.get(L, c), b.get(L, c + 8), b.get(L, c + 16), b.get(L, c + 24), b.get(L, c + 32), b.get(L, c + 40),
                b.get(L, c + 48), bitmap);
    }

    static void encodeSregs(Sregs r, MemorySegment b) {
        Segment[] s = {r.cs(), r.ds(), r.es(), r.fs(), r.gs(), r.ss(), r.tr(), r.ldt()};
        for (int i = 0; i < 8; i++) {
            encodeSegment(s[i], b, KvmAbi.SREGS_CS + i * (long) KvmAbi.KVM_SEGMENT_SIZE);
        }
        encodeDtable(r.gdt(), b, KvmAbi.SREGS_GDT);
        encodeDtable(r.idt(), b, KvmAbi.SREGS_IDT);
        long c = KvmAbi.SREGS_CR0;
        long[] v = {r.cr0(), r.cr2(), r.cr3(), r.cr4(), r.cr8(), r.efer(), r.apicBase()};
        for (int i = 0; i < v.length; i++) {
            b.set(L, c + i * 8L, v[i]);
        }
        long[] bitmap = r.interruptBitmap();
        for (int i = 0; i < 4; i++) {
            b.set(L, KvmAbi.SREGS_INTERRUPT_BITMAP + i * 8L, bitmap[i]);
        }
    }

    static Fpu decodeFpu(MemorySegment b) {
        byte[] fpr = b.asSlice(0, 128).toArray(ValueLayout.JAVA_BYTE);
        byte[] xmm = b.asSlice(KvmAbi.FPU_XMM, 256).toArray(ValueLayout.JAVA_BYTE);
        return new Fpu(fpr, Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, KvmAbi.FPU_FCW)),
                Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, KvmAbi.FPU_FSW)),
                Byte.toUnsignedInt(b.get(ValueLayout.JAVA_BYTE, KvmAbi.FPU_FTWX)),
                Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, KvmAbi.FPU_LAST_OPCODE)),
                b.get(L, KvmAbi.FPU_LAST_IP), b.get(L, KvmAbi.FPU_LAST_DP), xmm, b.get(I, KvmAbi.FPU_MXCSR));
    }

    static void encodeFpu(Fpu f, MemorySegment b) {
        b.fill((byte) 0);
        MemorySegment.copy(f.fpr(), 0, b, ValueLayout.JAVA_BYTE, 0, 128);
        b.set(ValueLayout.JAVA_SHORT, KvmAbi.FPU_FCW, (short) f.fcw());
        b.set(ValueLayout.JAVA_SHORT, KvmAbi.FPU_FSW, (short) f.fsw());
        b.set(ValueLayout.JAVA_BYTE, KvmAbi.FPU_FTWX, (byte) f.ftwx());
        b.set(ValueLayout.JAVA_SHORT, KvmAbi.FPU_LAST_OPCODE, (short) f.lastOpcode());
        b.set(L, KvmAbi.FPU_LAST_IP, f.lastIp());
        b.set(L, KvmAbi.FPU_LAST_DP, f.lastDp());
        MemorySegment.copy(f.xmm(), 0, b, ValueLayout.JAVA_BYTE, KvmAbi.FPU_XMM, 256);
        b.set(I, KvmAbi.FPU_MXCSR, f.mxcsr());
    }

    static MemorySegment encodeMsrs(Arena arena, int... indices) {
        MemorySegment b = arena.allocate(KvmAbi.KVM_MSRS_HEADER_SIZE
                + (long) indices.length * KvmAbi.KVM_MSR_ENTRY_SIZE, 8);
        b.set(I, 0, indices.length);
        for (int i = 0; i < indices.length; i++) {
            b.set(I, KvmAbi.KVM_MSRS_HEADER_SIZE + (long) i * KvmAbi.KVM_MSR_ENTRY_SIZE, indices[i]);
        }
        return b;
    }

    static MemorySegment encodeMsrs(Arena arena, List<MsrEntry> msrs) {
        MemorySegment b = arena.allocate(KvmAbi.KVM_MSRS_HEADER_SIZE
                + (long) msrs.size() * KvmAbi.KVM_MSR_ENTRY_SIZE, 8);
        b.set(I, 0, msrs.size());
        for (int i = 0; i < msrs.size(); i++) {
            long o = KvmAbi.KVM_MSRS_HEADER_SIZE + (long) i * KvmAbi.KVM_MSR_ENTRY_SIZE;
            b.set(I, o, msrs.get(i).index());
            b.set(L, o + 8, msrs.get(i).value());
        }
        return b;
    }

    static List<MsrEntry> decodeMsrs(MemorySegment b, int count) {
        List<MsrEntry> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long o = KvmAbi.KVM_MSRS_HEADER_SIZE + (long) i * KvmAbi.KVM_MSR_ENTRY_SIZE;
            out.add(new MsrEntry(b.get(I, o), b.get(L, o + 8)));
        }
        return out;
    }
}
