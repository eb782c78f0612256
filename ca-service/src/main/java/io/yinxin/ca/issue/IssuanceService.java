package io.yinxin.ca.issue;

import io.yinxin.audit.AuditLog;
import io.yinxin.ca.CaException;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.profile.Profile;
import io.yinxin.ca.revoke.RevokedKeys;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.ca.store.CertificateWriter;
import io.yinxin.hsm.KeyService;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.bouncycastle.cert.X509CertificateHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues end-entity certificates: checks the request against its profile (proof of possession, key
 * type, names, identity numbers), signs with the issuing CA's key in its backend, stores the
 * certificate (group-committed with concurrent issuances) after its audit event is durable, and
 * only then answers.
 */
public final class IssuanceService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IssuanceService.class);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final KeyService keys;
  private final AuditLog audit;
  private final RevokedKeys revokedKeys;
  private final int partitionSize;
  private final CertificateWriter writer;
  private final java.util.List<java.util.function.BiConsumer<String, String>> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private long nextSlot;
  private long slotEnd;

  /**
   * A request to issue.
   *
   * @param profile profile name
   * @param csrPem PKCS#10 request in PEM
   * @param subject subject fields ({@code name}, {@code idNumber}, ...)
   * @param dns DNS names for the SAN
   * @param email e-mail addresses for the SAN
   */
  public record IssueRequest(
      String profile,
      String csrPem,
      Map<String, String> subject,
      List<String> dns,
      List<String> email) {
    public IssueRequest {
      subject = subject == null ? Map.of() : Map.copyOf(subject);
      dns = dns == null ? List.of() : List.copyOf(dns);
      email = email == null ? List.of() : List.copyOf(email);
    }
  }

  /**
   * An issued certificate.
   *
   * @param record as stored
   * @param certificate the certificate
   * @param chain its issuer up to the root, issuer first
   */
  public record Issued(
      CertificateRecord record, X509CertificateHolder certificate, List<Issuer> chain) {}

  /**
   * @param partitionSize certificates per CRL partition
   */
  public IssuanceService(
      Hierarchy hierarchy,
      CaStore store,
      KeyService keys,
      AuditLog audit,
      RevokedKeys revokedKeys,
      int partitionSize) {
    if (partitionSize < 1) {
      throw new IllegalArgumentException("partition size must be at least 1");
    }
    this.hierarchy = hierarchy;
    this.store = store;
    this.keys = keys;
    this.audit = audit;
    this.revokedKeys = revokedKeys;
    this.partitionSize = partitionSize;
    this.writer = new CertificateWriter(store, 256);
  }

  /** Called with (issuer, serial) after each certificate is stored (e.g. to pre-sign OCSP). */
  public void onIssued(java.util.function.BiConsumer<String, String> listener) {
    listeners.add(listener);
  }

  private volatile java.util.Set<org.bouncycastle.asn1.x500.X500Name> caSubjects;

  /** The subjects of the hierarchy's CAs (they never change once created). */
  private java.util.Set<org.bouncycastle.asn1.x500.X500Name> caSubjects() {
    java.util.Set<org.bouncycastle.asn1.x500.X500Name> s = caSubjects;
    if (s == null) {
      s = new java.util.HashSet<>();
      for (Issuer ca : hierarchy.issuers()) {
        s.add(
            org.bouncycastle.asn1.x500.X500Name.getInstance(
                org.bouncycastle.asn1.x500.style.BCStyle.INSTANCE, ca.subject()));
      }
      caSubjects = s;
    }
    return s;
  }

  /** The profile a request names, if clients of that channel may request it. */
  public Profile profile(String name, Profile.Channel channel) {
    Profile p = name == null ? null : hierarchy.config().profiles().get(name);
    if (p == null || !p.channels().contains(channel)) {
      throw new CaException(
          CaException.Code.UNKNOWN_PROFILE,
          "profile",
          "unknown profile; known: "
              + hierarchy.config().profiles().values().stream()
                  .filter(x -> x.channels().contains(channel))
                  .map(Profile::name)
                  .sorted()
                  .toList());
    }
    return p;
  }

  /**
   * Issues a certificate. On any error nothing is stored and no key is used.
   *
   * @param actor the authenticated operator, recorded in the audit event
   * @throws CaException saying which field is wrong and why
   */
  public Issued issue(String actor, Profile.Channel channel, IssueRequest req) {
    Profile profile = profile(req.profile(), channel);
    Csr csr = Csr.parsePem(req.csrPem());
    KeyPolicy.KeyDescription key = KeyPolicy.check(profile, csr.key());
    Names.Checked names = Names.build(profile, req.subject(), req.dns(), req.email());
    // X500Name (BCStyle) hashes and compares the way relying parties do (case, spacing), so a
    // near-copy of a CA's name is caught too; one hash per issuance, not one comparison per CA.
    if (caSubjects().contains(names.subject())) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "subject",
          "equals the subject of a CA of this hierarchy");
    }
    if (profile.refuseRevokedKeys() && revokedKeys.wasRevoked(key.sha256())) {
      throw new CaException(
          CaException.Code.BAD_KEY,
          "csr.publicKey",
          "a certificate for this key was revoked; generate a new key");
    }
    Issuer issuer = hierarchy.issuingCa(profile.issuer());
    return sign(
        actor,
        profile,
        issuer,
        names,
        csr.publicKey(),
        key.sha256(),
        Instant.MAX,
        Map.of(
            "signingKey", issuer.key().toString(),
            "signatureAlgorithm", issuer.algorithm().name()));
  }

  /**
   * Issues a replacement for a certificate revoked because its CA was compromised: the same
   * subject, subject alternative names and public key (the subscriber's key was never at risk),
   * under the same profile, from the CA that profile names now, which must be another CA and one
   * that may issue. Its CERT_ISSUED event names the certificate it replaces.
   *
   * @throws CaException {@code CONFLICT} when the profile is gone or still names the old CA
   */
  public Issued reissue(String actor, CertificateRecord old) {
    Profile profile = hierarchy.config().profiles().get(old.profile());
    if (profile == null) {
      throw new CaException(
          CaException.Code.CONFLICT, "profile " + old.profile() + " is no longer configured");
    }
    Issuer issuer = hierarchy.issuingCa(profile.issuer());
    if (issuer.name().equals(old.issuer())) {
      throw new CaException(
          CaException.Code.CONFLICT,
          "profile " + profile.name() + " still names CA " + old.issuer() + ": point it elsewhere");
    }
    X509CertificateHolder was;
    try {
      was = new X509CertificateHolder(old.der());
    } catch (java.io.IOException e) {
      throw new CaException(CaException.Code.CONFLICT, "stored certificate does not parse");
    }
    org.bouncycastle.asn1.x509.GeneralNames san =
        org.bouncycastle.asn1.x509.GeneralNames.fromExtensions(
            was.getExtensions(), org.bouncycastle.asn1.x509.Extension.subjectAlternativeName);
    Names.Checked names =
        new Names.Checked(was.getSubject(), java.util.Optional.ofNullable(san), "re-issued");
    return sign(
        actor,
        profile,
        issuer,
        names,
        was.getSubjectPublicKeyInfo(),
        old.keySha256(),
        old.notAfter(),
        Map.of(
            "signingKey", issuer.key().toString(),
            "signatureAlgorithm", issuer.algorithm().name(),
            "replaces", old.issuer() + "/" + old.serial()));
  }

  private Issued sign(
      String actor,
      Profile profile,
      Issuer issuer,
      Names.Checked names,
      org.bouncycastle.asn1.x509.SubjectPublicKeyInfo publicKey,
      byte[] keySha256,
      Instant latest,
      Map<String, String> attributes) {
    int partition = (int) (nextSlot() / partitionSize);
    BigInteger serial = CertificateFactory.newSerial();
    X509CertificateHolder cert =
        CertificateFactory.endEntity(
            profile,
            issuer,
            serial,
            names,
            publicKey,
            partition,
            hierarchy.urls(),
            Instant.now(),
            latest,
            issuer.signerRecordedByCaller(
                keys, "cert:" + issuer.name() + "/" + serial.toString(16)));
    CertificateRecord row =
        CertificateRecord.issued(issuer.name(), profile.name(), cert, keySha256, partition);
    // The audit event (which also records this use of the CA key) is durable before the
    // certificate is stored or returned: a certificate never exists without its evidence. If the
    // insert then fails, the log holds a CERT_ISSUED for a certificate nobody received, which an
    // auditor can see; the reverse could not be seen.
    audit.append(Hierarchy.issuedEvent(actor, issuer.name(), row, attributes));
    writer.insert(row);
    io.yinxin.ca.CaMetrics.issued(issuer.name(), profile.name());
    log.info(
        "event=cert_issued issuer={} serial={} profile={} partition={}",
        issuer.name(),
        row.serial(),
        profile.name(),
        partition);
    for (var l : listeners) {
      l.accept(issuer.name(), row.serial());
    }
    return new Issued(row, cert, hierarchy.chain(issuer.name()));
  }

  /** Stores the certificates still queued, then stops the writer. */
  @Override
  public void close() {
    writer.close();
  }

  private synchronized long nextSlot() {
    if (nextSlot >= slotEnd) {
      nextSlot = store.certificates().nextSlotBlock();
      slotEnd = nextSlot + 1000;
    }
    return nextSlot++;
  }
}
