package org.jkvm.api.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

class QmpAddressTest {
    @Test
    void unixServerWaitsByDefaultAsQemu() {
        QmpAddress a = QmpAddress.parse("unix:/tmp/x.sock,server=on");
        assertThat(a.server()).isTrue();
        assertThat(a.waitForClient()).isTrue();
        assertThat(a.filename()).isEqualTo("unix:/tmp/x.sock,server=on");
        assertThat(QmpAddress.parse("unix:/tmp/x.sock,server,nowait").waitForClient()).isFalse();
        assertThat(QmpAddress.parse("unix:/tmp/x.sock,server=on,wait=off").waitForClient()).isFalse();
    }

    @Test
    void withoutServerItConnectsOut() {
        QmpAddress a = QmpAddress.parse("unix:/tmp/x.sock");
        assertThat(a.server()).isFalse();
        assertThat(a.waitForClient()).isFalse();
    }

    @Test
    void tcpWithoutHostIsLoopback() {
        QmpAddress a = QmpAddress.parse("tcp::4444,server=on,wait=off");
        assertThat(((InetSocketAddress) a.socket()).getAddress().isLoopbackAddress()).isTrue();
        assertThat(a.filename()).isEqualTo("tcp:127.0.0.1:4444,server=on");
        assertThat(((InetSocketAddress) QmpAddress.parse("tcp:0.0.0.0:4444,server").socket()).getAddress()
                .isAnyLocalAddress()).isTrue();
    }

    @Test
    void badAddresses() {
        assertThatThrownBy(() -> QmpAddress.parse("file:/x")).hasMessageContaining("unix:PATH or tcp:HOST:PORT");
        assertThatThrownBy(() -> QmpAddress.parse("tcp:host")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> QmpAddress.parse("tcp::99999,server")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> QmpAddress.parse("unix:/x,server,bogus")).hasMessageContaining("'bogus'");
        assertThatThrownBy(() -> QmpAddress.parse("unix:/x,wait=off")).hasMessageContaining("server sockets");
    }
}
