package io.yinxin.hsm;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** The one-thread schedulers every module runs its periodic work on. */
public final class Schedulers {
  private Schedulers() {}

  /**
   * A scheduler on one daemon thread called {@code name} (a stopping node does not wait for it; its
   * owner shuts it down).
   */
  public static ScheduledExecutorService daemon(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }
}
