package io.yinxin.audit.spring;

import io.yinxin.audit.store.AuditMetrics;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the checkpoint job asks the TSA to stamp: once the node is ready, one request at a time, and
 * again after a failure until the newest checkpoint has a token.
 *
 * <ul>
 *   <li>Nothing is asked before {@link #ready()}: the embedded default's TSA is this node's own
 *       {@code /tsa}, which answers only once the web server has started. Asking earlier logged a
 *       failure for every checkpoint published while the node started (about 20 a start).
 *       Checkpoints published meanwhile are covered by the first one stamped afterwards, which
 *       holds them all.
 *   <li>A failed request is asked again, for the newest checkpoint then, after a pause that doubles
 *       with each failure in a row, from {@link #FIRST_PAUSE} to {@link #LONGEST_PAUSE}. Before, a
 *       failed stamp was given up: a log that went quiet after it kept its newest entries without a
 *       trusted time until the next append.
 *   <li>One request at a time: the TSA may take its whole timeout to answer, many checkpoint
 *       intervals.
 * </ul>
 */
final class CheckpointStamping {
  private static final Logger log = LoggerFactory.getLogger(CheckpointStamping.class);

  static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  static final Duration LONGEST_PAUSE = Duration.ofMinutes(5);

  /** Asks the TSA for the checkpoint of this size, unless none is due; throws if that failed. */
  private final LongConsumer stamp;

  private final Executor executor;
  private final LongSupplier nanoTime;

  private volatile boolean ready;

  // Guarded by this.
  private boolean inFlight;
  private long stamped = -1;
  private long failures;
  private long notBefore;

  /**
   * @param stamp stamps the checkpoint of the given size (or finds nothing to stamp); throws when
   *     the TSA cannot be asked or its reply is refused
   * @param executor where requests run, off the checkpoint thread
   */
  CheckpointStamping(LongConsumer stamp, Executor executor, LongSupplier nanoTime) {
    this.stamp = stamp;
    this.executor = executor;
    this.nanoTime = nanoTime;
  }

  /** No TSA configured: checkpoints carry only the log's own claim of time. */
  static CheckpointStamping none() {
    return new CheckpointStamping(null, Runnable::run, System::nanoTime);
  }

  /** The node serves requests now: checkpoints may be stamped. */
  void ready() {
    ready = true;
  }

  /** The checkpoint job published (or found) a checkpoint of {@code size}. */
  void published(long size) {
    synchronized (this) {
      if (stamp == null
          || !ready
          || inFlight
          || size <= stamped
          || nanoTime.getAsLong() - notBefore < 0) {
        return;
      }
      inFlight = true;
    }
    try {
      executor.execute(() -> ask(size));
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        inFlight = false; // the node is stopping
      }
    }
  }

  private void ask(long size) {
    try {
      stamp.accept(size);
      synchronized (this) {
        stamped = Math.max(stamped, size);
        failures = 0;
        inFlight = false;
      }
    } catch (RuntimeException e) {
      Duration pause;
      synchronized (this) {
        failures++;
        pause = pause(failures);
        notBefore = nanoTime.getAsLong() + pause.toNanos();
        inFlight = false;
      }
      AuditMetrics.timestamped(false);
      log.warn(
          "event=audit_timestamp_failed size={} retry_in_ms={} reason={}",
          size,
          pause.toMillis(),
          e.getMessage());
    }
  }

  /** The pause after {@code failures} failures in a row. */
  static Duration pause(long failures) {
    long shift = Math.min(failures - 1, 20);
    Duration d = FIRST_PAUSE.multipliedBy(1L << shift);
    return d.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : d;
  }
}
