package io.yinxin.audit;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/**
 * Uses of keys that anyone may trigger without a credential (OCSP responses, time-stamp tokens),
 * counted per key and recorded as one {@code KEY_USED} event per key and period rather than one per
 * use: one entry per signature would let any client grow the evidence log at will. The signed
 * objects themselves are public and name their signer.
 *
 * <p>Each event states a {@link Window}: how many uses, the lowest and highest serial number among
 * them when the uses have one, and the period they fall in. A window the log refuses is merged back
 * and recorded with the next, its period starting where it started: the event then states the whole
 * period its uses fall in, not only the last one.
 *
 * @param <K> what uses are counted per (a key, with what it signs for)
 */
public final class KeyUseTally<K> {
  /**
   * Uses of one key in a period.
   *
   * @param count uses, at least one
   * @param first the lowest serial among them, if the uses have serials
   * @param last the highest
   * @param from start of the period
   * @param to end of the period
   */
  public record Window(
      long count,
      Optional<BigInteger> first,
      Optional<BigInteger> last,
      Instant from,
      Instant to) {}

  /** One key's uses not recorded yet; guarded by itself. */
  private static final class Uses {
    long count;
    BigInteger first;
    BigInteger last;
    Instant from;

    /** Taken out of the tally after a period without uses; a count finding it tries again. */
    boolean dropped;

    Uses(Instant from) {
      this.from = from;
    }

    void add(long n, BigInteger low, BigInteger high) {
      count += n;
      if (low != null) {
        first = first == null ? low : first.min(low);
        last = last == null ? high : last.max(high);
      }
    }
  }

  private final Clock clock;
  private final Map<K, Uses> uses = new ConcurrentHashMap<>();

  /** When the current period began: the tally's start, then each {@link #record}. */
  private volatile Instant since;

  public KeyUseTally(Clock clock) {
    this.clock = clock;
    this.since = clock.instant();
  }

  /** Counts one use of {@code key}. */
  public void count(K key) {
    count(key, null);
  }

  /** Counts one use of {@code key} that produced an object with this serial number. */
  public void count(K key, BigInteger serial) {
    add(key, 1, serial, serial, null);
  }

  /** Adds uses to {@code key}'s tally; {@code from}, if given, is where its period starts. */
  private void add(K key, long n, BigInteger low, BigInteger high, Instant from) {
    while (true) {
      Uses u = uses.computeIfAbsent(key, k -> new Uses(since));
      synchronized (u) {
        if (u.dropped) {
          continue;
        }
        u.add(n, low, high);
        if (from != null) {
          u.from = from; // the next event covers this window's period too
        }
        return;
      }
    }
  }

  /**
   * What the tally holds: keys with uses not recorded yet or with uses in the last period. A key
   * without uses for a whole period is dropped, so keys seen once (a client's address) do not stay.
   */
  public int size() {
    return uses.size();
  }

  /**
   * Appends one event per key used since the last call ({@code event} builds it from the key and
   * its window); call about once a minute and at shutdown. A window the log refuses is kept: {@code
   * refused} is told, and it is recorded with the next.
   *
   * @return how many events were appended
   */
  public int record(
      AuditLog audit,
      BiFunction<K, Window, AuditEvent> event,
      BiConsumer<K, RuntimeException> refused) {
    Instant to;
    List<Map.Entry<K, Window>> taken = new ArrayList<>();
    synchronized (this) {
      to = clock.instant();
      since = to;
      for (Map.Entry<K, Uses> e : uses.entrySet()) {
        Uses u = e.getValue();
        synchronized (u) {
          Instant from = u.from;
          u.from = to;
          if (u.count == 0) {
            u.dropped = true;
            uses.remove(e.getKey(), u);
            continue;
          }
          taken.add(
              Map.entry(
                  e.getKey(),
                  new Window(
                      u.count,
                      Optional.ofNullable(u.first),
                      Optional.ofNullable(u.last),
                      from.isAfter(to) ? to : from,
                      to)));
          u.count = 0;
          u.first = null;
          u.last = null;
        }
      }
    }
    int events = 0;
    for (Map.Entry<K, Window> e : taken) {
      Window w = e.getValue();
      try {
        audit.append(event.apply(e.getKey(), w));
        events++;
      } catch (RuntimeException ex) {
        add(e.getKey(), w.count(), w.first().orElse(null), w.last().orElse(null), w.from());
        refused.accept(e.getKey(), ex);
      }
    }
    return events;
  }
}
