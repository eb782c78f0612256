package io.yinxin.audit.store;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.merkle.Rfc9162;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: appenders queue their event and wait; one writer thread takes whatever is queued
 * (up to {@code maxBatch}) and integrates it in one transaction — entries, private events, tiles
 * and tree size — under a row lock on the tree size, so several nodes sharing the database get
 * gapless, never-reused indices. Each appender is answered only after that transaction commits.
 */
public final class Integrator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Integrator.class);

  private record Pending(
      AuditEvent event,
      byte[] canonical,
      byte[] salt,
      byte[] leaf,
      CompletableFuture<Receipt> done) {}

  private final LogStore store;
  private final int maxBatch;
  private final BlockingQueue<Pending> queue;

  private final Thread writer;
  private volatile boolean running = true;
  private RightEdge edge;

  public Integrator(LogStore store, int maxBatch, int queueCapacity) {
    this.store = store;
    this.maxBatch = maxBatch;
    this.queue = new LinkedBlockingQueue<>(queueCapacity);
    this.writer = new Thread(this::run, "audit-integrator");
    writer.setDaemon(true);
    writer.start();
  }

  /** Appends and waits until the event is durable. */
  public Receipt append(AuditEvent event) {
    byte[] canonical = event.canonicalBytes();
    byte[] salt = new byte[16];
    io.yinxin.hsm.Randomness.current().nextBytes(salt);
    byte[] leaf =
        new Leaf(event.type().name(), event.time().toString(), Leaf.commit(salt, canonical))
            .encode();
    Pending p = new Pending(event, canonical, salt, leaf, new CompletableFuture<>());
    try {
      if (!running || !queue.offer(p, 10, TimeUnit.SECONDS)) {
        throw new AuditException(Code.UNAVAILABLE, "audit log is not accepting appends");
      }
      return p.done().get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(Code.UNAVAILABLE, "interrupted while appending");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuditException a) {
        throw a;
      }
      throw new AuditException(Code.UNAVAILABLE, "append failed", e.getCause());
    } catch (TimeoutException e) {
      throw new AuditException(Code.UNAVAILABLE, "append not acknowledged in time");
    }
  }

  /** Longest wait for a batch to fill up again, so concurrent appenders share one commit. */
  private static final long LINGER_NANOS =
      TimeUnit.MICROSECONDS.toNanos(Long.getLong("yinxin.audit.linger-us", 1000));

  private void run() {
    List<Pending> batch = new ArrayList<>(maxBatch);
    int lastBatch = 1;
    while (running || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          lastBatch = 1;
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
        // Under concurrency the appenders answered by the last commit come back a few at a
        // time; waiting up to a millisecond for about as many as last time turns many tiny
        // commits into one. A lone appender (lastBatch == 1) never waits.
        long deadline = System.nanoTime() + LINGER_NANOS;
        while (batch.size() < Math.min(lastBatch, maxBatch)) {
          long left = deadline - System.nanoTime();
          Pending more = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
          if (more == null) {
            break;
          }
          batch.add(more);
          queue.drainTo(batch, maxBatch - batch.size());
        }
        lastBatch = batch.size();
        integrate(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        log.error("event=audit_integrator_error", e);
      } finally {
        batch.clear();
      }
    }
  }

  private void integrate(List<Pending> batch) {
    List<Receipt> receipts = new ArrayList<>(batch.size());
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        long size = store.lockSize(c);
        if (edge == null || edge.size() != size) {
          edge = RightEdge.load(store, c, size);
        }
        RightEdge next = edge.copy();
        List<LogStore.Row> rows = new ArrayList<>(batch.size());
        long index = size;
        for (Pending p : batch) {
          byte[] leafHash = Rfc9162.leafHash(p.leaf());
          rows.add(
              new LogStore.Row(
                  index,
                  p.leaf(),
                  leafHash,
                  p.event().type().name(),
                  p.event().actor(),
                  p.event().subject(),
                  p.event().time(),
                  new String(p.canonical(), StandardCharsets.UTF_8),
                  p.salt()));
          next.append(leafHash);
          receipts.add(new Receipt(index, leafHash));
          index++;
        }
        store.insert(c, rows);
        next.flush(store, c);
        store.setSize(c, index);
        c.commit();
        edge = next;
      } catch (SQLException | RuntimeException e) {
        edge = null;
        c.rollback();
        throw e;
      }
    } catch (SQLException | RuntimeException e) {
      AuditException failure =
          e instanceof AuditException a
              ? a
              : new AuditException(Code.UNAVAILABLE, "audit commit failed", e);
      log.warn(
          "event=audit_batch_failed entries={} reason={}",
          batch.size(),
          e.getClass().getSimpleName());
      batch.forEach(p -> p.done().completeExceptionally(failure));
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).done().complete(receipts.get(i));
    }
  }

  @Override
  public void close() {
    running = false;
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
