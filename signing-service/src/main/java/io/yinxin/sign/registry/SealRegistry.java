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
      if (grantees != null && grantees.stream().anyMatch(java.util.Objects::isNull)) {
        throw new SignException(Code.INVALID_REQUEST, "grantees: names, not null");
      }
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
    if (id == null || !id.matches(ID)) {
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

  /** Seals per page of {@link #page} and {@link #grantedTo}: 1 to this many. */
  public static final int MAX_PAGE = 1000;

  private static final String SUMMARY_COLUMNS =
      "s.id, s.name, s.sub_line, s.key_ref, s.algorithm, s.chain_pem, s.image IS NOT NULL,"
          + " s.status, s.created_at";

  /**
   * A page of seals, oldest first (creation time, then id), each without its image: a listing of
   * thousands of seals holds no appearance in memory (each up to {@link #MAX_IMAGE_BYTES}).
   *
   * @param after the last seal of the previous page; it must exist (seals are never deleted)
   * @param grantee only the seals this caller may use, when present
   * @param limit 1 to {@link #MAX_PAGE}
   * @throws SignException {@code INVALID_REQUEST} for an unknown {@code after} or a bad grantee
   */
  public List<SealSummary> page(Optional<String> after, Optional<String> grantee, int limit) {
    checkLimit(limit);
    grantee.ifPresent(SealRegistry::checkGrantee);
    StringBuilder sql = new StringBuilder("SELECT " + SUMMARY_COLUMNS + " FROM sign.seals s");
    List<Object> args = new ArrayList<>();
    if (after.isPresent()) {
      sql.append(
          " JOIN sign.seals a ON a.id = ? WHERE (s.created_at > a.created_at"
              + " OR (s.created_at = a.created_at AND s.id > a.id))");
      args.add(knownId(after.get()));
    } else {
      sql.append(" WHERE 1 = 1");
    }
    grantee.ifPresent(
        g -> {
          sql.append(
              " AND EXISTS (SELECT 1 FROM sign.seal_grants g WHERE g.seal_id = s.id"
                  + " AND g.grantee = ?)");
          args.add(g);
        });
    sql.append(" ORDER BY s.created_at, s.id LIMIT ?");
    args.add(limit);
    return summaries(sql.toString(), args);
  }

  /**
   * A page of the seals granted to any of {@code names} (a caller's subject and client), in id
   * order, each without its image.
   *
   * @param afterId only seals whose id sorts after this one
   * @param limit 1 to {@link #MAX_PAGE}
   */
  public List<SealSummary> grantedTo(List<String> names, Optional<String> afterId, int limit) {
    checkLimit(limit);
    if (names.isEmpty()) {
      return List.of();
    }
    List<Object> args = new ArrayList<>(names);
    String marks = String.join(", ", java.util.Collections.nCopies(names.size(), "?"));
    String sql =
        "SELECT "
            + SUMMARY_COLUMNS
            + " FROM sign.seals s WHERE EXISTS (SELECT 1 FROM sign.seal_grants g"
            + " WHERE g.seal_id = s.id AND g.grantee IN ("
            + marks
            + "))"
            + (afterId.isPresent() ? " AND s.id > ?" : "")
            + " ORDER BY s.id LIMIT ?";
    afterId.ifPresent(args::add);
    args.add(limit);
    return summaries(sql, args);
  }

  /** One seal as a listing shows it. */
  public Optional<SealSummary> summary(String id) {
    if (id == null || !id.matches(ID)) {
      return Optional.empty();
    }
    List<SealSummary> one =
        summaries("SELECT " + SUMMARY_COLUMNS + " FROM sign.seals s WHERE s.id = ?", List.of(id));
    return one.stream().findFirst();
  }

  private static final String ID = "seal-[0-9a-f]{20}";

  private static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new SignException(Code.INVALID_REQUEST, "limit: 1 to " + MAX_PAGE);
    }
  }

  private String knownId(String id) {
    if (!id.matches(ID) || summary(id).isEmpty()) {
      throw new SignException(Code.INVALID_REQUEST, "after: the id of a listed seal");
    }
    return id;
  }

  /** The rows of a summary query, and the grantees of all of them in one more query. */
  private List<SealSummary> summaries(String sql, List<Object> args) {
    record Row(
        String id,
        String name,
        String subLine,
        String keyRef,
        String algorithm,
        String pem,
        boolean image,
        boolean active,
        java.time.Instant created) {}
    List<Row> rows = new ArrayList<>();
    Map<String, List<String>> grantees = new java.util.HashMap<>();
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.size(); i++) {
          ps.setObject(i + 1, args.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Row(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getString(5),
                    rs.getString(6),
                    rs.getBoolean(7),
                    "active".equals(rs.getString(8)),
                    rs.getTimestamp(9).toInstant()));
          }
        }
      }
      if (!rows.isEmpty()) {
        String marks = String.join(", ", java.util.Collections.nCopies(rows.size(), "?"));
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT seal_id, grantee FROM sign.seal_grants WHERE seal_id IN ("
                    + marks
                    + ") ORDER BY seal_id, grantee")) {
          for (int i = 0; i < rows.size(); i++) {
            ps.setString(i + 1, rows.get(i).id());
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              grantees
                  .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                  .add(rs.getString(2));
            }
          }
        }
      }
    } catch (SQLException e) {
      throw unavailable(e);
    }
    List<SealSummary> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(
          new SealSummary(
              r.id(),
              r.name(),
              r.subLine(),
              KeyRef.parse(r.keyRef()),
              SignatureAlgorithm.valueOf(r.algorithm()),
              chain(r.id(), r.pem()),
              r.image(),
              r.active(),
              r.created(),
              grantees.getOrDefault(r.id(), List.of())));
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

    /** About what the entry holds on the heap: the PEM (two bytes a char), its image, the rest. */
    long weight() {
      return 2L * chainPem.length() + (image == null ? 0 : image.length) + 4096;
    }
  }

  /** At most this many seals are kept parsed ... */
  static final int PARSED_MAX = 4096;

  /**
   * ... and at most this much of them: 4,096 seals with an uploaded image each (up to {@link
   * #MAX_IMAGE_BYTES}) would otherwise hold 2 GB.
   */
  static final long PARSED_MAX_WEIGHT = 64L * 1024 * 1024;

  /**
   * The kept seals, least recently used first; over either bound, the first goes, one at a time.
   */
  private final java.util.LinkedHashMap<String, Parsed> parsed =
      new java.util.LinkedHashMap<>(64, 0.75f, true);

  private long parsedWeight;

  private synchronized Parsed kept(String id) {
    return parsed.get(id);
  }

  private synchronized void keep(String id, Parsed p) {
    Parsed old = parsed.put(id, p);
    parsedWeight += p.weight() - (old == null ? 0 : old.weight());
    var eldest = parsed.entrySet().iterator();
    while ((parsed.size() > PARSED_MAX || parsedWeight > PARSED_MAX_WEIGHT) && eldest.hasNext()) {
      Parsed gone = eldest.next().getValue();
      eldest.remove();
      parsedWeight -= gone.weight();
    }
  }

  /** What the cache holds: seals and their weight in bytes (for tests). */
  synchronized long[] keptSize() {
    return new long[] {parsed.size(), parsedWeight};
  }

  /** A listed seal's chain: the kept one when its PEM is the same, else parsed (and not kept). */
  private List<X509CertificateHolder> chain(String id, String pem) {
    Parsed p = kept(id);
    return p != null && p.chainPem().equals(pem) ? p.chain() : parseChain(pem);
  }

  private Seal row(ResultSet rs) throws SQLException {
    String id = rs.getString(1);
    String name = rs.getString(2);
    String subLine = rs.getString(3);
    String keyRef = rs.getString(4);
    String algorithm = rs.getString(5);
    String pem = rs.getString(6);
    byte[] image = rs.getBytes(7);
    Parsed p = kept(id);
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
      keep(id, p);
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
