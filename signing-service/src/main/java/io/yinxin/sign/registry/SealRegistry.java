package io.yinxin.sign.registry;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditOutbox;
import io.yinxin.audit.EventType;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.pades.SealIdentity;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * The seal registry in schema {@code sign}: seals and who may use them. Every change is an audit
 * event ({@code CONFIG_CHANGED}) written in the same transaction as the change (the audit outbox)
 * and durable before the caller is answered.
 */
public final class SealRegistry {
  /** Largest uploaded appearance image. */
  public static final int MAX_IMAGE_BYTES = 512 * 1024;

  private final DataSource dataSource;
  private final KeyService keys;
  private final AuditOutbox audit;
  private final Clock clock;

  public SealRegistry(DataSource dataSource, KeyService keys, AuditOutbox audit, Clock clock) {
    this.dataSource = dataSource;
    this.keys = keys;
    this.audit = audit;
    this.clock = clock;
  }

  /**
   * What a new seal is made of.
   *
   * @param chainPem the seal certificate (for {@code key}) and then its issuers, PEM
   */
  public record NewSeal(
      String name,
      String subLine,
      String key,
      String chainPem,
      Optional<byte[]> image,
      List<String> grantees) {
    public NewSeal {
      subLine = subLine == null ? "" : subLine;
      image = image == null ? Optional.empty() : image;
      grantees = grantees == null ? List.of() : List.copyOf(grantees);
    }
  }

  /** Registers a seal after checking that its certificate is for its key and fit for sealing. */
  public Seal create(String actor, NewSeal n) {
    checkText("name", n.name(), 1, 40);
    checkText("subLine", n.subLine(), 0, 16);
    n.grantees().forEach(SealRegistry::checkGrantee);
    KeyRef ref;
    try {
      ref = KeyRef.parse(n.key());
    } catch (RuntimeException e) {
      throw new SignException(Code.INVALID_REQUEST, "key is not a key URI");
    }
    KeyInfo info;
    try {
      info = keys.describe(ref);
    } catch (RuntimeException e) {
      throw new SignException(Code.INVALID_REQUEST, "no such key in the key backend");
    }
    SignatureAlgorithm alg = algorithm(info.spec());
    List<X509CertificateHolder> chain = parseChain(n.chainPem());
    X509CertificateHolder cert = chain.get(0);
    if (!Arrays.equals(info.publicKey().getEncoded(), spki(cert))) {
      throw new SignException(
          Code.INVALID_REQUEST, "the first certificate is not for the seal's key");
    }
    KeyUsage ku = KeyUsage.fromExtensions(cert.getExtensions());
    if (ku != null
        && !ku.hasUsages(KeyUsage.digitalSignature)
        && !ku.hasUsages(KeyUsage.nonRepudiation)) {
      throw new SignException(
          Code.INVALID_REQUEST, "the certificate's key usage does not allow signatures");
    }
    if (cert.getExtension(Extension.basicConstraints) != null
        && org.bouncycastle.asn1.x509.BasicConstraints.fromExtensions(cert.getExtensions())
            .isCA()) {
      throw new SignException(Code.INVALID_REQUEST, "a CA certificate is not a seal");
    }
    n.image().ifPresent(SealImage::check);
    String id = "seal-" + HexFormat.of().formatHex(randomBytes(10));
    Seal seal =
        new Seal(id, n.name(), n.subLine(), ref, alg, chain, n.image(), true, clock.instant());
    inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO sign.seals (id, name, sub_line, key_ref, algorithm, chain_pem,"
                      + " image, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)")) {
            ps.setString(1, id);
            ps.setString(2, seal.name());
            ps.setString(3, seal.subLine());
            ps.setString(4, ref.toString());
            ps.setString(5, alg.name());
            ps.setString(6, pem(chain));
            ps.setBytes(7, n.image().orElse(null));
            ps.setTimestamp(8, Timestamp.from(seal.createdAt()));
            ps.executeUpdate();
          }
          for (String g : n.grantees()) {
            insertGrant(c, id, g);
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  id,
                  Map.of(
                      "change", "seal_created",
                      "key", ref.toString(),
                      "certificateSerial", cert.getSerialNumber().toString(16),
                      "grantees", String.join(",", n.grantees()))));
        });
    return seal;
  }

  public Optional<Seal> find(String id) {
    if (id == null || !id.matches("seal-[0-9a-f]{20}")) {
      return Optional.empty();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, name, sub_line, key_ref, algorithm, chain_pem, image, status,"
                    + " created_at FROM sign.seals WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  public List<Seal> list() {
    List<Seal> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, name, sub_line, key_ref, algorithm, chain_pem, image, status,"
                    + " created_at FROM sign.seals ORDER BY created_at, id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(row(rs));
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
    return out;
  }

  /** The seals granted to any of {@code names} (a caller's subject and client), oldest first. */
  public List<Seal> grantedTo(List<String> names) {
    List<Seal> out = new ArrayList<>();
    if (names.isEmpty()) {
      return out;
    }
    String marks = String.join(", ", java.util.Collections.nCopies(names.size(), "?"));
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, name, sub_line, key_ref, algorithm, chain_pem, image, status,"
                    + " created_at FROM sign.seals s WHERE EXISTS (SELECT 1 FROM sign.seal_grants"
                    + " g WHERE g.seal_id = s.id AND g.grantee IN ("
                    + marks
                    + ")) ORDER BY created_at, id")) {
      for (int i = 0; i < names.size(); i++) {
        ps.setString(i + 1, names.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(row(rs));
        }
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
    return out;
  }

  /** The grantees of a seal. */
  public List<String> grantees(String id) {
    List<String> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT grantee FROM sign.seal_grants WHERE seal_id = ? ORDER BY grantee")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
    return out;
  }

  /** Whether {@code grantee} may use the seal. */
  public boolean granted(String id, String grantee) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT 1 FROM sign.seal_grants WHERE seal_id = ? AND grantee = ?")) {
      ps.setString(1, id);
      ps.setString(2, grantee);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /** Disables or re-enables a seal. */
  public void setActive(String actor, String id, boolean active) {
    require(id);
    inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("UPDATE sign.seals SET status = ? WHERE id = ?")) {
            ps.setString(1, active ? "active" : "disabled");
            ps.setString(2, id);
            ps.executeUpdate();
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  id,
                  Map.of("change", active ? "seal_enabled" : "seal_disabled")));
        });
  }

  /** Lets {@code grantee} use the seal (idempotent). */
  public void grant(String actor, String id, String grantee) {
    checkGrantee(grantee);
    require(id);
    inTransaction(
        c -> {
          if (!insertGrant(c, id, grantee)) {
            return null;
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  id,
                  Map.of("change", "seal_granted", "grantee", grantee)));
        });
  }

  /** Withdraws {@code grantee}'s use of the seal (idempotent). */
  public void withdraw(String actor, String id, String grantee) {
    checkGrantee(grantee);
    require(id);
    inTransaction(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM sign.seal_grants WHERE seal_id = ? AND grantee = ?")) {
            ps.setString(1, id);
            ps.setString(2, grantee);
            if (ps.executeUpdate() == 0) {
              return null;
            }
          }
          return audit.record(
              c,
              AuditEvent.of(
                  EventType.CONFIG_CHANGED,
                  actor,
                  id,
                  Map.of("change", "seal_grant_withdrawn", "grantee", grantee)));
        });
  }

  private void require(String id) {
    if (find(id).isEmpty()) {
      throw new SignException(Code.NOT_FOUND, "no such seal");
    }
  }

  private static boolean insertGrant(Connection c, String id, String grantee) throws SQLException {
    try (PreparedStatement q =
        c.prepareStatement("SELECT 1 FROM sign.seal_grants WHERE seal_id = ? AND grantee = ?")) {
      q.setString(1, id);
      q.setString(2, grantee);
      try (ResultSet rs = q.executeQuery()) {
        if (rs.next()) {
          return false;
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO sign.seal_grants (seal_id, grantee) VALUES (?, ?)")) {
      ps.setString(1, id);
      ps.setString(2, grantee);
      ps.executeUpdate();
    }
    return true;
  }

  /** A change and its audit event in one transaction; the caller waits for the entry. */
  private void inTransaction(AuditOutbox.Change change) {
    try {
      audit.commit(dataSource, change);
    } catch (SQLException e) {
      throw unavailable(e);
    }
  }

  /**
   * A seal's row as last read: everything but its status never changes once created, so its parsed
   * chain and {@link SealIdentity} are kept, and a seal request parses no PEM and encodes no
   * certificate. Every read still compares the row's columns with the kept ones.
   */
  private record Parsed(
      String name,
      String subLine,
      String keyRef,
      String algorithm,
      String chainPem,
      byte[] image,
      List<X509CertificateHolder> chain,
      SealIdentity identity) {
    boolean sameAs(
        String name, String subLine, String keyRef, String algorithm, String pem, byte[] image) {
      return this.name.equals(name)
          && java.util.Objects.equals(this.subLine, subLine)
          && this.keyRef.equals(keyRef)
          && this.algorithm.equals(algorithm)
          && chainPem.equals(pem)
          && Arrays.equals(this.image, image);
    }
  }

  private static final int PARSED_MAX = 4096;

  private final java.util.concurrent.ConcurrentHashMap<String, Parsed> parsed =
      new java.util.concurrent.ConcurrentHashMap<>();

  private Seal row(ResultSet rs) throws SQLException {
    String id = rs.getString(1);
    String name = rs.getString(2);
    String subLine = rs.getString(3);
    String keyRef = rs.getString(4);
    String algorithm = rs.getString(5);
    String pem = rs.getString(6);
    byte[] image = rs.getBytes(7);
    Parsed p = parsed.get(id);
    if (p == null || !p.sameAs(name, subLine, keyRef, algorithm, pem, image)) {
      KeyRef key = KeyRef.parse(keyRef);
      SignatureAlgorithm alg = SignatureAlgorithm.valueOf(algorithm);
      List<X509CertificateHolder> chain = parseChain(pem);
      p =
          new Parsed(
              name,
              subLine,
              keyRef,
              algorithm,
              pem,
              image,
              chain,
              new SealIdentity(id, key, alg, chain, name, subLine, Optional.ofNullable(image)));
      if (parsed.size() >= PARSED_MAX) {
        parsed.clear();
      }
      parsed.put(id, p);
    }
    SealIdentity identity = p.identity();
    return new Seal(
        id,
        name,
        subLine,
        identity.key(),
        identity.algorithm(),
        p.chain(),
        identity.image(),
        "active".equals(rs.getString(8)),
        rs.getTimestamp(9).toInstant(),
        identity);
  }

  static SignatureAlgorithm algorithm(KeySpec spec) {
    return switch (spec) {
      case EC_P256 -> SignatureAlgorithm.ECDSA_SHA256;
      case EC_P384 -> SignatureAlgorithm.ECDSA_SHA384;
      case RSA_3072 -> SignatureAlgorithm.RSA_PKCS1_SHA256;
      case SM2 -> SignatureAlgorithm.SM3_WITH_SM2;
      default ->
          throw new SignException(
              Code.INVALID_REQUEST, "a seal key is EC P-256, P-384, RSA-3072 or SM2");
    };
  }

  static List<X509CertificateHolder> parseChain(String pem) {
    if (pem == null || pem.length() > 60_000) {
      throw new SignException(Code.INVALID_REQUEST, "certificateChain must be PEM, at most 60 KB");
    }
    List<X509CertificateHolder> out = new ArrayList<>();
    try (PEMParser p = new PEMParser(new StringReader(pem))) {
      for (Object o; (o = p.readObject()) != null; ) {
        if (!(o instanceof X509CertificateHolder h)) {
          throw new SignException(Code.INVALID_REQUEST, "certificateChain holds something else");
        }
        out.add(h);
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof SignException s) {
        throw s;
      }
      throw new SignException(Code.INVALID_REQUEST, "certificateChain is not PEM certificates");
    }
    if (out.isEmpty() || out.size() > 10) {
      throw new SignException(Code.INVALID_REQUEST, "certificateChain holds 1-10 certificates");
    }
    return out;
  }

  static String pem(List<X509CertificateHolder> chain) {
    StringWriter w = new StringWriter();
    try (PemWriter pw = new PemWriter(w)) {
      for (X509CertificateHolder h : chain) {
        pw.writeObject(new JcaMiscPEMGenerator(h));
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }

  private static byte[] spki(X509CertificateHolder cert) {
    try {
      return cert.getSubjectPublicKeyInfo().getEncoded("DER");
    } catch (IOException e) {
      throw new SignException(Code.INVALID_REQUEST, "unreadable certificate");
    }
  }

  /**
   * Character types a seal's drawn text never holds: a bidirectional override (U+202E) would draw
   * "公司某" for "某公司" and a zero-width or private-use character would make two seals that look alike
   * differ, as the CA refuses them in names.
   */
  private static final java.util.Set<Integer> INVISIBLE =
      java.util.Set.of(
          (int) Character.FORMAT,
          (int) Character.PRIVATE_USE,
          (int) Character.SURROGATE,
          (int) Character.UNASSIGNED,
          (int) Character.LINE_SEPARATOR,
          (int) Character.PARAGRAPH_SEPARATOR);

  private static void checkText(String field, String v, int min, int max) {
    if (v == null
        || v.codePointCount(0, v.length()) < min
        || v.codePointCount(0, v.length()) > max
        || v.codePoints()
            .anyMatch(cp -> Character.isISOControl(cp) || INVISIBLE.contains(Character.getType(cp)))
        || !v.equals(v.strip())) {
      throw new SignException(
          Code.INVALID_REQUEST,
          field
              + " must be "
              + min
              + "-"
              + max
              + " characters, no control or invisible characters");
    }
    if (!java.text.Normalizer.isNormalized(v, java.text.Normalizer.Form.NFC)) {
      throw new SignException(
          Code.INVALID_REQUEST, field + " must be in Unicode normalization form NFC");
    }
  }

  static void checkGrantee(String g) {
    if (g == null || !g.matches("[A-Za-z0-9._@:|-]{1,256}")) {
      throw new SignException(
          Code.INVALID_REQUEST, "a grantee is 1-256 characters of A-Z a-z 0-9 . _ @ : | -");
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    io.yinxin.hsm.Randomness.current().nextBytes(b);
    return b;
  }

  private static SignException unavailable(SQLException e) {
    return new SignException(Code.UNAVAILABLE, "seal registry unavailable: " + e.getSQLState(), e);
  }
}
