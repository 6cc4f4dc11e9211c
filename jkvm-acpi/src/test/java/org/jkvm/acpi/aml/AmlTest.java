package org.jkvm.acpi.aml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Expected encodings worked out by hand from ACPI 6.5 §20.2 (and matching what iasl emits for the same ASL). */
class AmlTest {
    private static String hex(AmlTerm term) {
        return HexFormat.of().formatHex(term.toBytes());
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Test
    void integersUseTheShortestEncoding() {
        assertThat(hex(Aml.integer(0))).isEqualTo("00");
        assertThat(hex(Aml.integer(1))).isEqualTo("01");
        assertThat(hex(Aml.integer(-1))).isEqualTo("ff");
        assertThat(hex(Aml.integer(2))).isEqualTo("0a02");
        assertThat(hex(Aml.integer(0xFF))).isEqualTo("0aff");
        assertThat(hex(Aml.integer(0x100))).isEqualTo("0b0001");
        assertThat(hex(Aml.integer(0x3F8))).isEqualTo("0bf803");
        assertThat(hex(Aml.integer(0x10000))).isEqualTo("0c00000100");
        assertThat(hex(Aml.integer(0xFEC0_0000L))).isEqualTo("0c0000c0fe");
        assertThat(hex(Aml.integer(0x1_0000_0000L))).isEqualTo("0e0000000001000000");
        assertThat(hex(Aml.integer(-2))).isEqualTo("0efeffffffffffffff");
    }

    @Test
    void stringsAreNulTerminatedAscii() {
        assertThat(hex(Aml.string("ACPI0007"))).isEqualTo("0d" + "4143504930303037" + "00");
        assertThat(hex(Aml.string(""))).isEqualTo("0d00");
        assertThatThrownBy(() -> Aml.string("caf\u00e9")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Aml.string("a\0b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eisaIdsAreCompressedAndByteSwapped() {
        assertThat(hex(Aml.eisaId("PNP0501"))).isEqualTo("0c41d00501");
        assertThat(hex(Aml.eisaId("PNP0A03"))).isEqualTo("0c41d00a03");
        assertThatThrownBy(() -> Aml.eisaId("PNP050")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PNP050");
        assertThatThrownBy(() -> Aml.eisaId("pnp0501")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Aml.eisaId("PNP05G1")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pkgLengthBoundaries() {
        assertThat(hex(Aml.pkgLength(0))).isEqualTo("01");
        assertThat(hex(Aml.pkgLength(62))).isEqualTo("3f");
        // 63 payload bytes + 2 length bytes = 65 = 0x41: lead 0x40 | 0x1, then 0x41 >> 4 = 0x04.
        assertThat(hex(Aml.pkgLength(63))).isEqualTo("4104");
        assertThat(hex(Aml.pkgLength(0xFFF - 2))).isEqualTo("4fff");
        // 0xFFE payload + 3 = 0x1001: lead 0x80 | 0x1, then 0x00, 0x01.
        assertThat(hex(Aml.pkgLength(0xFFE))).isEqualTo("810001");
        assertThat(hex(Aml.pkgLength(0xFFFFF - 3))).isEqualTo("8fffff");
        // 0xFFFFD payload needs 20+ bits with 3 length bytes (0x100000), so 4: 0x100001 = lead 0xC0 | 1, 00 00 01.
        assertThat(hex(Aml.pkgLength(0xFFFFF - 2))).isEqualTo("c1000001");
        assertThat(hex(Aml.pkgLength(Aml.MAX_PKG_LENGTH - 4))).isEqualTo("cfffffff");
        assertThatThrownBy(() -> Aml.pkgLength(Aml.MAX_PKG_LENGTH - 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PkgLength");
    }

    @Test
    void namesEncodeRootParentDualAndMultiSegments() {
        assertThat(hex(AmlNames.encode("_S5"))).isEqualTo("5f53355f");
        assertThat(hex(AmlNames.encode("\\_SB"))).isEqualTo("5c5f53425f");
        assertThat(hex(AmlNames.encode("\\_SB.COM1"))).isEqualTo("5c2e5f53425f434f4d31");
        assertThat(hex(AmlNames.encode("A.B.C"))).isEqualTo("2f03415f5f5f425f5f5f435f5f5f");
        assertThat(hex(AmlNames.encode("^^FOO"))).isEqualTo("5e5e464f4f5f");
        assertThat(hex(AmlNames.encode("\\"))).isEqualTo("5c00");
        assertThat(hex(AmlNames.encode("^"))).isEqualTo("5e00");
    }

    @Test
    void badNamesAreRefused() {
        assertThatThrownBy(() -> AmlNames.encode("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> AmlNames.encode("TOOLONG")).hasMessageContaining("1 to 4 characters");
        assertThatThrownBy(() -> AmlNames.encode("1ABC")).hasMessageContaining("bad character '1'");
        assertThatThrownBy(() -> AmlNames.encode("com1")).hasMessageContaining("bad character 'c'");
        assertThatThrownBy(() -> AmlNames.encode("_SB..X")).hasMessageContaining("1 to 4 characters");
    }

    @Test
    void nameScopeDeviceAndPackage() {
        assertThat(hex(Aml.name("_UID", Aml.integer(1)))).isEqualTo("085f55494401");
        // Scope(\_SB) {}: ScopeOp, PkgLength 6 (itself + 5-byte name), name.
        assertThat(hex(Aml.scope("\\_SB"))).isEqualTo("10065c5f53425f");
        // Device(COM1) { Name(_UID, One) }: 5B 82, PkgLength 1+4+6 = 11.
        assertThat(hex(Aml.device("COM1", Aml.name("_UID", Aml.integer(1)))))
                .isEqualTo("5b820b434f4d31085f55494401");
        assertThat(hex(Aml.pkg(Aml.integer(5), Aml.integer(0)))).isEqualTo("1205020a0500");
        assertThat(hex(Aml.pkg())).isEqualTo("120200");
        assertThatThrownBy(() -> Aml.pkg(new AmlTerm[256])).hasMessageContaining("256 elements");
    }

    @Test
    void largeScopesUseMultiBytePkgLength() {
        AmlTerm[] devices = new AmlTerm[20];
        for (int i = 0; i < devices.length; i++) {
            devices[i] = Aml.device(String.format("D%03d", i), Aml.name("_UID", Aml.integer(i + 2)));
        }
        byte[] scope = Aml.scope("\\_SB", devices).toBytes();
        int payload = 5 + AmlTerm.concat(devices).length;
        assertThat(payload).isGreaterThan(63);
        int lead = scope[1] & 0xFF;
        assertThat(lead >> 6).as("one extra length byte").isEqualTo(1);
        int encoded = (lead & 0x0F) | (scope[2] & 0xFF) << 4;
        assertThat(encoded).isEqualTo(payload + 2);
        assertThat(scope).hasSize(1 + 2 + payload);
    }

    @Test
    void methodsAndReturn() {
        // Method(_STA, 0, NotSerialized) { Return (0x0F) }
        assertThat(hex(Aml.method("_STA", 0, false, Aml.ret(Aml.integer(0x0F)))))
                .isEqualTo("14095f535441" + "00" + "a40a0f");
        assertThat(hex(Aml.method("_PTS", 1, true))).isEqualTo("14065f505453" + "09");
        assertThat(hex(Aml.ret(Aml.reference("\\_SB")))).isEqualTo("a45c5f53425f");
        assertThatThrownBy(() -> Aml.method("FOO", 8, false)).hasMessageContaining("argCount 8");
    }

    @Test
    void buffersCarryTheirSize() {
        assertThat(hex(Aml.buffer(new byte[] {1, 2, 3}))).isEqualTo("11060a03010203");
        assertThat(hex(Aml.buffer(new byte[0]))).isEqualTo("110200");
    }

    @Test
    void termsAreImmutableValues() {
        AmlTerm one = Aml.integer(7);
        byte[] copy = one.toBytes();
        copy[0] = 0;
        assertThat(one).isEqualTo(Aml.integer(7)).hasSameHashCodeAs(Aml.integer(7));
        assertThat(one.sizeBytes()).isEqualTo(2);
        assertThat(AmlTerm.ofEncoded(new byte[] {0x0A, 7})).isEqualTo(one);
        assertThat(one.toString()).contains("0a 07");
    }
}
