package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * At most so many documents in PDFBox at once. Each may hold up to {@code
 * yinxin.sign.max-decoded-bytes} of decoded streams in memory ({@code DecodeBudget}), so without a
 * gate the number of request threads multiplies it: sixty simultaneous validations of a 120 KB
 * document whose object stream inflates to 120 MiB, sent without an account, took the embedded
 * node's heap to 6 GB and answered seven of them 500 with {@code OutOfMemoryError}. A request that
 * finds no permit within its wait is answered 503 {@code BUSY} with {@code Retry-After}; it has
 * changed nothing.
 *
 * <p>A gate may also hold each client address to a share of its permits ({@code perAddress}): a
 * request from an address that already has that many documents in work is answered 429 {@code
 * RATE_LIMITED} at once, without waiting, and the other addresses keep the rest. Without it, one
 * client sending documents that take long to validate could hold every permit of the anonymous
 * validation endpoint, and everyone else would get 503. Addresses count as the rate limits count
 * them ({@code TokenBuckets.addressKey}: IPv6 by its /64); only addresses with a document in work
 * are kept, so the gate holds at most as many counts as permits. The seal API's gate holds each
 * authenticated caller to such a share instead ({@link #enterAsCaller}): one agency's bulk job
 * cannot take every seal turn while the others wait.
 */
public final class DocumentGate {
  private final String name;
  private final Semaphore permits;
  private final Duration wait;
  private final int size;
  private final int perAddress;
  private final ConcurrentHashMap<String, Integer> inWork = new ConcurrentHashMap<>();

  /**
   * A gate that counts no address apart.
   *
   * @param name the gate's name in {@code yinxin_sign_busy_total{gate}}
   * @param permits documents at once
   * @param wait how long a request waits for a permit ({@link Duration#ZERO}: not at all)
   */
  public DocumentGate(String name, int permits, Duration wait) {
    this(name, permits, permits, wait);
  }

  /**
   * @param name the gate's name in {@code yinxin_sign_busy_total{gate}} and {@code
   *     yinxin_sign_limited_total{gate}}
   * @param permits documents at once
   * @param perAddress documents one client address (or one caller, at {@link #enterAsCaller}) may
   *     have in work at once (at most {@code permits}; {@code permits}: no share)
   * @param wait how long a request waits for a permit ({@link Duration#ZERO}: not at all)
   */
  public DocumentGate(String name, int permits, int perAddress, Duration wait) {
    this.name = name;
    if (permits < 1) {
      throw new IllegalArgumentException("a document gate needs at least one permit");
    }
    if (perAddress < 1 || perAddress > permits) {
      throw new IllegalArgumentException(
          "an address's share of a document gate is between 1 and its permits");
    }
    this.permits = new Semaphore(permits, true);
    this.size = permits;
    this.perAddress = perAddress;
    this.wait = wait;
  }

  /** A permit, held until {@link Permit#close()}; {@code BUSY} if none came within the wait. */
  public Permit enter() {
    return enter(null);
  }

  /**
   * A permit for a request from {@code client}, held until {@link Permit#close()}: {@code
   * RATE_LIMITED} if that address already has its share in work, {@code BUSY} if no permit came
   * within the wait.
   *
   * @param client the client's address; null for the node itself (counted with no address)
   */
  public Permit enter(String client) {
    return admit(
        client == null || perAddress >= size
            ? null
            : io.yinxin.audit.access.TokenBuckets.addressKey(client),
        "this address");
  }

  /**
   * A permit for an authenticated caller's document, held until {@link Permit#close()}: {@code
   * RATE_LIMITED} at once if that caller already has its share in work (whatever addresses its
   * requests come from), {@code BUSY} if no permit came within the wait.
   *
   * @param caller the caller as its audit events name it
   */
  public Permit enterAsCaller(String caller) {
    return admit(perAddress >= size ? null : "caller " + caller, "this caller");
  }

  private Permit admit(String key, String who) {
    if (key != null && !claim(key)) {
      io.yinxin.sign.SignMetrics.limited(name);
      throw new SignException(
          Code.RATE_LIMITED,
          who
              + " already has "
              + perAddress
              + " document(s) in work, as many as one may; retry when one is done");
    }
    try {
      acquire();
      return new Permit(key);
    } catch (RuntimeException e) {
      if (key != null) {
        unclaim(key);
      }
      throw e;
    }
  }

  private boolean claim(String key) {
    boolean[] claimed = {false};
    inWork.compute(
        key,
        (k, n) -> {
          int now = n == null ? 0 : n;
          if (now >= perAddress) {
            return n;
          }
          claimed[0] = true;
          return now + 1;
        });
    return claimed[0];
  }

  private void unclaim(String key) {
    inWork.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  private void acquire() {
    boolean got;
    try {
      got =
          wait.isZero()
              ? permits.tryAcquire()
              : permits.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      got = false;
    }
    if (!got) {
      io.yinxin.sign.SignMetrics.busy(name);
      throw new SignException(
          Code.BUSY, "too many documents are being processed; retry in a moment");
    }
  }

  /** Permits free now. */
  public int available() {
    return permits.availablePermits();
  }

  /** Addresses (or callers) with a document in work now (each counted while it has one). */
  public int addressesInWork() {
    return inWork.size();
  }

  /** One document's permit; closing it twice releases it once. */
  public final class Permit implements AutoCloseable {
    private final String key;
    private boolean released;

    private Permit(String key) {
      this.key = key;
    }

    @Override
    public void close() {
      if (!released) {
        released = true;
        permits.release();
        if (key != null) {
          unclaim(key);
        }
      }
    }
  }
}
