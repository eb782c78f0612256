package io.yinxin.ca.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The CAs and the service certificates (OCSP signers, TSA) the system uses itself. */
public final class AuthorityStore {
  private final CaStore db;

  AuthorityStore(CaStore db) {
    this.db = db;
  }

  // ---- authorities

  /**
   * A CA as stored.
   *
   * @param name short name
   * @param parent its issuer, if any
   * @param keyRef key URI
   * @param signatureAlgorithm {@code SignatureAlgorithm} name
   * @param certificate DER
   */
  public record AuthorityRecord(
      String name,
      Optional<String> parent,
      String keyRef,
      String signatureAlgorithm,
      byte[] certificate) {}

  public List<AuthorityRecord> authorities() {
    return db.inTransaction(
        c -> {
          List<AuthorityRecord> out = new ArrayList<>();
          try (PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT name, parent, key_ref, sig_alg, certificate FROM ca.authorities"
                          + " ORDER BY created_at, name");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new AuthorityRecord(
                      rs.getString(1),
                      Optional.ofNullable(rs.getString(2)),
                      rs.getString(3),
                      rs.getString(4),
                      rs.getBytes(5)));
            }
          }
          return out;
        });
  }

  /** Inserts a CA and its certificate row; false if a CA of that name exists already. */
  public boolean insertAuthority(Connection c, AuthorityRecord a, CertificateRecord cert)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM ca.authorities WHERE name = ?")) {
      ps.setString(1, a.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return false;
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.authorities (name, parent, key_ref, sig_alg, certificate, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, a.name());
      ps.setString(2, a.parent().orElse(null));
      ps.setString(3, a.keyRef());
      ps.setString(4, a.signatureAlgorithm());
      ps.setBytes(5, a.certificate());
      ps.setObject(6, CaStore.odt(Instant.now()));
      ps.executeUpdate();
    }
    db.certificates().insertCertificate(c, cert);
    return true;
  }

  // ---- service certificates

  /**
   * A certificate the system uses itself, with its key.
   *
   * @param name e.g. {@code ocsp-citizen}, {@code tsa}
   */
  public record ServiceRecord(
      String name, String issuer, String serial, String keyRef, String signatureAlgorithm) {}

  public Optional<ServiceRecord> service(String name) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT name, issuer, serial, key_ref, sig_alg FROM ca.service_certificates"
                      + " WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(
                      new ServiceRecord(
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

  /** Records a service certificate (and its certificate row), replacing an older one. */
  public void putService(Connection c, ServiceRecord s, CertificateRecord cert)
      throws SQLException {
    db.certificates().insertCertificate(c, cert);
    try (PreparedStatement del =
        c.prepareStatement("DELETE FROM ca.service_certificates WHERE name = ?")) {
      del.setString(1, s.name());
      del.executeUpdate();
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO ca.service_certificates (name, issuer, serial, key_ref, sig_alg,"
                + " updated_at) VALUES (?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, s.name());
      ps.setString(2, s.issuer());
      ps.setString(3, s.serial());
      ps.setString(4, s.keyRef());
      ps.setString(5, s.signatureAlgorithm());
      ps.setObject(6, CaStore.odt(Instant.now()));
      ps.executeUpdate();
    }
  }

  /**
   * Claims the renewal of a service certificate for this node: true for exactly one of several
   * nodes asking at once, as long as the service still has {@code serial} and no other claim is
   * younger than ten minutes. Times are the database's, so node clocks do not matter.
   */
  public boolean claimServiceRenewal(String name, String serial) {
    return db.inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE ca.service_certificates SET updated_at = CURRENT_TIMESTAMP"
                      + " WHERE name = ? AND serial = ?"
                      + " AND updated_at < CURRENT_TIMESTAMP - INTERVAL '10' MINUTE")) {
            ps.setString(1, name);
            ps.setString(2, serial);
            return ps.executeUpdate() == 1;
          }
        });
  }
}
