package org.jkvm.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class MsixTableTest {
    private final List<String> sent = new ArrayList<>();
    private final List<String> programmed = new ArrayList<>();
    private final MsixTable t = new MsixTable(3, new MsiSink() {
        @Override
        public void signal(int vector, long address, int data) {
            sent.add(Long.toHexString(address) + "/" + data);
        }

        @Override
        public void programmed(int vector, long address, int data) {
            programmed.add(vector + ":" + Long.toHexString(address) + "/" + data);
        }
    });

    private void program(int v, long address, int data) {
        t.writeTable(v * 16L, 8, address);
        t.writeTable(v * 16L + 8, 4, data);
    }

    private void unmask(int v) {
        t.writeTable(v * 16L + 12, 4, 0);
    }

    @Test
    void entriesStartMaskedAndDisabledSendsNothing() {
        assertThat(t.readTable(12, 4)).isEqualTo(1);
        program(0, 0xfee0_0000L, 0x41);
        unmask(0);
        assertThat(t.fire(0)).isFalse();
        assertThat(sent).isEmpty();
        t.setControl(true, false);
        assertThat(t.fire(0)).isTrue();
        assertThat(sent).containsExactly("fee00000/65");
    }

    @Test
    void maskedVectorPendsAndUnmaskSends() {
        t.setControl(true, false);
        program(1, 0xfee0_1000L, 0x42);
        t.fire(1);
        assertThat(sent).isEmpty();
        assertThat(t.readPba(0, 4)).isEqualTo(2);
        unmask(1);
        assertThat(sent).containsExactly("fee01000/66");
        assertThat(t.readPba(0, 8)).isZero();
    }

    @Test
    void functionMaskPendsAllAndReleases() {
        program(0, 0xfee0_0000L, 0x30);
        program(2, 0xfee0_0000L, 0x32);
        unmask(0);
        unmask(2);
        t.setControl(true, true);
        t.fire(0);
        t.fire(2);
        assertThat(sent).isEmpty();
        assertThat(t.readPba(0, 4)).isEqualTo(5);
        t.setControl(true, false);
        assertThat(sent).containsExactly("fee00000/48", "fee00000/50");
    }

    @Test
    void messageChangesAreReportedOncePerChange() {
        program(1, 0xfee0_1000L, 0x42);  // address as one quadword, then data
        program(1, 0xfee0_1000L, 0x42);  // the same again: no change
        unmask(1);                       // vector control: not a message change
        t.writeTable(16, 4, 0xfee0_2000L);
        assertThat(programmed).containsExactly("1:fee01000/0", "1:fee01000/66", "1:fee02000/66");
    }

    @Test
    void badAccessesAreHarmless() {
        assertThat(t.fire(3)).isFalse();
        assertThat(t.fire(-1)).isFalse();
        t.writeTable(2, 4, -1);          // misaligned
        t.writeTable(0, 2, -1);          // word access
        t.writeTable(48, 4, -1);         // past the table
        t.writeTable(-16, 4, -1);
        assertThat(t.readTable(0, 4)).isZero();
        assertThat(t.readTable(48, 4)).isZero();
        assertThat(t.readPba(8, 8)).isZero();
        t.writeTable(12, 4, 0xffff_fffeL); // reserved vector control bits stay zero
        assertThat(t.readTable(12, 4)).isZero();
    }

    @Test
    void capabilityControlIsWiredThroughConfigSpace() {
        PciConfigSpace c = new PciConfigSpace(1, 2, 3, 0, 0, 0);
        int cap = t.addCapability(c, 0, 0x4000, 0x5000);
        assertThat(c.read(cap, 1)).isEqualTo(MsixTable.CAPABILITY_ID);
        assertThat(c.read(cap + 2, 2)).isEqualTo(2); // table size - 1
        assertThat(c.read(cap + 4, 4)).isEqualTo(0x4000);
        assertThat(c.read(cap + 8, 4)).isEqualTo(0x5000);
        c.write(cap + 2, 2, 0xffff);
        t.configWritten(c, cap + 2, 2);
        assertThat(c.read(cap + 2, 2)).isEqualTo(0xc002);
        assertThat(t.enabled()).isTrue();
        program(0, 0xfee0_0000L, 0x50);
        unmask(0);
        t.fire(0);
        assertThat(sent).isEmpty(); // function masked
        c.write(cap + 2, 2, 0x8000);
        t.configWritten(c, cap, 4);
        assertThat(sent).containsExactly("fee00000/80");
    }
}
