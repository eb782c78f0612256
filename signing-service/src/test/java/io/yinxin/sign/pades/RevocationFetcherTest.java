package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.yinxin.sign.SignException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fetcher keeps only revocation data it checked, and a kept answer is not checked again: an
 * OCSP answer is fetched once and used until its nextUpdate; one signed by another key, or saying
 * revoked, is never kept; a kept CRL is still searched for every certificate; a CRL checked for one
 * issuer is not taken for another issuer of the same name that names the same URL. The answers come
 * from an OCSP responder and a CRL server on 127.0.0.1 made here with Bouncy Castle, which count
 * what they are asked.
 */
class RevocationFetcherTest {
  private static final X500Name CA = new X500Name("CN=Revocation Test CA");

  private HttpServer server;
  private String base;
  private final AtomicInteger ocspRequests = new AtomicInteger();
  private final AtomicInteger crlRequests = new AtomicInteger();
  private KeyPair caKey;
  private KeyPair impostorKey;
  private X509CertificateHolder ca;

  /** The key the responder signs with, and the status it gives. */
  private final AtomicReference<KeyPair> responderKey = new AtomicReference<>();

  private final AtomicReference<CertificateStatus> status =
      new AtomicReference<>(CertificateStatus.GOOD);

  /** Serials the CRL lists. */
  private volatile BigInteger[] crlRevoked = new BigInteger[0];

  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private final Clock clock =
      new Clock() {
        @Override
        public ZoneOffset getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now.get();
        }
      };

  private long serial = 2;

  @BeforeEach
  void start() throws Exception {
    caKey = ecKey();
    impostorKey = ecKey();
    responderKey.set(caKey);
    ca = cert(CA, caKey, CA, caKey, true, null, null);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    serve("/ocsp", ocspRequests, this::ocspAnswer);
    serve("/crl", crlRequests, request -> crl());
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  /** What a path answers to a request body: the DER of an OCSP response or a CRL. */
  private interface Answer {
    byte[] to(byte[] request) throws Exception;
  }

  /** Answers {@code path} on the test server, counting requests; 500 when the answer fails. */
  private void serve(String path, AtomicInteger requests, Answer answer) {
    server.createContext(
        path,
        exchange -> {
          try (exchange) {
            requests.incrementAndGet();
            byte[] der;
            try {
              der = answer.to(exchange.getRequestBody().readAllBytes());
            } catch (Exception e) {
              exchange.sendResponseHeaders(500, -1);
              return;
            }
            exchange.sendResponseHeaders(200, der.length);
            exchange.getResponseBody().write(der);
          }
        });
  }

  @Test
  void aCheckedOcspAnswerIsFetchedOnceAndUsedUntilItsNextUpdate() throws Exception {
    X509CertificateHolder seal = leafWithOcsp();
    RevocationFetcher fetcher = new RevocationFetcher(Duration.ofSeconds(2), clock);

    RevocationFetcher.Data first = fetcher.forChain(List.of(seal, ca));
    RevocationFetcher.Data second = fetcher.forChain(List.of(seal, ca));

    assertThat(first.ocsps()).hasSize(1);
    assertThat(second.ocsps()).hasSize(1);
    assertThat(second.ocsps().get(0)).isEqualTo(first.ocsps().get(0));
    assertThat(ocspRequests).hasValue(1);

    now.set(now.get().plus(Duration.ofDays(2))); // past the answer's nextUpdate (one day)
    assertThat(fetcher.forChain(List.of(seal, ca)).ocsps()).hasSize(1);
    assertThat(ocspRequests).hasValue(2);
  }

  @Test
  void anOcspAnswerSignedByAnotherKeyIsNeitherUsedNorKept() throws Exception {
    X509CertificateHolder seal = leafWithOcsp();
    responderKey.set(impostorKey); // the CA's name, not its key
    RevocationFetcher fetcher = new RevocationFetcher(Duration.ofSeconds(2), clock);

    assertThat(fetcher.forChain(List.of(seal, ca)).ocsps()).isEmpty();
    assertThat(fetcher.forChain(List.of(seal, ca)).ocsps()).isEmpty();
    assertThat(ocspRequests).hasValue(2);

    responderKey.set(caKey);
    assertThat(fetcher.forChain(List.of(seal, ca)).ocsps()).hasSize(1);
    assertThat(ocspRequests).hasValue(3);
  }

  @Test
  void aRevokedAnswerStopsEverySealNotOnlyTheFirst() throws Exception {
    X509CertificateHolder seal = leafWithOcsp();
    status.set(new RevokedStatus(Date.from(now.get().minusSeconds(600)), CRLReason.keyCompromise));
    RevocationFetcher fetcher = new RevocationFetcher(Duration.ofSeconds(2), clock);

    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> fetcher.forChain(List.of(seal, ca)))
          .isInstanceOfSatisfying(
              SignException.class,
              e -> assertThat(e.code()).isEqualTo(SignException.Code.CERTIFICATE_REVOKED));
    }
    assertThat(ocspRequests).hasValue(2);
  }

  @Test
  void aKeptCrlIsStillSearchedForEachCertificate() throws Exception {
    X509CertificateHolder good = leafWithCrl();
    X509CertificateHolder revoked = leafWithCrl();
    crlRevoked = new BigInteger[] {revoked.getSerialNumber()};
    RevocationFetcher fetcher = new RevocationFetcher(Duration.ofSeconds(2), clock);

    assertThat(fetcher.forChain(List.of(good, ca)).crls()).hasSize(1);
    assertThatThrownBy(() -> fetcher.forChain(List.of(revoked, ca)))
        .isInstanceOfSatisfying(
            SignException.class,
            e -> assertThat(e.code()).isEqualTo(SignException.Code.CERTIFICATE_REVOKED));
    assertThat(fetcher.forChain(List.of(good, ca)).crls()).hasSize(1);
    assertThat(crlRequests).hasValue(1);
  }

  @Test
  void aCrlCheckedForOneIssuerIsNotTakenForAnotherOfTheSameName() throws Exception {
    X509CertificateHolder good = leafWithCrl();
    RevocationFetcher fetcher = new RevocationFetcher(Duration.ofSeconds(2), clock);
    assertThat(fetcher.forChain(List.of(good, ca)).crls()).hasSize(1);

    // Another CA with the same name and its own key, whose certificate names the same CRL URL.
    X509CertificateHolder impostor = cert(CA, impostorKey, CA, impostorKey, true, null, null);
    X509CertificateHolder itsLeaf =
        cert(
            new X500Name("CN=Impostor Seal"), ecKey(), CA, impostorKey, false, null, base + "/crl");

    assertThat(fetcher.forChain(List.of(itsLeaf, impostor)).crls()).isEmpty();
    assertThat(crlRequests).hasValue(2);
  }

  private X509CertificateHolder leafWithOcsp() throws Exception {
    return cert(new X500Name("CN=Seal " + serial), ecKey(), CA, caKey, false, base + "/ocsp", null);
  }

  private X509CertificateHolder leafWithCrl() throws Exception {
    return cert(new X500Name("CN=Seal " + serial), ecKey(), CA, caKey, false, null, base + "/crl");
  }

  private byte[] ocspAnswer(byte[] request) throws Exception {
    OCSPReq req = new OCSPReq(request);
    BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(new RespID(CA));
    Date thisUpdate = Date.from(now.get().minusSeconds(60));
    Date nextUpdate = Date.from(now.get().plus(Duration.ofDays(1)));
    for (Req r : req.getRequestList()) {
      b.addResponse(r.getCertID(), status.get(), thisUpdate, nextUpdate);
    }
    return new OCSPRespBuilder()
        .build(
            OCSPRespBuilder.SUCCESSFUL,
            b.build(
                new JcaContentSignerBuilder("SHA256withECDSA")
                    .build(responderKey.get().getPrivate()),
                new X509CertificateHolder[0],
                thisUpdate))
        .getEncoded();
  }

  private byte[] crl() throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(CA, Date.from(now.get().minusSeconds(60)));
    b.setNextUpdate(Date.from(now.get().plus(Duration.ofDays(1))));
    for (BigInteger s : crlRevoked) {
      b.addCRLEntry(s, Date.from(now.get().minusSeconds(600)), CRLReason.keyCompromise);
    }
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate()))
        .getEncoded();
  }

  private X509CertificateHolder cert(
      X500Name subject,
      KeyPair subjectKey,
      X500Name issuer,
      KeyPair issuerKey,
      boolean ca,
      String ocspUrl,
      String crlUrl)
      throws Exception {
    Instant t = Instant.now();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            issuer,
            BigInteger.valueOf(serial++),
            Date.from(t.minus(Duration.ofDays(1))),
            Date.from(t.plus(Duration.ofDays(365))),
            subject,
            subjectKey.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    if (ocspUrl != null) {
      b.addExtension(
          Extension.authorityInfoAccess,
          false,
          new AuthorityInformationAccess(
              AccessDescription.id_ad_ocsp,
              new GeneralName(GeneralName.uniformResourceIdentifier, ocspUrl)));
    }
    if (crlUrl != null) {
      b.addExtension(
          Extension.cRLDistributionPoints,
          false,
          new CRLDistPoint(
              new DistributionPoint[] {
                new DistributionPoint(
                    new DistributionPointName(
                        new GeneralNames(
                            new GeneralName(GeneralName.uniformResourceIdentifier, crlUrl))),
                    null,
                    null)
              }));
    }
    return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate()));
  }

  private static KeyPair ecKey() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }
}
