package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.validate.Sm2Verifier;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SM2 validator judges the revocation of an SM2 seal's certificate from the revocation data in
 * the document, as an offline validator: none (a B-B seal) is INDETERMINATE / TRY_LATER; a CRL or
 * OCSP response of the SM2 CA (SM3withSM2, made here with Bouncy Castle) saying good passes;
 * revoked before the signing time is TOTAL_FAILED / REVOKED, after it INDETERMINATE /
 * REVOKED_NO_POE; revocation data signed by another key with the CA's name is ignored.
 */
class Sm2RevocationTest {
  @TempDir Path dir;

  private KeyServices keys;
  private KeyInfo caKey;
  private X509CertificateHolder ca;

  private ContentSigner signer(KeyInfo key) {
    return new KeyServiceContentSigner(
        keys, key.ref(), SignatureAlgorithm.SM3_WITH_SM2, "test SM2 CA");
  }

  private X509CertificateHolder certificate(
      String subject, KeyInfo key, boolean isCa, KeyInfo issuerKey, long serial) throws Exception {
    return certificate(subject, key, isCa, issuerKey, serial, null);
  }

  /** With {@code ocspUrl}, the certificate names that OCSP responder (AIA), as the CA's do. */
  private X509CertificateHolder certificate(
      String subject, KeyInfo key, boolean isCa, KeyInfo issuerKey, long serial, String ocspUrl)
      throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            new X500Name("C=CN,O=某某市,CN=测试 SM2 根 CA"),
            BigInteger.valueOf(serial),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(Duration.ofDays(365))),
            new X500Name(subject),
            SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded()));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    b.addExtension(
        Extension.keyUsage,
        true,
        new KeyUsage(
            isCa
                ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
    if (ocspUrl != null) {
      b.addExtension(
          Extension.authorityInfoAccess,
          false,
          new org.bouncycastle.asn1.x509.AuthorityInformationAccess(
              new org.bouncycastle.asn1.x509.AccessDescription(
                  org.bouncycastle.asn1.x509.AccessDescription.id_ad_ocsp,
                  new org.bouncycastle.asn1.x509.GeneralName(
                      org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, ocspUrl))));
    }
    return b.build(signer(issuerKey));
  }

  private byte[] crl(KeyInfo by, BigInteger revoked, Instant when) throws Exception {
    X509v2CRLBuilder b = new X509v2CRLBuilder(ca.getSubject(), new Date());
    b.setNextUpdate(Date.from(Instant.now().plus(Duration.ofDays(1))));
    if (revoked != null) {
      b.addCRLEntry(revoked, Date.from(when), CRLReason.keyCompromise);
    }
    return b.build(signer(by)).getEncoded();
  }

  private byte[] ocsp(BigInteger serial, CertificateStatus status) throws Exception {
    var digests = new JcaDigestCalculatorProviderBuilder().build();
    BasicOCSPRespBuilder b =
        new BasicOCSPRespBuilder(
            new RespID(ca.getSubjectPublicKeyInfo(), digests.get(CertificateID.HASH_SHA1)));
    b.addResponse(
        new CertificateID(digests.get(CertificateID.HASH_SHA1), ca, serial),
        status,
        new Date(),
        Date.from(Instant.now().plus(Duration.ofDays(1))));
    return new OCSPRespBuilder()
        .build(
            OCSPResp.SUCCESSFUL, b.build(signer(caKey), new X509CertificateHolder[0], new Date()))
        .getEncoded();
  }

  private SealIdentity sm2Seal(String id, KeyInfo key, X509CertificateHolder cert) {
    return new SealIdentity(
        id,
        key.ref(),
        SignatureAlgorithm.SM3_WITH_SM2,
        List.of(cert, ca),
        "某某局",
        "",
        Optional.empty());
  }

  private static SealOptions invisible(SealOptions.Level level, Instant at) {
    return new SealOptions(
        level, new SealOptions.Placement.Invisible(), Optional.empty(), Optional.empty(), 0, at);
  }

  /** The sealed document with this revocation data added to its DSS (incremental update). */
  private Map<String, Object> verdict(Path sealed, List<byte[]> crls, List<byte[]> ocsps)
      throws Exception {
    Path withData = Files.createTempFile(dir, "ltv", ".pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(sealed, out, List.of(), ocsps, crls);
    }
    List<Map<String, Object>> r = new Sm2Verifier(() -> List.of(ca)).verify(withData);
    assertThat(r).hasSize(1);
    return r.get(0);
  }

  @Test
  void revocationOfAnSm2SealsCertificateIsJudgedFromTheDocumentsRevocationData() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    caKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2-ca");
    ca = certificate("C=CN,O=某某市,CN=测试 SM2 根 CA", caKey, true, caKey, 1);
    KeyInfo sealKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2-seal");
    X509CertificateHolder cert = certificate("C=CN,O=某某局,CN=某某局", sealKey, false, caKey, 77);
    Path plain = dir.resolve("plain.pdf");
    io.yinxin.sign.testing.TestPdfs.contract(plain);
    Path sealed = dir.resolve("sm2.pdf");
    Instant signedAt = Instant.now();
    new PadesSealer(
            keys,
            SealFont.installed(),
            Optional.empty(),
            new RevocationFetcher(Duration.ofSeconds(1), Clock.systemUTC()))
        .seal(
            plain,
            sealed,
            sm2Seal("sm2", sealKey, cert),
            invisible(SealOptions.Level.B_B, signedAt));
    BigInteger serial = cert.getSerialNumber();

    // B-B: no revocation data in the document.
    assertThat(new Sm2Verifier(() -> List.of(ca)).verify(sealed).get(0))
        .containsEntry("indication", "INDETERMINATE")
        .containsEntry("subIndication", "TRY_LATER");
    // Good by the CA's CRL, and by its OCSP response.
    assertThat(verdict(sealed, List.of(crl(caKey, null, null)), List.of()))
        .containsEntry("indication", "TOTAL_PASSED");
    assertThat(verdict(sealed, List.of(), List.of(ocsp(serial, CertificateStatus.GOOD))))
        .containsEntry("indication", "TOTAL_PASSED");
    // Revoked an hour before the seal.
    Instant before = signedAt.minus(Duration.ofHours(1));
    assertThat(verdict(sealed, List.of(crl(caKey, serial, before)), List.of()))
        .containsEntry("indication", "TOTAL_FAILED")
        .containsEntry("subIndication", "REVOKED");
    assertThat(
            verdict(
                sealed,
                List.of(),
                List.of(
                    ocsp(serial, new RevokedStatus(Date.from(before), CRLReason.keyCompromise)))))
        .containsEntry("indication", "TOTAL_FAILED")
        .containsEntry("subIndication", "REVOKED");
    // Revoked an hour after it: nothing in the document proves the seal came first.
    assertThat(
            verdict(
                sealed, List.of(crl(caKey, serial, signedAt.plus(Duration.ofHours(1)))), List.of()))
        .containsEntry("indication", "INDETERMINATE")
        .containsEntry("subIndication", "REVOKED_NO_POE");
    // A "CRL" with the CA's name signed by another key says nothing, good or revoked.
    KeyInfo forger = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "forger");
    assertThat(verdict(sealed, List.of(crl(forger, serial, before)), List.of()))
        .containsEntry("indication", "INDETERMINATE")
        .containsEntry("subIndication", "TRY_LATER");
    // Another certificate's status is not this one's.
    assertThat(
            verdict(
                sealed,
                List.of(),
                List.of(ocsp(serial.add(BigInteger.ONE), CertificateStatus.GOOD))))
        .containsEntry("subIndication", "TRY_LATER");
  }

  /**
   * End to end: a B-LT SM2 seal embeds the SM3withSM2-signed OCSP response the sealer fetched from
   * the certificate's responder, and the validator, offline, finds the certificate good in it.
   */
  @Test
  void anSm2SealAtBltCarriesItsOcspResponseAndPassesOffline() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    caKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2-ca");
    ca = certificate("C=CN,O=某某市,CN=测试 SM2 根 CA", caKey, true, caKey, 1);
    BigInteger serial = BigInteger.valueOf(78);
    byte[] good = ocsp(serial, CertificateStatus.GOOD);
    com.sun.net.httpserver.HttpServer responder =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    responder.createContext(
        "/ocsp",
        ex -> {
          ex.getRequestBody().readAllBytes();
          ex.getResponseHeaders().add("Content-Type", "application/ocsp-response");
          ex.sendResponseHeaders(200, good.length);
          ex.getResponseBody().write(good);
          ex.close();
        });
    responder.start();
    try {
      KeyInfo sealKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2-seal");
      X509CertificateHolder cert =
          certificate(
              "C=CN,O=某某局,CN=某某局",
              sealKey,
              false,
              caKey,
              78,
              "http://127.0.0.1:" + responder.getAddress().getPort() + "/ocsp");
      Path plain = dir.resolve("plain.pdf");
      io.yinxin.sign.testing.TestPdfs.contract(plain);
      Path sealed = dir.resolve("sm2-lt.pdf");
      // The SM2 TSA the signature time-stamp (B-T under B-LT) comes from, certified by the same CA.
      KeyInfo tsaKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2-tsa");
      Instant now = Instant.now();
      X509v3CertificateBuilder tb =
          new X509v3CertificateBuilder(
              ca.getSubject(),
              BigInteger.valueOf(79),
              Date.from(now.minus(Duration.ofDays(1))),
              Date.from(now.plus(Duration.ofDays(365))),
              new X500Name("C=CN,O=某某市,CN=测试 SM2 TSA"),
              SubjectPublicKeyInfo.getInstance(tsaKey.publicKey().getEncoded()));
      tb.addExtension(
          Extension.extendedKeyUsage,
          true,
          new org.bouncycastle.asn1.x509.ExtendedKeyUsage(
              org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_timeStamping));
      var tsaCred =
          new io.yinxin.sign.tsa.TsaCredential(
              tsaKey.ref(), SignatureAlgorithm.SM3_WITH_SM2, List.of(tb.build(signer(caKey)), ca));
      org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
      ds.setURL("jdbc:h2:mem:sm2lt;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
      io.yinxin.sign.spring.SignSchema.migrate(ds);
      var tsa =
          new io.yinxin.sign.tsa.TimeStampAuthority(
              keys,
              new io.yinxin.sign.tsa.TsaCredentials() {
                @Override
                public Optional<io.yinxin.sign.tsa.TsaCredential> current() {
                  return Optional.of(tsaCred);
                }

                @Override
                public Optional<io.yinxin.sign.tsa.TsaCredential> sm2() {
                  return Optional.of(tsaCred);
                }
              },
              new io.yinxin.sign.tsa.TsaSerials(ds),
              "2.25.1",
              Duration.ofSeconds(1),
              Clock.systemUTC(),
              event -> new io.yinxin.audit.Receipt(0, new byte[32]));
      new PadesSealer(
              keys,
              SealFont.installed(),
              Optional.of(new TimeStamps(tsa::respond)),
              new RevocationFetcher(Duration.ofSeconds(5), Clock.systemUTC()))
          .seal(
              plain,
              sealed,
              sm2Seal("sm2-lt", sealKey, cert),
              invisible(SealOptions.Level.B_LT, Instant.now()));
      responder.stop(0);
      assertThat(new Sm2Verifier(() -> List.of(ca)).verify(sealed).get(0))
          .containsEntry("indication", "TOTAL_PASSED");
    } finally {
      responder.stop(0);
    }
  }
}
