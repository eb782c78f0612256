package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.note.Ed25519Keys;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's checkpoint keys over time ({@code audit.checkpoint_keys}): exactly one active key signs
 * new checkpoints; a rotation (the emergency procedure for a compromised checkpoint key) makes a
 * new Ed25519 key in the same backend, retires the old one and records from when the old one's
 * signatures are distrusted. Every key stays listed, so every checkpoint ever published stays
 * verifiable with the key that signed it, and the new key's first checkpoint covers the whole tree,
 * provably consistent with every earlier one.
 */
public final class CheckpointKeys {
  private static final Logger log = LoggerFactory.getLogger(CheckpointKeys.class);

  /**
   * One key.
   *
   * @param verifierKey its note verifier key (what verifiers are given)
   * @param ref where it lives in the key backend
   * @param firstSize the tree size when it became active
   * @param activatedAt when it became active
   * @param retiredAt when it stopped signing (empty for the active key)
   * @param distrustedFrom from when its signatures are not trusted (a compromised key)
   */
  public record Key(
      NoteVerifierKey verifierKey,
      KeyRef ref,
      long firstSize,
      Instant activatedAt,
      Optional<Instant> retiredAt,
      Optional<Instant> distrustedFrom) {
    public boolean active() {
      return retiredAt.isEmpty();
    }
  }

  private final LogStore store;
  private final KeyService keys;
  private final String origin;
  private volatile Key active;

  /**
   * Loads the keys; on a log that has none yet, records {@code configured} as the first.
   *
   * @param configured {@code yinxin.audit.checkpoint-key}: used until a rotation replaces it
   */
  public CheckpointKeys(LogStore store, KeyService keys, KeyRef configured, String origin) {
    this.store = store;
    this.keys = keys;
    this.origin = origin;
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        if (all(c).isEmpty()) {
          insert(c, verifierKey(configured), configured, 0, Instant.now());
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
    refresh();
  }

  /** The key that signs new checkpoints, as this node last read it. */
  public Key active() {
    return active;
  }

  /** Whether {@code ref} is the active checkpoint key (whose signatures are their own evidence). */
  public boolean isActive(KeyRef ref) {
    Key a = active;
    return a != null && a.ref().equals(ref);
  }

  /** Reads the active key again (another node may have rotated it); returns it. */
  public Key refresh() {
    try (Connection c = store.connection()) {
      return refresh(c);
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  Key refresh(Connection c) throws SQLException {
    Key a =
        all(c).stream()
            .filter(Key::active)
            .findFirst()
            .orElseThrow(() -> new AuditException(Code.UNAVAILABLE, "no active checkpoint key"));
    if (active != null && !active.verifierKey().equals(a.verifierKey())) {
      log.warn("event=checkpoint_key_switched key={}", a.verifierKey());
    }
    active = a;
    return a;
  }

  /** Every key, oldest first. */
  public List<Key> all() {
    try (Connection c = store.connection()) {
      return all(c);
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }

  /** The key whose signature {@code note} carries and that verifies it, if any. */
  public Optional<Key> signerOf(Connection c, SignedNote note) throws SQLException {
    for (Key k : all(c)) {
      if (note.verifiedBy(k.verifierKey())) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /**
   * Makes a new checkpoint key in the active key's backend and makes it the active key; the old one
   * is retired now and, for a compromise, distrusted from {@code distrustedFrom}.
   *
   * @return the new key
   */
  public Key rotate(Optional<Instant> distrustedFromGiven) {
    Instant now = Instant.now();
    Optional<Instant> distrustedFrom =
        distrustedFromGiven.map(t -> t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    if (distrustedFrom.isPresent() && distrustedFrom.get().isAfter(now)) {
      throw new AuditException(Code.INVALID_REQUEST, "distrustedFrom must not be in the future");
    }
    Key old = refresh();
    String label =
        keys.freeLabel(
            old.ref().scheme(),
            old.ref().label().replaceFirst("-\\d{14}(-\\d+)?$", "")
                + "-"
                + DateTimeFormatter.ofPattern("yyyyMMddHHmmss")
                    .withZone(ZoneOffset.UTC)
                    .format(now));
    KeyRef ref = keys.generate(old.ref().scheme(), KeySpec.ED25519, label).ref();
    NoteVerifierKey vkey = verifierKey(ref);
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps =
            c.prepareStatement(
                "UPDATE audit.checkpoint_keys SET retired_at = ?, distrusted_from = ?"
                    + " WHERE vkey = ? AND retired_at IS NULL")) {
          ps.setTimestamp(1, Timestamp.from(now));
          ps.setTimestamp(2, distrustedFrom.map(Timestamp::from).orElse(null));
          ps.setString(3, old.verifierKey().toString());
          if (ps.executeUpdate() != 1) {
            throw new AuditException(Code.UNAVAILABLE, "the checkpoint key changed meanwhile");
          }
        }
        insert(c, vkey, ref, store.size(c), now);
        store.commitDurably(c);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
    log.warn(
        "event=checkpoint_key_rotated old={} new={} distrusted_from={}",
        old.verifierKey(),
        vkey,
        distrustedFrom.map(Instant::toString).orElse("-"));
    return refresh();
  }

  private NoteVerifierKey verifierKey(KeyRef ref) {
    return new NoteVerifierKey(
        origin, NoteVerifierKey.ED25519, Ed25519Keys.raw(keys.publicKey(ref)));
  }

  private static void insert(
      Connection c, NoteVerifierKey vkey, KeyRef ref, long firstSize, Instant at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit.checkpoint_keys (vkey, key_ref, first_size, activated_at)"
                + " VALUES (?, ?, ?, ?)")) {
      ps.setString(1, vkey.toString());
      ps.setString(2, ref.toString());
      ps.setLong(3, firstSize);
      ps.setTimestamp(4, Timestamp.from(at));
      ps.executeUpdate();
    }
  }

  private static List<Key> all(Connection c) throws SQLException {
    List<Key> out = new ArrayList<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT vkey, key_ref, first_size, activated_at, retired_at, distrusted_from"
                    + " FROM audit.checkpoint_keys ORDER BY activated_at, first_size");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Key(
                NoteVerifierKey.parse(rs.getString(1)),
                KeyRef.parse(rs.getString(2)),
                rs.getLong(3),
                rs.getTimestamp(4).toInstant(),
                Optional.ofNullable(rs.getTimestamp(5)).map(Timestamp::toInstant),
                Optional.ofNullable(rs.getTimestamp(6)).map(Timestamp::toInstant)));
      }
    }
    return out;
  }
}
