package io.yinxin.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SchedulersTest {
  @Test
  void itsOneThreadIsADaemonWithTheGivenName() throws Exception {
    var s = Schedulers.daemon("yinxin-test-scheduler");
    try {
      Thread t = s.schedule(Thread::currentThread, 1, TimeUnit.MILLISECONDS).get();
      assertThat(t.getName()).isEqualTo("yinxin-test-scheduler");
      assertThat(t.isDaemon()).isTrue();
      assertThat(s.submit(Thread::currentThread).get()).isSameAs(t);
    } finally {
      s.shutdownNow();
    }
  }
}
