package io.yinxin.ca.revoke;

import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code ca.status_changes} by its sequence number, the way Trillian and Boulder follow
 * shared state: never by "since my clock minus a margin", so nodes whose clocks disagree see every
 * change. Sequence numbers are handed out before commit, so a change can commit after a higher one:
 * each number skipped over is remembered as a gap and asked for again on every poll until it shows
 * up, or until it has stayed missing for the gap timeout (a rolled-back transaction never fills
 * it). State moves only after a read succeeded: a poll that fails changes nothing.
 */
public final class StatusFeed {
  private static final Logger log = LoggerFactory.getLogger(StatusFeed.class);

  /** Most changes read in one poll; the rest come with the next. */
  static final int BATCH = 10_000;

  /** Most gaps remembered; a larger jump is taken as skipped sequence values (a cache). */
  static final int MAX_GAPS = 10_000;

  /**
   * One change as a follower needs it.
   *
   * @param reason the CRLReason code (0 when there is none: a release from hold)
   */
  public record Change(
      long seq, String issuer, String serial, Status status, byte[] keySha256, int reason) {}

  private final CaStore store;
  private final long gapTimeoutNanos;
  private final LongSupplier nanoTime;
  private final List<Consumer<Change>> listeners = new CopyOnWriteArrayList<>();

  private long highestSeen;

  /** Sequence numbers below {@link #highestSeen} not seen yet, with when each was noticed. */
  private final TreeMap<Long, Long> gaps = new TreeMap<>();

  /**
   * Starts at the current end of the feed: what happened before is in the state the followers
   * loaded at start-up.
   */
  public StatusFeed(CaStore store, java.time.Duration gapTimeout) {
    this(store, gapTimeout, System::nanoTime);
  }

  StatusFeed(CaStore store, java.time.Duration gapTimeout, LongSupplier nanoTime) {
    this.store = store;
    this.gapTimeoutNanos = gapTimeout.toNanos();
    this.nanoTime = nanoTime;
    this.highestSeen = store.statusChanges().lastStatusChangeSeq();
  }

  /** Calls {@code listener} with every change from now on, on the polling thread. */
  public void follow(Consumer<Change> listener) {
    listeners.add(listener);
  }

  /** The highest sequence number below which every change was delivered or given up on. */
  public synchronized long watermark() {
    return gaps.isEmpty() ? highestSeen : gaps.firstKey() - 1;
  }

  /**
   * Reads the changes after the newest one seen and those that were missing, and delivers them.
   *
   * @return how many changes were delivered
   */
  public synchronized int poll() {
    List<Change> fresh = store.statusChanges().statusChangesAfter(highestSeen, BATCH);
    List<Change> filled =
        gaps.isEmpty()
            ? List.of()
            : store
                .statusChanges()
                .statusChangesIn(
                    new ArrayList<>(gaps.keySet()).subList(0, Math.min(1000, gaps.size())));
    // Everything read: now deliver and move on.
    List<Change> all = new ArrayList<>(filled.size() + fresh.size());
    all.addAll(filled);
    all.addAll(fresh);
    all.sort(Comparator.comparingLong(Change::seq));
    for (Change ch : all) {
      for (Consumer<Change> l : listeners) {
        l.accept(ch);
      }
    }
    long now = nanoTime.getAsLong();
    for (Change ch : filled) {
      gaps.remove(ch.seq());
    }
    for (Change ch : fresh) {
      for (long s = highestSeen + 1; s < ch.seq() && gaps.size() < MAX_GAPS; s++) {
        gaps.put(s, now);
      }
      highestSeen = ch.seq();
    }
    for (var it = gaps.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Long> gap = it.next();
      if (now - gap.getValue() > gapTimeoutNanos) {
        it.remove();
        log.info("event=status_feed_gap_closed seq={}", gap.getKey());
      }
    }
    return all.size();
  }
}
