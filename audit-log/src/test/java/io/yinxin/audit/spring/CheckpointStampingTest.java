package io.yinxin.audit.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * When checkpoints are sent to the TSA. The requests run on an executor the test drives by hand and
 * the clock is the test's, so each case states exactly what was asked and when.
 */
class CheckpointStampingTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<Long> asked = new ArrayList<>();
  private final Queue<Runnable> pending = new ArrayDeque<>();

  /** Whether each request, in turn, fails (the TSA unreachable); succeeds when none is left. */
  private final Queue<Boolean> fails = new ArrayDeque<>();

  private final CheckpointStamping stamping =
      new CheckpointStamping(
          size -> {
            asked.add(size);
            if (Boolean.TRUE.equals(fails.poll())) {
              throw new AuditException(AuditException.Code.UNAVAILABLE, "unreachable");
            }
          },
          pending::add,
          now::get);

  private void runPending() {
    while (!pending.isEmpty()) {
      pending.poll().run();
    }
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void nothingIsAskedBeforeTheNodeIsReadyAndThenTheNewestCheckpointOnce() {
    stamping.published(3);
    stamping.published(6);
    runPending();
    assertThat(asked).isEmpty();

    stamping.ready();
    stamping.published(9);
    runPending();
    stamping.published(9);
    runPending();
    assertThat(asked).containsExactly(9L);

    stamping.published(12);
    runPending();
    assertThat(asked).containsExactly(9L, 12L);
  }

  @Test
  void oneRequestAtATimeWhileTheTsaTakesItsTime() {
    stamping.ready();
    stamping.published(5);
    stamping.published(6);
    stamping.published(7);
    assertThat(pending).hasSize(1);
    runPending();
    assertThat(asked).containsExactly(5L);
    stamping.published(7);
    runPending();
    assertThat(asked).containsExactly(5L, 7L);
  }

  @Test
  void aFailedStampIsAskedAgainForTheNewestCheckpointAfterAPauseThatDoubles() {
    stamping.ready();
    fails.addAll(List.of(true, true, true));
    stamping.published(10);
    runPending(); // fails: pause 1 s
    stamping.published(10);
    runPending();
    assertThat(asked).containsExactly(10L);

    advance(Duration.ofMillis(999));
    stamping.published(11);
    runPending();
    assertThat(asked).containsExactly(10L);
    advance(Duration.ofMillis(1));
    stamping.published(11);
    runPending(); // fails again: pause 2 s
    assertThat(asked).containsExactly(10L, 11L);

    advance(Duration.ofMillis(1999));
    stamping.published(11);
    runPending();
    assertThat(asked).containsExactly(10L, 11L);
    advance(Duration.ofMillis(1));
    stamping.published(11);
    runPending(); // fails a third time: pause 4 s
    advance(Duration.ofSeconds(4));
    stamping.published(11);
    runPending(); // succeeds
    assertThat(asked).containsExactly(10L, 11L, 11L, 11L);

    // Stamped: the same size is not asked again, and the next failure pauses 1 s, not 8.
    stamping.published(11);
    runPending();
    fails.add(true);
    stamping.published(14);
    runPending();
    advance(Duration.ofSeconds(1));
    stamping.published(14);
    runPending();
    assertThat(asked).containsExactly(10L, 11L, 11L, 11L, 14L, 14L);
  }

  @Test
  void thePauseStopsGrowingAtFiveMinutes() {
    assertThat(CheckpointStamping.pause(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(CheckpointStamping.pause(2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(CheckpointStamping.pause(9)).isEqualTo(Duration.ofSeconds(256));
    assertThat(CheckpointStamping.pause(10)).isEqualTo(Duration.ofMinutes(5));
    assertThat(CheckpointStamping.pause(Long.MAX_VALUE)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aStoppingExecutorLeavesNoRequestMarkedInFlight() {
    List<Long> seen = new ArrayList<>();
    boolean[] stopping = {true};
    CheckpointStamping s =
        new CheckpointStamping(
            seen::add,
            r -> {
              if (stopping[0]) {
                throw new java.util.concurrent.RejectedExecutionException("stopping");
              }
              r.run();
            },
            now::get);
    s.ready();
    s.published(4);
    stopping[0] = false;
    s.published(4);
    assertThat(seen).containsExactly(4L);
  }
}
