package org.jkvm.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;

/** The test guests on /dev/kvm. Skipped without /dev/kvm unless CI=true (CI machines have it). */
class KvmTestGuestsTest extends TestGuestsContract {
    @BeforeAll
    static void needKvm() {
        if (!"true".equals(System.getenv("CI"))) {
            assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        }
    }

    @Override
    String accel() {
        return "kvm";
    }
}
