package io.yinxin.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class KeyUseTallyTest {
  /** A clock the test moves. */
  private static final class Hand extends Clock {
    Instant now = Instant.parse("2026-12-05T10:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneId.of("UTC");
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** What the test's log was asked to append, as (key, window); refuses while told to. */
  private final List<Map.Entry<String, KeyUseTally.Window>> appended = new ArrayList<>();

  private boolean refusing;
  private final List<String> refused = new ArrayList<>();

  private int record(KeyUseTally<String> tally) {
    return tally.record(
        event -> {
          if (refusing) {
            throw new AuditException(AuditException.Code.UNAVAILABLE, "log down");
          }
          return new Receipt(appended.size(), new byte[32]);
        },
        (key, w) -> {
          appended.add(Map.entry(key, w));
          return AuditEvent.of(EventType.KEY_USED, "test", key, Map.of());
        },
        (key, e) -> refused.add(key));
  }

  /**
   * The window of {@code n} uses of the key "tsa" with serials from {@code first} to {@code last}.
   */
  private static Map.Entry<String, KeyUseTally.Window> tsa(
      long n, long first, long last, Instant from, Instant to) {
    return Map.entry(
        "tsa",
        new KeyUseTally.Window(
            n,
            Optional.of(BigInteger.valueOf(first)),
            Optional.of(BigInteger.valueOf(last)),
            from,
            to));
  }

  @Test
  void eachKeysUsesAreOneWindowWithItsSerialRangeAndPeriod() {
    Hand clock = new Hand();
    Instant start = clock.now;
    KeyUseTally<String> tally = new KeyUseTally<>(clock);
    clock.now = start.plusSeconds(10);
    tally.count("tsa", BigInteger.valueOf(7));
    tally.count("tsa", BigInteger.valueOf(3));
    tally.count("tsa", BigInteger.valueOf(12));
    tally.count("ocsp");
    tally.count("ocsp");
    clock.now = start.plusSeconds(60);

    assertThat(record(tally)).isEqualTo(2);
    assertThat(appended)
        .containsExactlyInAnyOrder(
            tsa(3, 3, 12, start, start.plusSeconds(60)),
            Map.entry(
                "ocsp",
                new KeyUseTally.Window(
                    2, Optional.empty(), Optional.empty(), start, start.plusSeconds(60))));

    // Nothing since: nothing recorded. The next window starts where this one ended.
    appended.clear();
    clock.now = start.plusSeconds(120);
    assertThat(record(tally)).isZero();
    assertThat(appended).isEmpty();
    tally.count("ocsp");
    clock.now = start.plusSeconds(180);
    assertThat(record(tally)).isEqualTo(1);
    assertThat(appended.get(0).getValue().from()).isEqualTo(start.plusSeconds(120));
  }

  /**
   * A window the log refuses is recorded with the next, and the event then states the whole period
   * its uses fall in: before, the uses of a refused minute were added to the next event, whose
   * period began only at the refusal, so the event said they happened later than they did.
   */
  @Test
  void aRefusedWindowIsRecordedWithTheNextOverTheWholePeriod() {
    Hand clock = new Hand();
    Instant start = clock.now;
    KeyUseTally<String> tally = new KeyUseTally<>(clock);
    tally.count("tsa", BigInteger.valueOf(5));
    tally.count("tsa", BigInteger.valueOf(6));
    clock.now = start.plusSeconds(60);
    refusing = true;
    assertThat(record(tally)).isZero();
    assertThat(refused).containsExactly("tsa");

    refusing = false;
    appended.clear();
    clock.now = start.plusSeconds(90);
    tally.count("tsa", BigInteger.valueOf(9));
    clock.now = start.plusSeconds(120);
    assertThat(record(tally)).isEqualTo(1);
    assertThat(appended).containsExactly(tsa(3, 5, 9, start, start.plusSeconds(120)));
  }

  /** Uses counted while windows are taken are each recorded exactly once. */
  @Test
  void noUseIsLostOrCountedTwiceWhileRecordingRunsAlongside() throws Exception {
    KeyUseTally<String> tally = new KeyUseTally<>(Clock.systemUTC());
    List<KeyUseTally.Window> windows = new CopyOnWriteArrayList<>();
    AuditLog log = e -> new Receipt(0, new byte[32]);
    int threads = 4;
    int perThread = 200_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> counters = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      Thread th =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 1; i <= perThread; i++) {
                  tally.count("k", BigInteger.valueOf(base + i));
                }
              });
      th.start();
      counters.add(th);
    }
    Runnable recordOnce =
        () ->
            tally.record(
                log,
                (k, w) -> {
                  windows.add(w);
                  return AuditEvent.of(EventType.KEY_USED, "test", k, Map.of());
                },
                (k, e) -> {});
    AtomicBoolean done = new AtomicBoolean();
    Thread recorder =
        new Thread(
            () -> {
              while (!done.get()) {
                recordOnce.run();
              }
            });
    recorder.start();
    go.countDown();
    for (Thread th : counters) {
      th.join(Duration.ofMinutes(1).toMillis());
    }
    done.set(true);
    recorder.join(Duration.ofMinutes(1).toMillis());
    recordOnce.run();

    assertThat(windows.size()).isGreaterThan(1); // recording did run alongside
    assertThat(windows.stream().mapToLong(KeyUseTally.Window::count).sum())
        .isEqualTo((long) threads * perThread);
    assertThat(windows.stream().map(w -> w.first().orElseThrow()).min(BigInteger::compareTo))
        .contains(BigInteger.ONE);
    assertThat(windows.stream().map(w -> w.last().orElseThrow()).max(BigInteger::compareTo))
        .contains(BigInteger.valueOf((long) threads * perThread));
    for (int i = 1; i < windows.size(); i++) { // periods follow one another, never overlapping
      assertThat(windows.get(i).from()).isAfterOrEqualTo(windows.get(i - 1).to());
    }
  }

  /**
   * A key without uses for a whole period leaves the tally (keys may be client addresses, seen
   * once), and a use arriving as its key is dropped is counted once, under the key made anew.
   */
  @Test
  void idleKeysAreDroppedWithoutLosingAUseThatRacesTheDrop() throws Exception {
    Hand clock = new Hand();
    KeyUseTally<String> tally = new KeyUseTally<>(clock);
    for (int i = 0; i < 1000; i++) {
      tally.count("client-" + i);
    }
    assertThat(tally.size()).isEqualTo(1000);
    clock.now = clock.now.plusSeconds(60);
    assertThat(record(tally)).isEqualTo(1000);
    assertThat(tally.size()).isEqualTo(1000); // each had uses in the last period
    clock.now = clock.now.plusSeconds(60);
    assertThat(record(tally)).isZero();
    assertThat(tally.size()).isZero();

    // Many keys, each used now and then, while recording runs without pause: every key is dropped
    // and made again many times, and the windows still add up to every use.
    KeyUseTally<String> busy = new KeyUseTally<>(Clock.systemUTC());
    java.util.concurrent.atomic.AtomicLong recorded = new java.util.concurrent.atomic.AtomicLong();
    AuditLog log = e -> new Receipt(0, new byte[32]);
    AtomicBoolean done = new AtomicBoolean();
    Runnable recordBusy =
        () ->
            busy.record(
                log,
                (k, w) -> {
                  recorded.addAndGet(w.count());
                  return AuditEvent.of(EventType.KEY_USED, "test", k, Map.of());
                },
                (k, e) -> {});
    Thread recorder =
        new Thread(
            () -> {
              while (!done.get()) {
                recordBusy.run();
              }
            });
    recorder.start();
    List<Thread> counters = new ArrayList<>();
    int threads = 4;
    int perThread = 200_000;
    for (int t = 0; t < threads; t++) {
      int seed = t;
      Thread th =
          new Thread(
              () -> {
                for (int i = 0; i < perThread; i++) {
                  busy.count("client-" + ((i * 31 + seed) % 500));
                }
              });
      th.start();
      counters.add(th);
    }
    for (Thread th : counters) {
      th.join(Duration.ofMinutes(1).toMillis());
    }
    done.set(true);
    recorder.join(Duration.ofMinutes(1).toMillis());
    recordBusy.run();
    assertThat(recorded.get()).isEqualTo((long) threads * perThread);
  }
}
