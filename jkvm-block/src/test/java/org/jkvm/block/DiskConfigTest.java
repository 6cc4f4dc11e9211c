package org.jkvm.block;

import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DiskConfigTest {
    @Test
    void parsesEveryOption() {
        DiskConfig c = DiskConfig.parse("path=/var/a,,b.img,readonly=on,serial=SN 42,cache=none,id=root-disk");
        assertThat(c.path()).isEqualTo(Path.of("/var/a,b.img"));
        assertThat(c.readOnly()).isTrue();
        assertThat(c.serial()).contains("SN 42");
        assertThat(c.cache()).isEqualTo(DiskConfig.CacheMode.NONE);
        assertThat(c.id()).contains("root-disk");
        assertThat(c.idBytes()).hasSize(20).startsWith('S', 'N', ' ', '4', '2', 0);
    }

    @Test
    void defaults() {
        DiskConfig c = DiskConfig.parse("path=d.img");
        assertThat(c.readOnly()).isFalse();
        assertThat(c.serial()).isEqualTo(Optional.empty());
        assertThat(c.cache()).isEqualTo(DiskConfig.CacheMode.WRITEBACK);
        assertThat(c.idBytes()).containsOnly(0);
    }

    @Test
    void clearErrors() {
        assertThatThrownBy(() -> DiskConfig.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> DiskConfig.parse("readonly=on")).hasMessageContaining("path=FILE is required");
        assertThatThrownBy(() -> DiskConfig.parse("path=")).hasMessageContaining("path is empty");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,readonly=maybe")).hasMessageContaining("on or off");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,cache=unsafe")).hasMessageContaining("none or writeback");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,format=qcow2")).hasMessageContaining("unknown option 'format'");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,path=b")).hasMessageContaining("given twice");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,serial=123456789012345678901"))
                .hasMessageContaining("longer than 20");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,serial=\u00e9")).hasMessageContaining("ASCII");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,id=1disk")).hasMessageContaining("start with a letter");
        assertThatThrownBy(() -> DiskConfig.parse("path=a,bogus")).hasMessageContaining("not key=value");
    }
}
