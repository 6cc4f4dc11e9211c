package org.jkvm.vmm.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.jkvm.hypervisor.CpuidEntry;
import org.jkvm.hypervisor.DescriptorTable;
import org.jkvm.loader.BootMemoryMap;
import org.jkvm.memory.GuestMemory;
import org.jkvm.memory.MmapGuestMemory;
import org.jkvm.memory.PcMemoryLayout;
import org.junit.jupiter.api.Test;

class BootTablesTest {
    @Test
    void gdtDescriptorsAreTheClassicBootOnes() {
        try (GuestMemory m = MmapGuestMemory.create(PcMemoryLayout.of(64L << 20))) {
            DescriptorTable gdt = BootGdt.write(m);
            assertThat(gdt).isEqualTo(new DescriptorTable(0x500, 39));
            assertThat(m.readLong(0x500)).isZero();
            assertThat(m.readLong(0x508)).isEqualTo(0x00CF9B000000FFFFL); // 32-bit code, 4 GiB
            assertThat(m.readLong(0x510)).isEqualTo(0x00AF9B000000FFFFL); // 64-bit code (L=1, D=0)
            assertThat(m.readLong(0x518)).isEqualTo(0x00CF93000000FFFFL); // data, 4 GiB
            assertThat(m.readLong(0x520)).isEqualTo(0x000F8B000000FFFFL); // busy TSS
        }
    }

    @Test
    void identityMapCoversFourGibWithLargePages() {
        try (GuestMemory m = MmapGuestMemory.create(PcMemoryLayout.of(64L << 20))) {
            assertThat(IdentityPageTables.write(m)).isEqualTo(BootMemoryMap.PML4);
            assertThat(m.readLong(0x9000)).isEqualTo(0xA003L);
            assertThat(m.readLong(0xA000 + 8 * 3)).isEqualTo(0xE003L);
            assertThat(m.readLong(0xA000 + 8 * 4)).isZero();
            assertThat(m.readLong(0xB000)).isEqualTo(0x83L);
            assertThat(m.readLong(0xB008)).isEqualTo((1L << 21) | 0x83);
            // The LAPIC page (0xFEE00000) is mapped, in the last directory.
            long pde = m.readLong(0xE000 + 8L * ((0xFEE00000L >> 21) & 511));
            assertThat(pde & ~0xfffL).isEqualTo(0xFEE00000L & ~((1L << 21) - 1));
        }
    }

    @Test
    void cpuidCarriesApicIdsAndTopology() {
        List<CpuidEntry> supported = List.of(
                new CpuidEntry(0, 0, 0, 0xd, 0, 0, 0),
                new CpuidEntry(1, 0, 0, 0x806f8, 0xff0800, 0, 0),
                new CpuidEntry(0xb, 0, 1, 9, 9, 9, 9),
                new CpuidEntry(4, 0, 1, 0x121, 0, 0, 0),
                new CpuidEntry(4, 3, 1, 0x163, 0, 0, 0));
        List<CpuidEntry> v3 = CpuidSetup.forVcpu(supported, 3, 4);
        CpuidEntry leaf1 = v3.stream().filter(e -> e.function() == 1).findFirst().orElseThrow();
        assertThat(leaf1.ebx() >>> 24).isEqualTo(3);
        assertThat((leaf1.ebx() >>> 16) & 0xff).isEqualTo(4);
        assertThat(leaf1.ebx() & 0xffff).isEqualTo(0x0800);
        assertThat(leaf1.ecx() >>> 31).isEqualTo(1);
        assertThat(leaf1.edx() & (1 << 28)).isNotZero();
        assertThat(v3).filteredOn(e -> e.function() == 0xb).hasSize(3)
                .allSatisfy(e -> assertThat(e.edx()).isEqualTo(3));
        CpuidEntry core = v3.stream().filter(e -> e.function() == 0xb && e.index() == 1).findFirst().orElseThrow();
        assertThat(core.eax()).isEqualTo(2);
        assertThat(core.ebx()).isEqualTo(4);
        CpuidEntry l3 = v3.stream().filter(e -> e.function() == 4 && e.index() == 3).findFirst().orElseThrow();
        assertThat(l3.eax() >>> 26).isEqualTo(3);
        assertThat((l3.eax() >>> 14) & 0xfff).isEqualTo(3);

        CpuidEntry single = CpuidSetup.forVcpu(supported, 0, 1).stream().filter(e -> e.function() == 1)
                .findFirst().orElseThrow();
        assertThat(single.edx() & (1 << 28)).isZero();
    }
}
