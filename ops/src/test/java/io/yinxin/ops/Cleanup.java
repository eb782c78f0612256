package io.yinxin.ops;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What a test started (clusters, node processes, load balancers, work folders), undone in reverse
 * order after it, each step whatever the others do. Safe to add to from several threads.
 */
final class Cleanup {
  private final List<Runnable> steps = new CopyOnWriteArrayList<>();

  void add(Runnable step) {
    steps.add(step);
  }

  /** Runs every step, last added first; one that fails does not stop the rest. */
  void run() {
    for (int i = steps.size() - 1; i >= 0; i--) {
      try {
        steps.get(i).run();
      } catch (RuntimeException e) {
        // keep stopping the rest
      }
    }
    steps.clear();
  }
}
