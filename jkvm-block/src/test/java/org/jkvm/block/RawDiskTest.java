package org.jkvm.block;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RawDiskTest {
    @TempDir
    Path dir;

    private Path image(int bytes) throws IOException {
        Path p = dir.resolve("img");
        Files.write(p, new byte[bytes]);
        return p;
    }

    @Test
    void secondWriterIsRefusedLikeQemu() throws Exception {
        Path p = image(4096);
        try (RawDisk first = RawDisk.open(DiskConfig.parse("path=" + p))) {
            assertThat(first.sizeBytes()).isEqualTo(4096);
            assertThatThrownBy(() -> RawDisk.open(DiskConfig.parse("path=" + p)))
                    .isInstanceOf(IOException.class).hasMessageContaining("Failed to get \"write\" lock");
            assertThatThrownBy(() -> RawDisk.open(DiskConfig.parse("path=" + p + ",readonly=on")))
                    .isInstanceOf(IOException.class).hasMessageContaining("Failed to get shared \"write\" lock");
        }
        // Released with the descriptor.
        RawDisk.open(DiskConfig.parse("path=" + p)).close();
    }

    @Test
    void readersShareButExcludeWriters() throws Exception {
        Path p = image(4096);
        try (RawDisk a = RawDisk.open(DiskConfig.parse("path=" + p + ",readonly=on"));
             RawDisk b = RawDisk.open(DiskConfig.parse("path=" + p + ",readonly=on"))) {
            assertThat(a.readOnly()).isTrue();
            assertThat(b.readOnly()).isTrue();
            assertThatThrownBy(() -> RawDisk.open(DiskConfig.parse("path=" + p)))
                    .hasMessageContaining("Failed to get \"write\" lock");
        }
    }

    @Test
    void clearOpenErrorsAndSizeRoundedToSectors() throws Exception {
        assertThatThrownBy(() -> RawDisk.open(DiskConfig.parse("path=" + dir.resolve("missing"))))
                .isInstanceOf(IOException.class).hasMessageContaining("no such file");
        assertThatThrownBy(() -> RawDisk.open(DiskConfig.parse("path=" + dir)))
                .isInstanceOf(IOException.class).hasMessageContaining("is a directory");
        Path p = image(1000);
        try (RawDisk d = RawDisk.open(DiskConfig.parse("path=" + p))) {
            assertThat(d.sizeBytes()).isEqualTo(512);
        }
    }
}
