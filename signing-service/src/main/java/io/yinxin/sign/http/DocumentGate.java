package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.time.Duration;
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
 */
public final class DocumentGate {
  private final String name;
  private final Semaphore permits;
  private final Duration wait;

  /**
   * @param name the gate's name in {@code yinxin_sign_busy_total{gate}}
   * @param permits documents at once
   * @param wait how long a request waits for a permit ({@link Duration#ZERO}: not at all)
   */
  public DocumentGate(String name, int permits, Duration wait) {
    this.name = name;
    if (permits < 1) {
      throw new IllegalArgumentException("a document gate needs at least one permit");
    }
    this.permits = new Semaphore(permits, true);
    this.wait = wait;
  }

  /** A permit, held until {@link Permit#close()}; {@code BUSY} if none came within the wait. */
  public Permit enter() {
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
    return new Permit();
  }

  /** Permits free now. */
  public int available() {
    return permits.availablePermits();
  }

  /** One document's permit; closing it twice releases it once. */
  public final class Permit implements AutoCloseable {
    private boolean released;

    private Permit() {}

    @Override
    public void close() {
      if (!released) {
        released = true;
        permits.release();
      }
    }
  }
}
