package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.SubtreeHashes;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs checkpoints. Each round runs in one transaction that first takes a PostgreSQL advisory
 * transaction lock, so exactly one node publishes at a time and, if it dies, the next round on any
 * node carries on. A new checkpoint is signed only after its consistency proof from the previous
 * checkpoint verifies: a rewritten history stops publication instead of being signed.
 */
public final class CheckpointPublisher {
  private static final Logger log = LoggerFactory.getLogger(CheckpointPublisher.class);

  /** Advisory lock key: "YXCP" as an integer. */
  private static final long LOCK_KEY = 0x59584350L;

  /** The purpose given with each checkpoint signature (free text: the exemption is the key). */
  public static final String PURPOSE = "audit:checkpoint";

  private final LogStore store;
  private final TileCache tiles;
  private final KeyService keys;
  private final CheckpointKeys checkpointKeys;
  private final String origin;
  private final Object localLock = new Object();

  /** A publisher whose first checkpoint key is {@code key} (until a rotation replaces it). */
  public CheckpointPublisher(
      LogStore store, TileCache tiles, KeyService keys, KeyRef key, String origin) {
    this(store, tiles, keys, new CheckpointKeys(store, keys, key, origin));
  }

  public CheckpointPublisher(
      LogStore store, TileCache tiles, KeyService keys, CheckpointKeys checkpointKeys) {
    this.store = store;
    this.tiles = tiles;
    this.keys = keys;
    this.checkpointKeys = checkpointKeys;
    this.origin = checkpointKeys.active().verifierKey().name();
  }

  /** The active checkpoint key's verifier key, as this node last read it. */
  public NoteVerifierKey verifierKey() {
    return checkpointKeys.active().verifierKey();
  }

  public CheckpointKeys checkpointKeys() {
    return checkpointKeys;
  }

  public String origin() {
    return origin;
  }

  /**
   * Publishes a checkpoint for the current tree if it grew (or if there is none yet).
   *
   * @return the size of the newest checkpoint after this round
   */
  public long publish() {
    if (halted != null) {
      throw new AuditException(Code.UNAVAILABLE, "publication stopped: " + halted);
    }
    synchronized (localLock) {
      try (Connection c = store.connection()) {
        c.setAutoCommit(false);
        try {
          if (!lock(c)) {
            c.rollback();
            return -1;
          }
          long size = store.size(c);
          CheckpointKeys.Key signer = checkpointKeys.refresh(c); // another node may have rotated
          Optional<LogStore.StoredCheckpoint> last = store.latestCheckpoint(c);
          if (last.isPresent() && last.get().size() >= size) {
            c.rollback();
            return last.get().size();
          }
          // Memoised for this round: the root, the proof and its check ask for many of the same
          // subtrees, each up to 255 hashes of a tile read again (read fresh every round, so a
          // rewritten tile is seen).
          SubtreeHashes read = Tiles.subtreeHashes(tiles.reader(c), size);
          java.util.Map<Long, byte[]> seen = new java.util.HashMap<>();
          SubtreeHashes hashes =
              (level, index) ->
                  seen.computeIfAbsent((index << 6) | level, k -> read.hash(level, index));
          byte[] root = Rfc9162.root(hashes, size);
          if (last.isPresent()) {
            // What the log promised is the signed note, not the row beside it: take the previous
            // size and root from the note, after checking its signature, so that rewriting the
            // tiles and the root column cannot get a checkpoint signed over another history.
            Checkpoint prev = signedCheckpoint(c, last.get(), signer);
            List<byte[]> proof = Rfc9162.consistencyProof(hashes, prev.size(), size);
            if (!Rfc9162.verifyConsistency(prev.size(), size, prev.root(), root, proof)) {
              c.rollback();
              throw halt(
                  "tree at size " + size + " is not consistent with checkpoint " + prev.size());
            }
          }
          String note = sign(signer, new Checkpoint(origin(), size, root, List.of())).text();
          store.insertCheckpoint(c, size, root, note);
          store.commitDurably(c);
          trusted = new Trusted(note, signer.verifierKey());
          AuditMetrics.checkpointPublished();
          return size;
        } catch (SQLException | RuntimeException e) {
          c.rollback();
          throw e;
        }
      } catch (SQLException e) {
        throw LogStore.unavailable(e);
      }
    }
  }

  /**
   * Why publication stopped, if it did: the log refuses to sign until an operator has looked
   * (health DOWN). Empty while the log is healthy.
   */
  public Optional<String> halted() {
    return Optional.ofNullable(halted);
  }

  private volatile String halted;

  private AuditException halt(String why) {
    halted = why;
    log.error("event=audit_inconsistent reason=\"{}\" action=publication_stopped", why);
    return new AuditException(Code.UNAVAILABLE, why);
  }

  /**
   * The size and root the stored note signs, its signature verified with one of this log's
   * checkpoint keys (the one that signed it, active or retired).
   */
  private Checkpoint signedCheckpoint(
      Connection c, LogStore.StoredCheckpoint stored, CheckpointKeys.Key active)
      throws SQLException {
    SignedNote note;
    try {
      note = SignedNote.parse(stored.note());
    } catch (RuntimeException e) {
      throw halt("the newest stored checkpoint is not a signed note");
    }
    // A note byte for byte the one this node signed or verified last, under the same active key,
    // needs no second signature check (at 4 rounds a second that check, rarely run and so never
    // compiled, cost 5-8% of a busy node's CPU); any other text is verified.
    Trusted known = trusted;
    boolean same =
        known != null
            && known.note().equals(stored.note())
            && known.activeKey().equals(active.verifierKey());
    if (!same && checkpointKeys.signerOf(c, note).isEmpty()) {
      throw halt("the newest stored checkpoint is not signed by this log's key");
    }
    Checkpoint cp = Checkpoint.parse(note.body());
    if (cp.size() != stored.size() || !sameRoot(cp.root(), stored.root())) {
      throw halt(
          "checkpoint row "
              + stored.size()
              + " does not match the note it stores: the checkpoint table was altered");
    }
    trusted = new Trusted(stored.note(), active.verifierKey());
    return cp;
  }

  /** The checkpoint note this node last signed or verified, and the active key at the time. */
  private record Trusted(String note, NoteVerifierKey activeKey) {}

  private volatile Trusted trusted;

  private boolean lock(Connection c) throws SQLException {
    // On H2 (embedded: one node) localLock serialises this process.
    return store.tryAdvisoryLock(c, LOCK_KEY);
  }

  SignedNote sign(Checkpoint cp) {
    return sign(checkpointKeys.active(), cp);
  }

  private SignedNote sign(CheckpointKeys.Key signer, Checkpoint cp) {
    byte[] sig = keys.sign(signer.ref(), SignatureAlgorithm.ED25519, cp.bodyBytes(), PURPOSE);
    return new SignedNote(
        cp.body(), List.of(new SignedNote.Line(origin(), signer.verifierKey().keyId(), sig)));
  }

  /** Whether {@code a} and {@code b} are the same root. */
  static boolean sameRoot(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }
}
