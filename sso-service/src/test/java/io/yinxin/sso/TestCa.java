package io.yinxin.sso;

import com.sun.net.httpserver.HttpServer;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * A CA for tests, made with Bouncy Castle (sso-service may not use the CA module's code): a
 * self-signed P-256 CA certificate, an OCSP responder on 127.0.0.1 signing with the CA's own key
 * (RFC 6960 §4.2.2.2) that answers revoked for the serials in {@link #revoked}, and client
 * authentication certificates in the shape of the CA's profiles (digitalSignature, clientAuth, the
 * responder's URL in AIA).
 */
final class TestCa {
  final KeyPair key = ecKey();
  final X509Certificate certificate;
  final Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();
  final AtomicInteger ocspRequests = new AtomicInteger();
  private final HttpServer ocsp;

  TestCa(String name) {
    this.certificate = caCertificate(name, key);
    this.ocsp = ocspResponder();
  }

  static KeyPair ecKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate caCertificate(String name, KeyPair key) {
    try {
      Instant now = Instant.now();
      var b =
          new JcaX509v3CertificateBuilder(
              new X500Name(name),
              BigInteger.ONE,
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(Duration.ofDays(3650))),
              new X500Name(name),
              key.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client authentication certificate from this CA. */
  X509Certificate issue(
      KeyPair subjectKey, String subject, Instant notBefore, Instant notAfter, GeneralName... sans)
      throws Exception {
    return issue(subjectKey, subject, notBefore, notAfter, key, sans);
  }

  /**
   * A client authentication certificate naming this CA as its issuer but signed by {@code
   * signingKey} (another key: a forgery).
   */
  X509Certificate issue(
      KeyPair subjectKey,
      String subject,
      Instant notBefore,
      Instant notAfter,
      KeyPair signingKey,
      GeneralName... sans)
      throws Exception {
    var b =
        new JcaX509v3CertificateBuilder(
            new JcaX509CertificateHolder(certificate).getSubject(),
            new BigInteger(64, new SecureRandom()),
            Date.from(notBefore),
            Date.from(notAfter),
            new X500Name(subject),
            subjectKey.getPublic());
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    b.addExtension(
        Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
    if (sans.length > 0) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
    }
    b.addExtension(
        Extension.authorityInfoAccess,
        false,
        new AuthorityInformationAccess(
            new AccessDescription(
                AccessDescription.id_ad_ocsp,
                new GeneralName(
                    GeneralName.uniformResourceIdentifier,
                    new DERIA5String(
                        "http://127.0.0.1:" + ocsp.getAddress().getPort() + "/ocsp")))));
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signingKey.getPrivate())));
  }

  private HttpServer ocspResponder() {
    try {
      HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      s.createContext(
          "/ocsp",
          ex -> {
            try {
              ocspRequests.incrementAndGet();
              OCSPReq req = new OCSPReq(ex.getRequestBody().readAllBytes());
              var builder =
                  new BasicOCSPRespBuilder(
                      new RespID(
                          new JcaX509CertificateHolder(certificate).getSubjectPublicKeyInfo(),
                          new JcaDigestCalculatorProviderBuilder()
                              .build()
                              .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1)));
              Date now = new Date();
              Date next = Date.from(Instant.now().plus(Duration.ofHours(1)));
              for (Req r : req.getRequestList()) {
                CertificateStatus status =
                    revoked.contains(r.getCertID().getSerialNumber())
                        ? new RevokedStatus(now, CRLReason.keyCompromise)
                        : CertificateStatus.GOOD;
                builder.addResponse(r.getCertID(), status, now, next);
              }
              var basic =
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()),
                      new X509CertificateHolder[0],
                      now);
              byte[] body = new OCSPRespBuilder().build(OCSPResp.SUCCESSFUL, basic).getEncoded();
              ex.getResponseHeaders().add("Content-Type", "application/ocsp-response");
              ex.sendResponseHeaders(200, body.length);
              ex.getResponseBody().write(body);
            } catch (Exception e) {
              ex.sendResponseHeaders(500, -1);
            } finally {
              ex.close();
            }
          });
      s.start();
      return s;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  void stop() {
    ocsp.stop(0);
  }
}
