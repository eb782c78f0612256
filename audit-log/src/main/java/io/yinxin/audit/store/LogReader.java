package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.merkle.CompactRange;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.SubtreeHashes;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.audit.note.TlogProof;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the log serves to anyone: checkpoints, tiles and proofs, and its own integrity check.
 * Evidence bundles are {@link EvidenceBundles}; witnesses' cosignatures are {@link Cosignatures}.
 */
public final class LogReader {
  private final LogStore store;
  private final TileCache tiles;
  private final NoteVerifierKey logKey;
  private final CheckpointKeys checkpointKeys;

  /**
   * The newest checkpoint with its cosignatures, reread at most every 100 ms. A proof bound to a
   * checkpoint that is a few milliseconds old is just as valid, and the hot path of proofs and
   * tiles then reads only (cached) tiles.
   */
  private record Latest(LogStore.StoredCheckpoint checkpoint, SignedNote note, long readAt) {}

  private static final long LATEST_TTL_NANOS = 100_000_000L;
  private volatile Latest latest;

  /** A reader that accepts checkpoints signed by any of the log's checkpoint keys, old or new. */
  public LogReader(LogStore store, TileCache tiles, CheckpointKeys keys) {
    this(store, tiles, keys.active().verifierKey(), keys);
  }

  public LogReader(LogStore store, TileCache tiles, NoteVerifierKey logKey) {
    this(store, tiles, logKey, null);
  }

  private LogReader(
      LogStore store, TileCache tiles, NoteVerifierKey logKey, CheckpointKeys checkpointKeys) {
    this.checkpointKeys = checkpointKeys;
    this.store = store;
    this.tiles = tiles;
    this.logKey = logKey;
  }

  interface Read<T> {
    T run(Connection c) throws SQLException;
  }

  /** Runs {@code r} on a read-only connection. */
  <T> T read(Read<T> r) {
    try (Connection c = store.connection()) {
      c.setReadOnly(true);
      return r.run(c);
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  /** The newest checkpoint with every stored cosignature line. */
  public SignedNote latestCheckpoint() {
    return read(c -> latest(c).note());
  }

  private Latest latest(Connection c) throws SQLException {
    Latest l = latest;
    if (l != null && System.nanoTime() - l.readAt() < LATEST_TTL_NANOS) {
      return l;
    }
    LogStore.StoredCheckpoint cp =
        store
            .latestCheckpoint(c)
            .orElseThrow(() -> new AuditException(Code.NOT_FOUND, "no checkpoint yet"));
    l = new Latest(cp, withCosignatures(c, cp), System.nanoTime());
    latest = l;
    return l;
  }

  /** Forgets the cached newest checkpoint, so the next read sees a new cosignature. */
  public void forgetLatest() {
    latest = null;
  }

  SignedNote withCosignatures(Connection c, LogStore.StoredCheckpoint cp) throws SQLException {
    SignedNote note = SignedNote.parse(cp.note());
    for (String line : store.cosignatures(c, cp.size())) {
      note = note.with(SignedNote.parse(note.body() + "\n" + line + "\n").signatures().get(0));
    }
    return note;
  }

  /** The bytes of a tile, as tlog-tiles serves them. */
  public byte[] tile(Tiles.TileId id) {
    return read(
        c -> {
          long size = latestCheckpointSize(c);
          // index × 256 overflows for indices from 2^55: such a tile is beyond any tree.
          long end =
              id.index() > (Long.MAX_VALUE - id.width()) / Tiles.WIDTH
                  ? Long.MAX_VALUE
                  : id.index() * Tiles.WIDTH + id.width();
          if (id.entries()) {
            if (end > size) {
              throw new AuditException(Code.NOT_FOUND, "no such entry tile yet");
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] leaf : store.leaves(c, id.index() * Tiles.WIDTH, id.width())) {
              out.write((leaf.length >>> 8) & 0xff);
              out.write(leaf.length & 0xff);
              out.write(leaf, 0, leaf.length);
            }
            return out.toByteArray();
          }
          long available = Tiles.hashesAtLevel(size, id.level());
          if (end > available) {
            throw new AuditException(Code.NOT_FOUND, "no such tile yet");
          }
          return tiles.read(c, id.level(), id.index(), id.width());
        });
  }

  /** Tiles are published up to the newest checkpoint, so mirrors never see unsigned growth. */
  private long latestCheckpointSize(Connection c) throws SQLException {
    try {
      return latest(c).checkpoint().size();
    } catch (AuditException e) {
      return 0L;
    }
  }

  /**
   * An inclusion proof as JSON fields, against the checkpoint of {@code size} (default: newest).
   */
  public InclusionProof inclusion(long index, Optional<Long> size) {
    return read(
        c -> {
          Latest newest = size.isPresent() ? null : latest(c);
          LogStore.StoredCheckpoint cp =
              newest != null ? newest.checkpoint() : checkpointFor(c, size);
          if (index < 0 || index >= cp.size()) {
            throw new AuditException(
                Code.INVALID_REQUEST,
                "index " + index + " is not in the tree of size " + cp.size());
          }
          SubtreeHashes h = Tiles.subtreeHashes(tiles.reader(c), cp.size());
          List<byte[]> proof = Rfc9162.inclusionProof(h, index, cp.size());
          byte[] leafHash = h.hash(0, index);
          SignedNote note = newest != null ? newest.note() : withCosignatures(c, cp);
          return new InclusionProof(
              index,
              cp.size(),
              leafHash,
              proof,
              new TlogProof(Optional.empty(), index, proof, note));
        });
  }

  /** An inclusion proof and the signed checkpoint it is bound to. */
  public record InclusionProof(
      long index, long size, byte[] leafHash, List<byte[]> proof, TlogProof tlogProof) {}

  LogStore.StoredCheckpoint checkpointFor(Connection c, Optional<Long> size) throws SQLException {
    Optional<LogStore.StoredCheckpoint> cp =
        size.isPresent() ? store.checkpointAt(c, size.get()) : store.latestCheckpoint(c);
    return cp.orElseThrow(
        () ->
            new AuditException(
                Code.NOT_FOUND,
                size.map(s -> "no checkpoint of size " + s).orElse("no checkpoint yet")));
  }

  /** The signed checkpoint of {@code size} as stored (the log's signature, no cosignatures). */
  public String checkpointNote(long size) {
    try (Connection c = store.connection()) {
      return store
          .checkpointAt(c, size)
          .orElseThrow(() -> new AuditException(Code.NOT_FOUND, "no checkpoint of size " + size))
          .note();
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  /** The RFC 3161 reply over {@link #checkpointNote(long)}, if a TSA stamped that checkpoint. */
  public byte[] checkpointTimestamp(long size) {
    try (Connection c = store.connection()) {
      return store
          .timestamp(c, size)
          .orElseThrow(
              () -> new AuditException(Code.NOT_FOUND, "no time-stamp for checkpoint " + size));
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  /** A consistency proof between two checkpointed sizes. */
  public List<byte[]> consistency(long from, long to) {
    return read(
        c -> {
          if (from < 0 || from > to) {
            throw new AuditException(Code.INVALID_REQUEST, "need 0 <= from <= to");
          }
          if (to > latestCheckpointSize(c)) {
            throw new AuditException(
                Code.INVALID_REQUEST, "size " + to + " is not checkpointed yet");
          }
          return Rfc9162.consistencyProof(Tiles.subtreeHashes(tiles.reader(c), to), from, to);
        });
  }

  /** Result of {@link #check()}. */
  public record CheckReport(boolean ok, long size, long checkpointSize, List<String> problems) {}

  /**
   * Recomputes the whole tree from the stored leaves, in batches and in memory that does not grow
   * with the log (a compact range), and compares it with the stored hashes, every event's
   * commitment and the newest checkpoint (its signature, its root, and that it is not larger than
   * the tree).
   */
  public CheckReport check() {
    return check((done, total) -> {});
  }

  /** Hears how far a check has got: entries recomputed, of how many. */
  @FunctionalInterface
  public interface CheckProgress {
    void checked(long done, long total);
  }

  /** {@link #check()}, telling {@code progress} after every batch of entries. */
  public CheckReport check(CheckProgress progress) {
    return read(
        c -> {
          List<String> problems = new ArrayList<>();
          long size = store.size(c);
          Optional<LogStore.StoredCheckpoint> cp = store.latestCheckpoint(c);
          long cpSize = cp.map(LogStore.StoredCheckpoint::size).orElse(0L);
          Optional<Checkpoint> signed = Optional.empty();
          if (cp.isPresent()) {
            SignedNote note = SignedNote.parse(cp.get().note());
            if (checkpointKeys == null
                ? !note.verifiedBy(logKey)
                : checkpointKeys.signerOf(c, note).isEmpty()) {
              problems.add("checkpoint " + cpSize + " signature does not verify");
            }
            signed = Optional.of(Checkpoint.parse(note.body()));
            if (cpSize > size) {
              problems.add(
                  "checkpoint "
                      + cpSize
                      + " is larger than the tree ("
                      + size
                      + " entries): the log has lost entries it signed");
            }
          }
          CompactRange range = new CompactRange();
          byte[] rootAtCheckpoint = cpSize == 0 ? Rfc9162.emptyRoot() : null;
          int batch = 4096;
          for (long from = 0; from < size; from += batch) {
            int n = (int) Math.min(batch, size - from);
            List<LogStore.StoredEvent> rows = store.eventsBetween(c, from, from + n);
            if (rows.size() != n) {
              problems.add("entries or events missing between " + from + " and " + (from + n));
              break;
            }
            for (LogStore.StoredEvent e : rows) {
              try {
                if (e.event() == null) {
                  problems.add(
                      "event " + e.index() + " does not decrypt (changed, or its key is gone)");
                } else if (!Leaf.decode(e.leaf())
                    .commitsTo(e.salt(), e.event().getBytes(StandardCharsets.UTF_8))) {
                  problems.add("event " + e.index() + " does not match its leaf commitment");
                }
              } catch (IllegalArgumentException ex) {
                problems.add("entry " + e.index() + " has a malformed leaf");
              }
              range.append(Rfc9162.leafHash(e.leaf()));
              if (range.size() == cpSize) {
                rootAtCheckpoint = range.root();
              }
            }
            progress.checked(from + n, size);
          }
          if (cp.isPresent() && rootAtCheckpoint != null) {
            if (!MessageDigest.isEqual(rootAtCheckpoint, signed.orElseThrow().root())
                || !MessageDigest.isEqual(rootAtCheckpoint, cp.get().root())) {
              problems.add("checkpoint " + cpSize + " root differs from the recomputed tree");
            }
          }
          if (range.size() == size) {
            try {
              byte[] fromTiles = Rfc9162.root(Tiles.subtreeHashes(tiles.reader(c), size), size);
              if (!MessageDigest.isEqual(fromTiles, range.root())) {
                problems.add("stored tiles differ from the recomputed tree");
              }
            } catch (AuditException ex) {
              problems.add("stored tiles incomplete: " + ex.getMessage());
            }
          }
          return new CheckReport(problems.isEmpty(), size, cpSize, problems);
        });
  }
}
