package org.jkvm.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class EpollTest {
    @Test
    void reportsReadyEventfdsWithTheirTokens() {
        int a = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        int b = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        try (Epoll ep = new Epoll(4); Arena arena = Arena.ofConfined()) {
            ep.add(a, Epoll.EPOLLIN, 0x1111_2222_3333L);
            ep.add(b, Epoll.EPOLLIN, 42);
            assertThat(ep.await(0)).isZero();
            MemorySegment one = arena.allocate(8);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            Libc.write(b, one, 8);
            assertThat(ep.await(1000)).isEqualTo(1);
            assertThat(ep.token(0)).isEqualTo(42);
            assertThat(ep.events(0) & Epoll.EPOLLIN).isNotZero();
            ep.remove(b);
            assertThat(ep.await(0)).isZero();
            Libc.write(a, one, 8);
            assertThat(ep.await(1000)).isEqualTo(1);
            assertThat(ep.token(0)).isEqualTo(0x1111_2222_3333L);
        } finally {
            Libc.close(a);
            Libc.close(b);
        }
    }

    @Test
    void badFdNamesTheCall() {
        try (Epoll ep = new Epoll(1)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ep.add(1_000_000, Epoll.EPOLLIN, 0))
                    .hasMessageContaining("epoll_ctl").hasMessageContaining("EBADF");
        }
    }
}
