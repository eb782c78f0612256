package io.yinxin.ca.store;

import io.yinxin.ca.CaException;
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
 * Stores issued certificates with group commit: the rows of concurrent issuances that wait at the
 * same moment share one transaction (one round trip, one WAL flush), as the audit log's appends do.
 * {@link #insert} returns only once its row is committed. A batch that fails is retried row by row,
 * so one bad row fails alone and the others are stored.
 */
public final class CertificateWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CertificateWriter.class);

  private final CaStore store;
  private final int maxBatch;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  private record Pending(CertificateRecord row, CompletableFuture<Void> done) {}

  /**
   * @param maxBatch most rows in one transaction
   */
  public CertificateWriter(CaStore store, int maxBatch) {
    this(store, maxBatch, true);
  }

  /** A writer whose thread starts only at {@link #start()}, so a test can fill one batch. */
  CertificateWriter(CaStore store, int maxBatch, boolean startNow) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("batch size must be at least 1");
    }
    this.store = store;
    this.maxBatch = maxBatch;
    this.thread = new Thread(this::run, "ca-certificate-writer");
    thread.setDaemon(true);
    if (startNow) {
      thread.start();
    }
  }

  void start() {
    thread.start();
  }

  /** Rows waiting for the writer. */
  int queued() {
    return queue.size();
  }

  /**
   * Stores a certificate row and returns once it is committed.
   *
   * @throws CaException {@code CONFLICT} if a certificate with this issuer and serial exists,
   *     {@code UNAVAILABLE} if the database failed or the writer is closed
   */
  public void insert(CertificateRecord row) {
    if (closed) {
      throw new CaException(CaException.Code.UNAVAILABLE, "the CA is shutting down");
    }
    Pending p = new Pending(row, new CompletableFuture<>());
    queue.add(p);
    try {
      while (true) {
        try {
          p.done().get(1, TimeUnit.SECONDS);
          return;
        } catch (TimeoutException e) {
          if (thread.getState() == Thread.State.TERMINATED && queue.remove(p)) {
            throw new CaException(CaException.Code.UNAVAILABLE, "the CA is shutting down");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CaException(CaException.Code.UNAVAILABLE, "interrupted while storing", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CaException ce) {
        throw ce;
      }
      throw new CaException(CaException.Code.UNAVAILABLE, "certificate not stored", e.getCause());
    }
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(maxBatch);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
        write(batch);
      } catch (InterruptedException e) {
        closed = true;
      } catch (RuntimeException e) {
        // write() completes every future itself; this only keeps the writer alive
        log.error("event=ca_writer_failed reason={}", e.toString());
      } finally {
        batch.clear();
      }
    }
    for (Pending p; (p = queue.poll()) != null; ) {
      p.done()
          .completeExceptionally(
              new CaException(CaException.Code.UNAVAILABLE, "the CA is shutting down"));
    }
  }

  private void write(List<Pending> batch) {
    try {
      store.inTransaction(
          c -> {
            store.certificates().insertCertificates(c, batch.stream().map(Pending::row).toList());
            return null;
          });
      batch.forEach(p -> p.done().complete(null));
    } catch (RuntimeException e) {
      if (batch.size() == 1) {
        batch.get(0).done().completeExceptionally(e);
        return;
      }
      for (Pending p : batch) {
        write(List.of(p));
      }
    }
  }

  /** Stores what is queued, then stops. */
  @Override
  public void close() {
    closed = true;
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
