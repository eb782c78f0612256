package io.yinxin.ca.acme;

import io.yinxin.ca.CaException;
import io.yinxin.ca.store.CaStore;
import io.yinxin.hsm.Randomness;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

/** SQL for the ACME tables of schema {@code ca}. State lives here, so any node can answer. */
final class AcmeStore {
  private final CaStore store;

  AcmeStore(CaStore store) {
    this.store = store;
  }

  record Account(String id, String thumbprint, String jwk, String status, String contact) {}

  record Order(
      String id,
      String accountId,
      String status,
      List<String> identifiers,
      Instant expires,
      Optional<String> error,
      Optional<String> certIssuer,
      Optional<String> certSerial,
      Optional<String> replaces) {}

  record Authz(
      String id,
      String orderId,
      String accountId,
      String identifier,
      String status,
      String token,
      String challengeStatus,
      Optional<Instant> validatedAt,
      Optional<String> error,
      Instant expires) {}

  // ---- nonces

  /**
   * Records a nonce as used.
   *
   * @return false if it was used before, on any node
   */
  boolean markNonceUsed(String nonce, Instant expires) {
    try {
      store.inTransaction(
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO ca.acme_nonces (nonce, expires_at) VALUES (?, ?)")) {
              ps.setString(1, nonce);
              ps.setObject(2, odt(expires));
              ps.executeUpdate();
            }
            return null;
          });
      return true;
    } catch (CaException e) {
      if (e.code() == CaException.Code.CONFLICT) {
        return false;
      }
      throw e;
    }
  }

  /** Forgets used nonces that expired before {@code before}; they fail the expiry check anyway. */
  void purgeNonces(Instant before) {
    store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM ca.acme_nonces WHERE expires_at <= ?")) {
            ps.setObject(1, odt(before));
            ps.executeUpdate();
          }
          return null;
        });
  }

  /**
   * Deletes the orders that expired before {@code before} without issuing a certificate (pending,
   * ready or invalid; a valid order stays, for its certificate URL, and one being finalized stays),
   * with their authorizations; how many orders. An order costs its client nothing but a signed
   * request, so without this every abandoned order of every account stayed for ever (Boulder purges
   * expired authorizations likewise). An expired order can no longer change, so the two deletes
   * need no lock.
   */
  int purgeExpiredOrders(Instant before) {
    return store.inTransaction(
        c -> {
          String expired =
              "SELECT id FROM ca.acme_orders WHERE expires_at < ? AND status IN ('pending',"
                  + " 'ready', 'invalid')";
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM ca.acme_authzs WHERE order_id IN (" + expired + ")")) {
            ps.setObject(1, odt(before));
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM ca.acme_replacements WHERE order_id IN (" + expired + ")")) {
            ps.setObject(1, odt(before));
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM ca.acme_orders WHERE expires_at < ? AND status IN ('pending',"
                      + " 'ready', 'invalid')")) {
            ps.setObject(1, odt(before));
            return ps.executeUpdate();
          }
        });
  }

  /**
   * The key every node authenticates nonces with: made by the first node that asks, then shared
   * through the database.
   */
  byte[] nonceKey() {
    for (int attempt = 0; attempt < 2; attempt++) {
      Optional<byte[]> existing =
          store.inTransaction(
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement("SELECT secret FROM ca.acme_secrets WHERE name = ?")) {
                  ps.setString(1, NONCE_KEY);
                  try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.<byte[]>empty();
                  }
                }
              });
      if (existing.isPresent()) {
        return existing.get();
      }
      byte[] fresh = new byte[32];
      Randomness.current().nextBytes(fresh);
      try {
        store.inTransaction(
            c -> {
              try (PreparedStatement ps =
                  c.prepareStatement("INSERT INTO ca.acme_secrets (name, secret) VALUES (?, ?)")) {
                ps.setString(1, NONCE_KEY);
                ps.setBytes(2, fresh);
                ps.executeUpdate();
              }
              return null;
            });
        return fresh;
      } catch (CaException e) {
        if (e.code() != CaException.Code.CONFLICT) {
          throw e;
        }
        // another node made it first: read theirs
      }
    }
    throw new IllegalStateException("the ACME nonce key could neither be read nor made");
  }

  private static final String NONCE_KEY = "nonce-hmac";

  /**
   * Orders left issuing and challenges left validating since before {@code before} by a process
   * that died: an order goes back to ready (finalize again), a challenge back to pending (respond
   * again). Issuing and validating take seconds, so only what is older than a few minutes is
   * touched, never work another node is still doing.
   *
   * @return how many orders and challenges were put back
   */
  int recoverInterrupted(Instant before) {
    return store.inTransaction(
        c -> {
          int n;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_orders SET status = 'ready', processing_since = NULL"
                      + " WHERE status = 'processing' AND processing_since < ?")) {
            ps.setObject(1, odt(before));
            n = ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_authzs SET challenge_status = 'pending', processing_since ="
                      + " NULL WHERE challenge_status = 'processing' AND status = 'pending' AND"
                      + " processing_since < ?")) {
            ps.setObject(1, odt(before));
            n += ps.executeUpdate();
          }
          return n;
        });
  }

  // ---- accounts

  Optional<Account> accountByThumbprint(String thumbprint) {
    return account("thumbprint", thumbprint);
  }

  Optional<Account> account(String id) {
    return account("id", id);
  }

  private Optional<Account> account(String column, String value) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, thumbprint, jwk, status, contact FROM ca.acme_accounts WHERE "
                      + column
                      + " = ?")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(
                      new Account(
                          rs.getString(1),
                          rs.getString(2),
                          rs.getString(3),
                          rs.getString(4),
                          rs.getString(5)))
                  : Optional.empty();
            }
          }
        });
  }

  /**
   * Stores a new account and, if an external account key bound it, spends that key in the same
   * transaction: refused ({@code unauthorized}) if the key was spent meanwhile, on any node, or
   * expired, and then no account is stored.
   */
  void insertAccount(Account a, Optional<String> eabKid) {
    store.inTransaction(
        c -> {
          if (eabKid.isPresent()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE ca.acme_eab_keys SET account_id = ?, used_at = ? WHERE kid = ? AND"
                        + " account_id IS NULL AND revoked_at IS NULL AND expires_at > ?")) {
              Instant now = Instant.now();
              ps.setString(1, a.id());
              ps.setObject(2, odt(now));
              ps.setString(3, eabKid.get());
              ps.setObject(4, odt(now));
              if (ps.executeUpdate() != 1) {
                throw AcmeProblem.unauthorized(
                    "the external account key is unknown, used or expired");
              }
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO ca.acme_accounts (id, thumbprint, jwk, status, contact, created_at,"
                      + " eab_kid) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, a.id());
            ps.setString(2, a.thumbprint());
            ps.setString(3, a.jwk());
            ps.setString(4, a.status());
            ps.setString(5, a.contact());
            ps.setObject(6, odt(Instant.now()));
            ps.setString(7, eabKid.orElse(null));
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** An external account key as operators see it: never its MAC key. */
  record EabKey(
      String kid,
      String label,
      String createdBy,
      Instant created,
      Instant expires,
      Optional<String> accountId,
      Optional<Instant> used,
      Optional<Instant> revoked) {}

  /** The external account keys, newest first, at most {@code limit}. */
  List<EabKey> eabKeys(int limit) {
    return store.inTransaction(
        c -> {
          List<EabKey> out = new java.util.ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT kid, label, created_by, created_at, expires_at, account_id, used_at,"
                      + " revoked_at FROM ca.acme_eab_keys ORDER BY created_at DESC, kid LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new EabKey(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getObject(4, OffsetDateTime.class).toInstant(),
                        rs.getObject(5, OffsetDateTime.class).toInstant(),
                        Optional.ofNullable(rs.getString(6)),
                        Optional.ofNullable(rs.getObject(7, OffsetDateTime.class))
                            .map(OffsetDateTime::toInstant),
                        Optional.ofNullable(rs.getObject(8, OffsetDateTime.class))
                            .map(OffsetDateTime::toInstant)));
              }
            }
          }
          return out;
        });
  }

  /** What taking back a key did: the account it had bound, now deactivated, if any. */
  record EabRevocation(boolean revokedNow, Optional<String> deactivatedAccount) {}

  /**
   * Takes back an external account key: it binds nothing more, and the account it bound, if any, is
   * deactivated, in one transaction with the evidence ({@code evidence}, given what was done). A
   * binding racing with it either committed first (its account is then deactivated here) or finds
   * the key revoked.
   *
   * @return empty if there is no such key
   */
  <T> Optional<T> revokeEabKey(
      String kid,
      String actor,
      java.util.function.BiFunction<Connection, EabRevocation, T> evidence) {
    return store.inTransaction(
        c -> {
          boolean now;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_eab_keys SET revoked_at = ?, revoked_by = ? WHERE kid = ? AND"
                      + " revoked_at IS NULL")) {
            ps.setObject(1, odt(Instant.now()));
            ps.setString(2, actor);
            ps.setString(3, kid);
            now = ps.executeUpdate() == 1;
          }
          Optional<String> account;
          try (PreparedStatement ps =
              c.prepareStatement("SELECT account_id FROM ca.acme_eab_keys WHERE kid = ?")) {
            ps.setString(1, kid);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.<T>empty();
              }
              account = Optional.ofNullable(rs.getString(1));
            }
          }
          Optional<String> deactivated = Optional.empty();
          if (account.isPresent()) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE ca.acme_accounts SET status = 'deactivated' WHERE id = ? AND"
                        + " status = 'valid'")) {
              ps.setString(1, account.get());
              if (ps.executeUpdate() == 1) {
                deactivated = account;
              }
            }
          }
          return Optional.of(evidence.apply(c, new EabRevocation(now, deactivated)));
        });
  }

  /** An external account key that may still bind an account: its MAC key. */
  Optional<byte[]> unusedEabKey(String kid) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT hmac_key FROM ca.acme_eab_keys WHERE kid = ? AND account_id IS NULL"
                      + " AND revoked_at IS NULL AND expires_at > ?")) {
            ps.setString(1, kid);
            ps.setObject(2, odt(Instant.now()));
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.<byte[]>empty();
            }
          }
        });
  }

  /**
   * Stores an external account key an operator asked for, with its evidence recorded in the same
   * transaction ({@code evidence}: the outbox); returns what the evidence returned.
   */
  <T> T insertEabKey(
      String kid,
      byte[] hmacKey,
      String label,
      String createdBy,
      Instant expires,
      CaStore.Tx<T> evidence) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO ca.acme_eab_keys (kid, hmac_key, label, created_by, created_at,"
                      + " expires_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, kid);
            ps.setBytes(2, hmacKey);
            ps.setString(3, label);
            ps.setString(4, createdBy);
            ps.setObject(5, odt(Instant.now()));
            ps.setObject(6, odt(expires));
            ps.executeUpdate();
          }
          return evidence.run(c);
        });
  }

  /**
   * Gives the account a new key, if its key is still the one with {@code oldThumbprint}.
   *
   * @return false if its key had changed meanwhile or another account holds the new key (the unique
   *     thumbprint decides between two nodes changing keys at once)
   */
  boolean replaceKey(String id, String oldThumbprint, String newThumbprint, String jwk) {
    try {
      return store.inTransaction(
          c -> {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE ca.acme_accounts SET thumbprint = ?, jwk = ? WHERE id = ? AND"
                        + " thumbprint = ?")) {
              ps.setString(1, newThumbprint);
              ps.setString(2, jwk);
              ps.setString(3, id);
              ps.setString(4, oldThumbprint);
              return ps.executeUpdate() == 1;
            }
          });
    } catch (CaException e) {
      if (e.code() == CaException.Code.CONFLICT) {
        return false;
      }
      throw e;
    }
  }

  void updateAccount(String id, String status, String contact) {
    store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_accounts SET status = ?, contact = ? WHERE id = ?")) {
            ps.setString(1, status);
            ps.setString(2, contact);
            ps.setString(3, id);
            ps.executeUpdate();
          }
          return null;
        });
  }

  // ---- orders and authorizations

  /**
   * Stores a new order with its authorizations and, if it replaces a certificate, takes that
   * certificate's replacement for it in the same transaction: refused ({@code alreadyReplaced},
   * 409) while another order that may still succeed holds it — one neither invalid nor expired. Two
   * nodes taking it at once meet on its primary key, and one is refused.
   */
  void insertOrder(Order o, List<Authz> authzs, Optional<AcmeRenewals.Replacing> replacing) {
    try {
      store.inTransaction(
          c -> {
            insertOrder(c, o, authzs);
            if (replacing.isPresent()) {
              replace(c, replacing.get(), o.id());
            }
            return null;
          });
    } catch (CaException e) {
      if (replacing.isPresent() && e.code() == CaException.Code.CONFLICT) {
        throw alreadyReplaced();
      }
      throw e;
    }
  }

  private static AcmeProblem alreadyReplaced() {
    return new AcmeProblem(
        "alreadyReplaced", 409, "another order replaces this certificate already");
  }

  private static void replace(Connection c, AcmeRenewals.Replacing r, String orderId)
      throws SQLException {
    String holder = null;
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT r.order_id, o.status, o.expires_at FROM ca.acme_replacements r LEFT JOIN"
                + " ca.acme_orders o ON o.id = r.order_id WHERE r.cert_issuer = ? AND"
                + " r.cert_serial = ?")) {
      ps.setString(1, r.issuer());
      ps.setString(2, r.serial());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          holder = rs.getString(1);
          String status = rs.getString(2);
          OffsetDateTime expires = rs.getObject(3, OffsetDateTime.class);
          boolean mayStillSucceed =
              status != null
                  && !status.equals("invalid")
                  && (status.equals("valid")
                      || status.equals("processing")
                      || expires.toInstant().isAfter(Instant.now()));
          if (mayStillSucceed) {
            throw alreadyReplaced();
          }
        }
      }
    }
    if (holder == null) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO ca.acme_replacements (cert_issuer, cert_serial, order_id)"
                  + " VALUES (?, ?, ?)")) {
        ps.setString(1, r.issuer());
        ps.setString(2, r.serial());
        ps.setString(3, orderId);
        ps.executeUpdate();
      }
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE ca.acme_replacements SET order_id = ? WHERE cert_issuer = ? AND"
                + " cert_serial = ? AND order_id = ?")) {
      ps.setString(1, orderId);
      ps.setString(2, r.issuer());
      ps.setString(3, r.serial());
      ps.setString(4, holder);
      if (ps.executeUpdate() != 1) {
        throw alreadyReplaced(); // another node's order took it meanwhile
      }
    }
  }

  private static void insertOrder(Connection c, Order o, List<Authz> authzs) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.acme_orders (id, account_id, status, identifiers, expires_at,"
                + " created_at, replaces) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, o.id());
      ps.setString(2, o.accountId());
      ps.setString(3, o.status());
      ps.setString(4, String.join(",", o.identifiers()));
      ps.setObject(5, odt(o.expires()));
      ps.setObject(6, odt(Instant.now()));
      ps.setString(7, o.replaces().orElse(null));
      ps.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.acme_authzs (id, order_id, account_id, identifier, status, token,"
                + " challenge_status, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (Authz a : authzs) {
        ps.setString(1, a.id());
        ps.setString(2, a.orderId());
        ps.setString(3, a.accountId());
        ps.setString(4, a.identifier());
        ps.setString(5, a.status());
        ps.setString(6, a.token());
        ps.setString(7, a.challengeStatus());
        ps.setObject(8, odt(a.expires()));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  Optional<Order> order(String id) {
    return store.inTransaction(c -> order(c, "id", id));
  }

  List<String> orderIdsOf(String accountId) {
    return store.list(
        "SELECT id FROM ca.acme_orders WHERE account_id = ? ORDER BY created_at DESC LIMIT 1000",
        accountId,
        rs -> rs.getString(1));
  }

  Optional<Order> orderForCertificate(String issuer, String serial) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id FROM ca.acme_orders WHERE cert_issuer = ? AND cert_serial = ?")) {
            ps.setString(1, issuer);
            ps.setString(2, serial);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? order(c, "id", rs.getString(1)) : Optional.<Order>empty();
            }
          }
        });
  }

  private static Optional<Order> order(Connection c, String column, String value)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, account_id, status, identifiers, expires_at, error, cert_issuer,"
                + " cert_serial, replaces FROM ca.acme_orders WHERE "
                + column
                + " = ?")) {
      ps.setString(1, value);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Order(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                List.of(rs.getString(4).split(",")),
                rs.getObject(5, OffsetDateTime.class).toInstant(),
                Optional.ofNullable(rs.getString(6)),
                Optional.ofNullable(rs.getString(7)),
                Optional.ofNullable(rs.getString(8)),
                Optional.ofNullable(rs.getString(9))));
      }
    }
  }

  /** Moves an order from one status to another; false if it was not in {@code from}. */
  boolean transitionOrder(String id, String from, String to, String error) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_orders SET status = ?, error = ?, processing_since = ?"
                      + " WHERE id = ? AND status = ?")) {
            ps.setString(1, to);
            ps.setString(2, error);
            ps.setObject(3, to.equals("processing") ? odt(Instant.now()) : null);
            ps.setString(4, id);
            ps.setString(5, from);
            return ps.executeUpdate() == 1;
          }
        });
  }

  void orderIssued(String id, String issuer, String serial) {
    store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_orders SET status = 'valid', cert_issuer = ?, cert_serial = ?"
                      + " WHERE id = ?")) {
            ps.setString(1, issuer);
            ps.setString(2, serial);
            ps.setString(3, id);
            ps.executeUpdate();
          }
          return null;
        });
  }

  List<Authz> authzsOfOrder(String orderId) {
    return store.list(
        AUTHZ_SELECT + " WHERE order_id = ? ORDER BY identifier", orderId, AcmeStore::authz);
  }

  Optional<Authz> authz(String id) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(AUTHZ_SELECT + " WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(authz(rs)) : Optional.<Authz>empty();
            }
          }
        });
  }

  /** Marks a pending challenge as processing; false if it was not pending (already started). */
  boolean startChallenge(String authzId) {
    return store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_authzs SET challenge_status = 'processing',"
                      + " processing_since = ? WHERE id = ? AND challenge_status = 'pending'"
                      + " AND status = 'pending'")) {
            ps.setObject(1, odt(Instant.now()));
            ps.setString(2, authzId);
            return ps.executeUpdate() == 1;
          }
        });
  }

  void finishChallenge(String authzId, boolean valid, String error) {
    store.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.acme_authzs SET challenge_status = ?, status = ?, validated_at = ?,"
                      + " error = ? WHERE id = ?")) {
            ps.setString(1, valid ? "valid" : "invalid");
            ps.setString(2, valid ? "valid" : "invalid");
            ps.setObject(3, odt(Instant.now()));
            ps.setString(4, error);
            ps.setString(5, authzId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  private static final String AUTHZ_SELECT =
      "SELECT id, order_id, account_id, identifier, status, token, challenge_status, validated_at,"
          + " error, expires_at FROM ca.acme_authzs";

  private static Authz authz(ResultSet rs) throws SQLException {
    OffsetDateTime validated = rs.getObject(8, OffsetDateTime.class);
    return new Authz(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        Optional.ofNullable(validated).map(OffsetDateTime::toInstant),
        Optional.ofNullable(rs.getString(9)),
        rs.getObject(10, OffsetDateTime.class).toInstant());
  }

  private static OffsetDateTime odt(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }
}
