package io.yinxin.audit.store;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.merkle.Rfc9162;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: appenders queue their event and wait; one writer thread takes whatever is queued
 * (up to {@code maxBatch}) and integrates it in one transaction — entries, private events and the
 * tiles that changed — under the append lock ({@link LogStore#lockSize}), so several nodes sharing
 * the database get gapless, never-reused indices. A lone entry takes no lock, whether or not it
 * completes a tile (the primary key guards it, and it is written only on the database server where
 * this node last saw the tree, see {@link LogStore.Server}), so a locked transaction can still find
 * an index taken by another node's lone entry: it then reads the edge back and tries again. Each
 * appender is answered only after its transaction commits.
 *
 * <p>An appender alone in this process (no other appender between asking and being answered) writes
 * its own event, in its own thread, as a batch of one: handing a lone event to the writer thread
 * and the receipt back costs two thread wake-ups, about a quarter of a lone append's time. Anyone
 * arriving meanwhile queues as usual, and the writer thread takes them once the lone write is done
 * ({@link #writing} admits one writer at a time in this process). Under concurrency nobody is
 * alone, so batches form as before.
 *
 * <p>The same transaction also takes committed rows of the {@link AuditOutbox} (oldest first) and
 * deletes them, so each is integrated exactly once, by whichever node gets the lock; rows left by a
 * process that died after its commit are found by the periodic outbox check.
 */
public final class Integrator implements AutoCloseable, AuditOutbox {
  private static final Logger log = LoggerFactory.getLogger(Integrator.class);

  /**
   * An event waiting for the writer, with everything that can be computed without the tree (its
   * encodings and hashes, and its row as stored: {@code stored}, encrypted when the store's {@link
   * EventCipher} encrypts) already computed by the appender's own thread, so the one writer thread
   * does only what must be serial.
   */
  private record Queued(
      AuditEvent event,
      String stored,
      byte[] salt,
      byte[] leaf,
      byte[] leafHash,
      CompletableFuture<Receipt> done) {}

  private final LogStore store;
  private final int maxBatch;
  private final BlockingQueue<Queued> queue;

  /** Wakes the writer to look at the outbox; carries no event. */
  private static final Queued KICK = new Queued(null, null, null, null, null, null);

  /**
   * How often the writer looks at the outbox without being asked (rows of other nodes, crashes).
   */
  private static final long OUTBOX_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final Thread writer;
  private volatile boolean running = true;

  /**
   * Held by whoever writes in this process (the writer thread, or a lone appender); guards {@link
   * #edge}.
   */
  private final java.util.concurrent.locks.ReentrantLock writing =
      new java.util.concurrent.locks.ReentrantLock();

  private RightEdge edge;

  /** Where {@link #edge} was read or last written; guarded by {@link #writing}. */
  private LogStore.Server server;

  /** The tree size this node last wrote or read on {@link #server}; guarded by {@link #writing}. */
  private long seen = -1;

  /** Appenders in this process between asking and being answered. */
  private final java.util.concurrent.atomic.AtomicInteger appending =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Events written by their own appender (tests). */
  private final java.util.concurrent.atomic.LongAdder direct =
      new java.util.concurrent.atomic.LongAdder();

  long directWrites() {
    return direct.sum();
  }

  /** Callers in this process waiting for their outbox rows, by row id. */
  private final Map<Long, CompletableFuture<Receipt>> outboxWaiters = new ConcurrentHashMap<>();

  private volatile boolean outboxKicked = true;
  private long lastOutboxCheck = System.nanoTime();

  public Integrator(LogStore store, int maxBatch, int queueCapacity) {
    this.store = store;
    this.maxBatch = maxBatch;
    this.queue = new LinkedBlockingQueue<>(queueCapacity);
    this.writer = new Thread(this::run, "audit-integrator");
    writer.setDaemon(true);
    writer.start();
  }

  /** Events waiting in this process for the writer (the outbox is counted separately). */
  public int queued() {
    return queue.size();
  }

  /** Appends and waits until the event is durable. */
  public Receipt append(AuditEvent event) {
    byte[] canonical = event.canonicalBytes();
    byte[] salt = newSalt();
    byte[] leaf = leaf(event, salt, canonical);
    Queued p =
        new Queued(
            event,
            store.cipher().seal(new String(canonical, StandardCharsets.UTF_8), salt),
            salt,
            leaf,
            Rfc9162.leafHash(leaf),
            new CompletableFuture<>());
    int company = appending.incrementAndGet();
    try {
      if (company <= 2
          && running
          && queue.isEmpty()
          && (company == 1 ? writing.tryLock() : tryLockSoon())) {
        try {
          direct.increment();
          integrate(new ArrayList<>(List.of(p)), false);
        } finally {
          writing.unlock();
        }
      }
      if (!p.done().isDone() && (!running || !queue.offer(p, 10, TimeUnit.SECONDS))) {
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
    } finally {
      appending.decrementAndGet();
    }
  }

  /**
   * A second appender, arriving while the first writes its own entry, waits for the lock (for as
   * long as a commit takes) and writes its own entry too, rather than going through the writer
   * thread: two wake-ups fewer per entry for two threads taking turns.
   */
  private boolean tryLockSoon() {
    try {
      return writing.tryLock(10, TimeUnit.MILLISECONDS) && (queue.isEmpty() || unlockFalse());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Someone queued meanwhile: the writer thread takes them all, this entry with them. */
  private boolean unlockFalse() {
    writing.unlock();
    return false;
  }

  static byte[] newSalt() {
    return SALTS.get().next();
  }

  /**
   * Salts drawn from this thread's DRBG 32 at a time: each request to a DRBG pays for its own
   * update of the generator's state (two SHA-256 and a lock), more than the 16 bytes themselves
   * cost; the same generator's output, only fetched in larger pieces. Never shared between threads.
   */
  private static final ThreadLocal<SaltBuffer> SALTS = ThreadLocal.withInitial(SaltBuffer::new);

  private static final class SaltBuffer {
    private final byte[] bytes = new byte[32 * 16];
    private int next = bytes.length;

    byte[] next() {
      if (next == bytes.length) {
        io.yinxin.hsm.Randomness.current().nextBytes(bytes);
        next = 0;
      }
      byte[] salt = java.util.Arrays.copyOfRange(bytes, next, next + 16);
      java.util.Arrays.fill(bytes, next, next + 16, (byte) 0); // handed out once
      next += 16;
      return salt;
    }
  }

  /** The public leaf: type, time and a salted commitment to the canonical event. */
  private static byte[] leaf(AuditEvent event, byte[] salt, byte[] canonical) {
    return new Leaf(event.type().name(), event.time().toString(), Leaf.commit(salt, canonical))
        .encode();
  }

  /**
   * Appends an event at most once per idempotency key, for a client that may send it again after a
   * timeout or a crash (a relay forwarding its own outbox): the first call records it through the
   * outbox; every later call with the key, on any node, gets the same receipt.
   *
   * @param key 1-80 characters from {@code [A-Za-z0-9._:-]}, chosen by the client, unique per event
   */
  public Receipt appendOnce(AuditEvent event, String key) {
    if (key == null || !key.matches("[A-Za-z0-9._:-]{1,80}")) {
      throw new AuditException(
          Code.INVALID_REQUEST, "an idempotency key is 1-80 characters of [A-Za-z0-9._:-]");
    }
    for (int attempt = 0; ; attempt++) {
      try (Connection c = store.connection()) {
        Optional<Long> bound = store.outboxIdForKey(c, key);
        if (bound.isPresent()) {
          return await(new Pending(bound.get()));
        }
        c.setAutoCommit(false);
        try {
          Pending p = record(c, event);
          if (store.bindIdempotencyKey(c, key, p.id())) {
            store.commitDurably(c);
            return await(p);
          }
          c.rollback(); // another request with this key won: wait for its entry
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException e) {
        throw LogStore.unavailable(e);
      }
      if (attempt > 0) {
        throw new AuditException(Code.UNAVAILABLE, "idempotency key could not be bound");
      }
    }
  }

  @Override
  public Pending record(Connection c, AuditEvent event) {
    byte[] canonical = event.canonicalBytes();
    byte[] salt = newSalt();
    byte[] leaf = leaf(event, salt, canonical);
    try {
      return new Pending(
          store.insertOutbox(
              c,
              new LogStore.OutboxRow(
                  0,
                  leaf,
                  event.type().name(),
                  event.actor(),
                  event.subject(),
                  event.time(),
                  store.cipher().seal(new String(canonical, StandardCharsets.UTF_8), salt),
                  salt)));
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  @Override
  public Receipt await(Pending pending) {
    CompletableFuture<Receipt> done =
        outboxWaiters.computeIfAbsent(pending.id(), id -> new CompletableFuture<>());
    try {
      outboxKicked = true;
      queue.offer(KICK);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          return done.get(200, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          // Another node's integrator may have taken the row: look it up.
          Optional<Receipt> r = lookUp(pending.id());
          if (r.isPresent()) {
            return r.get();
          }
          if (System.nanoTime() > deadline) {
            throw new AuditException(
                Code.UNAVAILABLE,
                "outbox entry " + pending.id() + " not integrated yet; it stays queued");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(Code.UNAVAILABLE, "interrupted while waiting for the log");
    } catch (ExecutionException e) {
      throw new AuditException(Code.UNAVAILABLE, "audit commit failed", e.getCause());
    } finally {
      outboxWaiters.remove(pending.id());
    }
  }

  private Optional<Receipt> lookUp(long outboxId) {
    try (Connection c = store.connection()) {
      return store.receiptForOutbox(c, outboxId);
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  /** Longest wait for a batch to fill up again, so concurrent appenders share one commit. */
  private static final long LINGER_NANOS =
      TimeUnit.MICROSECONDS.toNanos(Long.getLong("yinxin.audit.linger-us", 1000));

  private void run() {
    List<Queued> batch = new ArrayList<>(maxBatch);
    int lastBatch = 1;
    while (running || !queue.isEmpty()) {
      try {
        Queued first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null || first == KICK) {
          lastBatch = 1;
          if (outboxDue()) {
            integrateLocked(batch);
          }
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
          Queued more = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
          if (more == null) {
            break;
          }
          batch.add(more);
          queue.drainTo(batch, maxBatch - batch.size());
        }
        lastBatch = batch.size();
        integrateLocked(batch);
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

  /** Whether the outbox should be read in this round: asked to, or not looked at for a while. */
  private boolean outboxDue() {
    return outboxKicked || System.nanoTime() - lastOutboxCheck > OUTBOX_CHECK_NANOS;
  }

  private void integrateLocked(List<Queued> batch) {
    writing.lock();
    try {
      integrate(batch, outboxDue());
    } finally {
      writing.unlock();
    }
  }

  /**
   * Writes the batch (and, if {@code readOutbox}, what the outbox holds) in one transaction and
   * answers each appender. The caller holds {@link #writing}.
   */
  private void integrate(List<Queued> batch, boolean readOutbox) {
    batch.removeIf(p -> p == KICK);
    List<Receipt> receipts = new ArrayList<>(batch.size());
    List<LogStore.OutboxRow> fromOutbox = List.of();
    List<Receipt> outboxReceipts = new ArrayList<>();
    if (!readOutbox && !batch.isEmpty() && edge != null && store.postgres()) {
      switch (integrateInOneStatement(batch)) {
        case DONE:
          return;
        case FAILED:
          return;
        case SIZE_CHANGED:
          break; // another node appended: the locked path below reloads the edge
      }
    }
    try (Connection c = store.connection()) {
      if (readOutbox) {
        outboxKicked = false;
        lastOutboxCheck = System.nanoTime();
        if (batch.isEmpty() && store.outboxEmpty(c)) {
          return;
        }
      }
      c.setAutoCommit(false);
      for (int attempt = 1; ; attempt++) {
        receipts.clear();
        outboxReceipts.clear();
        fromOutbox = List.of();
        try {
          LogStore.Locked locked = store.lock(c);
          long size = locked.size();
          if (readOutbox) {
            fromOutbox = store.outbox(c, Math.max(1, maxBatch - batch.size()));
          }
          // Another server (a restore, a promoted standby) may hold another tree of the same size.
          if (edge == null || edge.size() != size || !locked.server().equals(server)) {
            if (server != null && !locked.server().equals(server)) {
              serverChanged(seen, size);
            }
            edge = RightEdge.load(store, c, size);
            server = locked.server();
            seen = size;
          }
          // Taken, not copied (a copy is a tile buffer per level, per commit): until this commit
          // succeeds the edge is forgotten, and any failure leaves it to be read back.
          RightEdge next = edge;
          edge = null;
          List<LogStore.Row> rows = new ArrayList<>(batch.size() + fromOutbox.size());
          long index = size;
          // Outbox rows first: their changes committed before these appenders asked.
          for (LogStore.OutboxRow o : fromOutbox) {
            byte[] leafHash = Rfc9162.leafHash(o.leaf());
            rows.add(
                new LogStore.Row(
                    index,
                    o.leaf(),
                    leafHash,
                    o.type(),
                    o.actor(),
                    o.subject(),
                    o.time(),
                    o.event(),
                    o.salt(),
                    o.id()));
            next.append(leafHash);
            outboxReceipts.add(new Receipt(index, leafHash));
            index++;
          }
          index = appendQueued(batch, index, next, rows, receipts);
          if (rows.isEmpty()) {
            c.rollback();
            edge = next;
            return;
          }
          store.insert(c, rows);
          if (!fromOutbox.isEmpty()) {
            store.deleteOutbox(c, fromOutbox.stream().map(LogStore.OutboxRow::id).toList());
          }
          next.flush(store, c);
          store.commitDurably(c);
          edge = next;
          seen = next.size();
          break;
        } catch (SQLException e) {
          edge = null;
          c.rollback();
          // A lone append takes no lock (LogStore.appendOne): another node's may have taken an
          // index between this transaction's size and its insert. Read the edge back and retry.
          if (LogStore.indexTaken(e) && attempt < 8) {
            sizeChanges.increment();
            continue;
          }
          throw e;
        } catch (RuntimeException e) {
          edge = null;
          c.rollback();
          throw e;
        }
      }
    } catch (SQLException | RuntimeException e) {
      if (!batch.isEmpty() && (batch.size() > 1 || !fromOutbox.isEmpty()) && rowRefused(e)) {
        if (!fromOutbox.isEmpty()) {
          outboxKicked = true;
        }
        eachAlone(batch);
        return;
      }
      AuditException failure =
          e instanceof AuditException a
              ? a
              : new AuditException(Code.UNAVAILABLE, "audit commit failed", e);
      log.warn(
          "event=audit_batch_failed entries={} reason={}",
          batch.size(),
          e.getClass().getSimpleName());
      batch.forEach(p -> p.done().completeExceptionally(failure));
      // Outbox rows count too: a row the database keeps refusing is retried every round, and the
      // counter (alert YinxinAuditAppendsFailing) is how an operator learns of it.
      AuditMetrics.failed(batch.size() + fromOutbox.size());
      if (!fromOutbox.isEmpty()) {
        outboxKicked = true; // the rows are still there: try them again next round
      }
      return;
    }
    AuditMetrics.integrated(batch.size() + fromOutbox.size());
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).done().complete(receipts.get(i));
    }
    for (int i = 0; i < fromOutbox.size(); i++) {
      CompletableFuture<Receipt> waiter = outboxWaiters.get(fromOutbox.get(i).id());
      if (waiter != null) {
        waiter.complete(outboxReceipts.get(i));
      }
    }
    if (fromOutbox.size() == Math.max(1, maxBatch - batch.size())) {
      outboxKicked = true; // a full read: more may be waiting
    }
  }

  /**
   * The tree is now on another database server than the one this node last wrote to: a restart, a
   * failover or a restore. If it is shorter than the node saw it, entries the node had acknowledged
   * are not there (a restore from an earlier backup, a standby that lagged): their receipts'
   * indices will be given to other entries, and if a signed checkpoint covered them the checkpoint
   * publisher refuses to sign a tree that is not consistent with it.
   */
  private static void serverChanged(long seen, long size) {
    if (size < seen) {
      log.error("event=audit_tree_shorter_than_seen seen={} size={}", seen, size);
      AuditMetrics.lost(seen - size);
    } else {
      log.warn("event=audit_database_server_changed seen={} size={}", seen, size);
    }
  }

  /**
   * Whether the database refused a row for what it holds (a data exception, SQLSTATE class 22, or a
   * constraint other than the index being taken, class 23), not for the tree having moved on or
   * being unreachable: an entry it cannot store must fail alone, not every entry sharing its
   * commit.
   */
  static boolean rowRefused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException q) {
        for (SQLException x = q; x != null; x = x.getNextException()) {
          String state = x.getSQLState();
          if (state != null
              && (state.startsWith("22") || state.startsWith("23"))
              && !"23505".equals(state)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * After a shared commit was refused for one of its rows: each appender's entry in a commit of its
   * own, so only the entries the database refuses fail (in arrival order, so indices keep it).
   */
  private void eachAlone(List<Queued> batch) {
    isolated.add(batch.size());
    log.warn("event=audit_batch_split entries={}", batch.size());
    for (Queued p : batch) {
      integrate(new ArrayList<>(List.of(p)), false);
    }
  }

  /** Entries written alone after the commit they shared was refused for a row (tests). */
  private final java.util.concurrent.atomic.LongAdder isolated =
      new java.util.concurrent.atomic.LongAdder();

  long isolated() {
    return isolated.sum();
  }

  /** How often the one-statement path found that another node had appended (tests). */
  private final java.util.concurrent.atomic.LongAdder sizeChanges =
      new java.util.concurrent.atomic.LongAdder();

  long sizeChanges() {
    return sizeChanges.sum();
  }

  /**
   * Numbers the queued events from {@code index}: their rows, their receipts, and their leaves on
   * the edge. Returns the next free index.
   */
  private static long appendQueued(
      List<Queued> batch,
      long index,
      RightEdge next,
      List<LogStore.Row> rows,
      List<Receipt> receipts) {
    for (Queued p : batch) {
      byte[] leafHash = p.leafHash();
      rows.add(
          new LogStore.Row(
              index,
              p.leaf(),
              leafHash,
              p.event().type().name(),
              p.event().actor(),
              p.event().subject(),
              p.event().time(),
              p.stored(),
              p.salt(),
              0));
      next.append(leafHash);
      receipts.add(new Receipt(index, leafHash));
      index++;
    }
    return index;
  }

  private enum Outcome {
    DONE,
    FAILED,
    SIZE_CHANGED
  }

  /**
   * The common case on PostgreSQL — only appenders waiting, the tree at the size this node last
   * wrote — in one statement and one round trip ({@link LogStore#appendInOneStatement}): the
   * indices and tiles are computed here from the cached edge, and the database checks under the
   * append lock that the size is still the one they were computed for.
   */
  private Outcome integrateInOneStatement(List<Queued> batch) {
    RightEdge next = edge; // taken, not copied: forgotten unless the write succeeds
    edge = null;
    long index = next.size();
    List<LogStore.Row> rows = new ArrayList<>(batch.size());
    List<Receipt> receipts = new ArrayList<>(batch.size());
    appendQueued(batch, index, next, rows, receipts);
    try (Connection c = store.connection()) {
      c.setAutoCommit(true);
      if (!store.appendInOneStatement(c, index, server, rows, next.takeDirty())) {
        sizeChanges.increment();
        edge = null;
        return Outcome.SIZE_CHANGED;
      }
    } catch (SQLException | RuntimeException e) {
      edge = null;
      if (batch.size() > 1 && rowRefused(e)) {
        eachAlone(batch);
        return Outcome.DONE;
      }
      AuditException failure = new AuditException(Code.UNAVAILABLE, "audit commit failed", e);
      log.warn(
          "event=audit_batch_failed entries={} reason={}",
          batch.size(),
          e.getClass().getSimpleName());
      batch.forEach(p -> p.done().completeExceptionally(failure));
      AuditMetrics.failed(batch.size());
      return Outcome.FAILED;
    }
    edge = next;
    seen = next.size();
    AuditMetrics.integrated(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).done().complete(receipts.get(i));
    }
    return Outcome.DONE;
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
