package io.yinxin.sso.token;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotation of the token signing keys with overlap, shared by every node through {@code
 * sso.signing_keys}: a rotation creates a new ES256 and RS256 key in the backend, makes them the
 * active ones and retires the old ones, which stay in the JWK set for {@link #OVERLAP} — longer
 * than any token they signed lives (access tokens at most 24 hours, ID tokens 30 minutes) — so no
 * token stops verifying before it expires. The rotation and its {@code CONFIG_CHANGED} event are
 * one transaction. Every node reads the table every 30 seconds, and at once when asked for a key ID
 * it does not know (a token another node signed with a key this one has not loaded yet).
 */
public final class KeyRotation implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeyRotation.class);

  /** How long a retired key stays published. */
  public static final Duration OVERLAP = Duration.ofHours(25);

  private static final Duration MISS_REFRESH = Duration.ofSeconds(5);
  private static final DateTimeFormatter LABEL_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

  /** A key as the admin API lists it. */
  public record Listed(
      String keyId, String algorithm, String ref, String state, Instant publishUntil) {}

  private final DataSource dataSource;
  private final KeyService keyService;
  private final SigningKeys keys;
  private final AuditOutbox audit;
  private final Clock clock;
  private final Map<KeyRef, SigningKeys.SigningKey> described = new ConcurrentHashMap<>();
  private final ScheduledExecutorService refresher;
  private volatile Instant lastMissRefresh = Instant.EPOCH;

  /**
   * @param configured the keys that sign when the table is still empty (first start)
   */
  public KeyRotation(
      DataSource dataSource,
      KeyService keyService,
      SigningKeys keys,
      List<KeyRef> configured,
      AuditOutbox audit,
      Clock clock) {
    this.dataSource = dataSource;
    this.keyService = keyService;
    this.keys = keys;
    this.audit = audit;
    this.clock = clock;
    seed(configured);
    refresh();
    refresher = io.yinxin.hsm.Schedulers.daemon("sso-signing-keys");
    refresher.scheduleWithFixedDelay(this::refreshQuietly, 30, 30, TimeUnit.SECONDS);
  }

  private void seed(List<KeyRef> configured) {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM sso.signing_keys");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getLong(1) > 0) {
          return;
        }
      }
      for (KeyRef ref : configured) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO sso.signing_keys (key_ref, state, created_at) VALUES (?, 'active',"
                    + " ?)")) {
          ps.setString(1, ref.toString());
          ps.setTimestamp(2, Timestamp.from(clock.instant()));
          ps.executeUpdate();
        } catch (SQLException e) {
          if (!"23505".equals(e.getSQLState())) {
            throw e; // another node seeded the same key at the same time: fine
          }
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the signing keys", e);
    }
  }

  /** Reads the table: which keys sign, which are published. */
  public synchronized void refresh() {
    List<SigningKeys.SigningKey> signing = new ArrayList<>();
    List<SigningKeys.SigningKey> published = new ArrayList<>();
    Instant now = clock.instant();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_ref, state, publish_until FROM sso.signing_keys ORDER BY created_at"
                    + " DESC, key_ref");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        KeyRef ref = KeyRef.parse(rs.getString(1));
        boolean active = "active".equals(rs.getString(2));
        Timestamp until = rs.getTimestamp(3);
        if (!active && (until == null || !until.toInstant().isAfter(now))) {
          continue;
        }
        SigningKeys.SigningKey key =
            described.computeIfAbsent(ref, r -> SigningKeys.describe(keyService, r));
        published.add(key);
        if (active) {
          signing.add(key);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the signing keys", e);
    }
    if (!signing.isEmpty()) {
      keys.replace(signing, published);
    }
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      log.warn("event=sso_signing_keys_refresh_failed error={}", e.getClass().getSimpleName());
    }
  }

  /** Reads the table again, at most every five seconds, when a key ID is not known here. */
  public void unknownKeyId() {
    Instant now = clock.instant();
    if (now.isAfter(lastMissRefresh.plus(MISS_REFRESH))) {
      lastMissRefresh = now;
      refreshQuietly();
    }
  }

  /**
   * Creates new ES256 and RS256 keys in the backend of the current ones, makes them the active keys
   * and retires the old ones (published for {@link #OVERLAP} more).
   *
   * @return the new keys' IDs
   */
  public List<String> rotate(String actor) {
    KeyRef.Scheme scheme = keys.all().get(0).ref().scheme();
    String stamp = LABEL_TIME.format(clock.instant());
    List<KeyRef> fresh = new ArrayList<>();
    for (var spec : List.of(KeySpec.EC_P256, KeySpec.RSA_3072)) {
      String label =
          keyService.freeLabel(
              scheme, (spec == KeySpec.EC_P256 ? "sso-es256-" : "sso-rs256-") + stamp);
      fresh.add(keyService.generate(scheme, spec, label).ref());
    }
    Instant now = clock.instant();
    try {
      audit.commit(
          dataSource,
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE sso.signing_keys SET state = 'retired', retired_at = ?, publish_until"
                        + " = ? WHERE state = 'active'")) {
              ps.setTimestamp(1, Timestamp.from(now));
              ps.setTimestamp(2, Timestamp.from(now.plus(OVERLAP)));
              ps.executeUpdate();
            }
            for (KeyRef ref : fresh) {
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "INSERT INTO sso.signing_keys (key_ref, state, created_at) VALUES (?,"
                          + " 'active', ?)")) {
                ps.setString(1, ref.toString());
                ps.setTimestamp(2, Timestamp.from(now));
                ps.executeUpdate();
              }
            }
            Map<String, String> details = new LinkedHashMap<>();
            details.put("change", "signing_keys_rotated");
            details.put("newKeys", String.join(" ", fresh.stream().map(KeyRef::toString).toList()));
            details.put("retiredPublishedUntil", now.plus(OVERLAP).toString());
            return audit.record(
                c, AuditEvent.of(EventType.CONFIG_CHANGED, actor, "sso/signing-keys", details));
          });
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "key store unavailable", e);
    }
    refresh();
    List<String> kids = new ArrayList<>();
    for (KeyRef ref : fresh) {
      kids.add(described.get(ref).keyId());
    }
    log.info("event=sso_signing_keys_rotated keys={}", kids);
    return kids;
  }

  /** Every key of the table, newest first. */
  public List<Listed> list() {
    List<Listed> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT key_ref, state, publish_until FROM sso.signing_keys ORDER BY created_at"
                    + " DESC, key_ref");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        KeyRef ref = KeyRef.parse(rs.getString(1));
        SigningKeys.SigningKey k =
            described.computeIfAbsent(ref, r -> SigningKeys.describe(keyService, r));
        Timestamp until = rs.getTimestamp(3);
        out.add(
            new Listed(
                k.keyId(),
                k.jwsAlgorithm().getName(),
                ref.toString(),
                rs.getString(2),
                until == null ? null : until.toInstant()));
      }
    } catch (SQLException e) {
      throw new AuditException(AuditException.Code.UNAVAILABLE, "key store unavailable", e);
    }
    return out;
  }

  @Override
  public void close() {
    refresher.shutdownNow();
  }
}
