package io.yinxin.ca.ocsp;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.KeyUseTally;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.hierarchy.Hierarchy.ServiceKey;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.store.CaStore;
import io.yinxin.ca.store.CertificateRecord;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeyUse;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import java.io.IOException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.bc.BcDigestCalculatorProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs OCSP responses for every CA of the hierarchy with that CA's delegated OCSP signer, looked
 * up at every signature (a signer renewed by {@link Hierarchy#renewServices} is used from the next
 * answer on), with each certificate's status read from the store. Counts the signatures per signer
 * key and records them as {@code KEY_USED} events ({@link #recordKeyUse}).
 */
final class OcspSigner {
  private static final Logger log = LoggerFactory.getLogger(OcspSigner.class);

  private final Hierarchy hierarchy;
  private final CaStore store;
  private final KeyService keys;
  private final AuditLog audit;
  private final Duration validity;
  private final Map<IssuerKey, Responder> responders = new HashMap<>();

  /** Signatures made per CA and signer key since the last {@link #recordKeyUse}. */
  private final KeyUseTally<Tally> signatures = new KeyUseTally<>(java.time.Clock.systemUTC());

  /** (hash algorithm, issuerNameHash, issuerKeyHash) of a CertID. */
  private record IssuerKey(ASN1ObjectIdentifier alg, String nameHash, String keyHash) {}

  private record Tally(String ca, KeyRef key, SignatureAlgorithm alg) {}

  /** A signer key and certificate with the ResponderID (by key hash) that names it. */
  private record Signer(ServiceKey key, RespID respId) {}

  /** A signed response, and whether every certificate in it is one this CA issued. */
  /**
   * @param status for metrics: {@code good}, {@code revoked} or {@code unknown} for one
   *     certificate, {@code several} for a request about more than one
   */
  record Signed(byte[] der, boolean known, String status) {}

  /** The responder for one CA. */
  final class Responder {
    private final Issuer ca;
    private final String service;
    private volatile Signer current;

    private Responder(Issuer ca, String service) {
      this.ca = ca;
      this.service = service;
    }

    Issuer ca() {
      return ca;
    }

    private Signer signer() {
      ServiceKey now =
          hierarchy
              .service(service)
              .orElseThrow(() -> new IllegalStateException("OCSP signer " + service + " is gone"));
      Signer s = current;
      if (s == null || s.key() != now) {
        s = new Signer(now, respId(now));
        current = s;
      }
      return s;
    }
  }

  OcspSigner(
      Hierarchy hierarchy, CaStore store, KeyService keys, AuditLog audit, Duration validity) {
    this.hierarchy = hierarchy;
    this.store = store;
    this.keys = keys;
    this.audit = audit;
    this.validity = validity;
    for (Issuer ca : hierarchy.issuers()) {
      String service = "ocsp-" + ca.name();
      if (hierarchy.service(service).isEmpty()) {
        continue;
      }
      Responder r = new Responder(ca, service);
      try {
        for (ASN1ObjectIdentifier alg :
            List.of(OIWObjectIdentifiers.idSHA1, NISTObjectIdentifiers.id_sha256)) {
          String jca = alg.equals(OIWObjectIdentifiers.idSHA1) ? "SHA-1" : "SHA-256";
          byte[] nameHash = hash(jca, ca.certificate().getSubject().getEncoded());
          byte[] keyHash =
              hash(jca, ca.certificate().getSubjectPublicKeyInfo().getPublicKeyData().getBytes());
          responders.put(new IssuerKey(alg, hex(nameHash), hex(keyHash)), r);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot set up OCSP for " + ca.name(), e);
      }
    }
  }

  /** The responder of the CA a CertID names, or empty for a CA this node does not serve. */
  Optional<Responder> responderFor(CertificateID id) {
    return Optional.ofNullable(
        responders.get(
            new IssuerKey(
                id.getHashAlgOID(), hex(id.getIssuerNameHash()), hex(id.getIssuerKeyHash()))));
  }

  /** The responder of a CA by name. */
  Optional<Responder> responderOf(String ca) {
    return responders.values().stream().filter(r -> r.ca().name().equals(ca)).findFirst();
  }

  /** The SHA-1 CertID OCSP clients send for a serial of {@code r}'s CA. */
  static CertificateID sha1Id(Responder r, BigInteger serial) {
    try {
      return new CertificateID(
          new BcDigestCalculatorProvider().get(CertificateID.HASH_SHA1),
          r.ca().certificate(),
          serial);
    } catch (OCSPException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("cannot make a CertID", e);
    }
  }

  /**
   * Signs a response from {@code r} for {@code ids}: each certificate's status as stored, {@code
   * unknown} for a serial this CA never issued or another CA's certificate.
   */
  Signed sign(Responder r, CertificateID[] ids, Optional<byte[]> nonce, Instant now) {
    Instant thisUpdate = now.truncatedTo(ChronoUnit.SECONDS);
    Date next = Date.from(thisUpdate.plus(validity));
    Signer signer = r.signer();
    BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(signer.respId());
    boolean known = true;
    String said = ids.length == 1 ? null : "several";
    for (CertificateID id : ids) {
      Optional<CertificateRecord> rec =
          responderFor(id).orElse(null) == r
              ? record(r.ca().name(), id.getSerialNumber())
              : Optional.empty();
      // not Optional.map: Bouncy Castle's CertificateStatus.GOOD is null
      CertificateStatus status = rec.isPresent() ? status(rec.get()) : new UnknownStatus();
      known &= !(status instanceof UnknownStatus);
      if (said == null) {
        said =
            status == CertificateStatus.GOOD
                ? "good"
                : status instanceof UnknownStatus ? "unknown" : "revoked";
      }
      b.addResponse(
          id,
          status,
          Date.from(thisUpdate),
          next,
          rec.filter(c -> c.status() != CertificateRecord.Status.VALID)
              .flatMap(CertificateRecord::invalidityDate)
              .map(OcspSigner::invalidityDate)
              .orElse(null));
    }
    nonce.ifPresent(
        n ->
            b.setResponseExtensions(
                new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false, n))));
    try {
      ServiceKey s = signer.key();
      BasicOCSPResp basic =
          b.build(
              KeyServiceContentSigner.recordedByCaller(
                  keys, s.key(), s.algorithm(), "ocsp:" + r.ca().name()),
              new X509CertificateHolder[] {s.certificate()},
              Date.from(thisUpdate));
      signatures.count(new Tally(r.ca().name(), s.key(), s.algorithm()));
      return new Signed(
          new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded(), known, said);
    } catch (OCSPException | IOException e) {
      throw new IllegalStateException("cannot build OCSP response", e);
    }
  }

  /**
   * Records the OCSP signatures made since the last call as one {@code KEY_USED} event per signer
   * key, with their count and period; call about once a minute and at shutdown. OCSP signing keys
   * are used by anyone who sends a request with a nonce, unauthenticated: one audit entry per
   * signature would let any client grow the evidence log at will, so their uses are tallied (the
   * signed responses themselves are public and carry the signer's certificate).
   *
   * @return how many events were appended
   */
  int recordKeyUse() {
    return signatures.record(
        audit,
        (t, w) -> {
          Map<String, String> attrs = new LinkedHashMap<>();
          attrs.put("operation", KeyUse.Operation.SIGN.name());
          attrs.put("purpose", "ocsp:" + t.ca());
          attrs.put("algorithm", t.alg().name());
          attrs.put("count", Long.toString(w.count()));
          attrs.put("from", w.from().toString());
          attrs.put("to", w.to().toString());
          return new AuditEvent(
              EventType.KEY_USED,
              "ca-service",
              t.key().toString(),
              w.to(),
              attrs,
              Optional.empty());
        },
        (t, ex) ->
            log.warn("event=ocsp_key_use_not_recorded ca={} reason={}", t.ca(), ex.toString()));
  }

  private Optional<CertificateRecord> record(String ca, BigInteger serial) {
    if (serial.signum() <= 0 || serial.bitLength() > 256) {
      return Optional.empty();
    }
    return store.certificates().certificate(ca, serial.toString(16));
  }

  /** The invalidityDate single extension (RFC 6960 §4.4 allows CRL entry extensions). */
  private static Extensions invalidityDate(java.time.Instant at) {
    try {
      return new Extensions(
          new Extension(
              Extension.invalidityDate,
              false,
              new org.bouncycastle.asn1.DERGeneralizedTime(Date.from(at)).getEncoded()));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static CertificateStatus status(CertificateRecord c) {
    return switch (c.status()) {
      case VALID -> CertificateStatus.GOOD;
      case REVOKED, ON_HOLD ->
          new RevokedStatus(
              Date.from(c.revokedAt().orElseThrow()), c.reason().orElse(CRLReason.unspecified));
    };
  }

  private static RespID respId(ServiceKey signer) {
    try {
      return new RespID(
          signer.certificate().getSubjectPublicKeyInfo(),
          new BcDigestCalculatorProvider().get(RespID.HASH_SHA1));
    } catch (OCSPException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("cannot name the OCSP signer " + signer.name(), e);
    }
  }

  private static byte[] hash(String alg, byte[] data) {
    try {
      return MessageDigest.getInstance(alg).digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String hex(byte[] b) {
    return io.yinxin.ca.Sha256.hex(b);
  }
}
