package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.pades.PAdESSignatureParameters;
import eu.europa.esig.dss.pades.signature.PAdESService;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.SignException;
import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestPki;
import io.yinxin.sign.validate.PadesValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What validation must catch (issue 12 §5), judged by EU DSS through Yinxin's validator with only
 * the test root trusted: a seal by a certificate revoked before the signing time, a seal by an
 * expired certificate without a time-stamp, and an unsigned incremental update that changes page
 * content after a certification signature. A seal with a good certificate passes in each setting,
 * so the failures are not the setting's.
 */
class ValidationCatchesTest {
  @TempDir static Path dir;
  static KeyServices keys;
  static TestPki pki;
  static PadesSealer sealer;
  static PadesValidator validator;
  static Path plain;

  @BeforeAll
  static void setUp() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    pki = new TestPki("C=CN,O=Test,CN=Validation Root");
    sealer =
        new PadesSealer(
            keys,
            SealFont.installed(),
            Optional.empty(),
            new RevocationFetcher(Duration.ofSeconds(1), Clock.systemUTC()));
    validator = new PadesValidator(() -> List.of(pki.root));
    plain = dir.resolve("plain.pdf");
    TestPdfs.contract(plain);
  }

  private static SealIdentity identity(KeyInfo key, X509CertificateHolder cert) {
    return new SealIdentity(
        "v-" + cert.getSerialNumber(),
        key.ref(),
        SignatureAlgorithm.ECDSA_SHA256,
        List.of(cert, pki.root),
        "某某公司",
        "",
        Optional.empty());
  }

  private static SealOptions options(int certify) {
    return new SealOptions(
        SealOptions.Level.B_B,
        new SealOptions.Placement.Invisible(),
        Optional.empty(),
        Optional.empty(),
        certify,
        Instant.now());
  }

  /** The document with a fresh root CRL (listing {@code revoked}) in its DSS. */
  private static Path withCrl(
      Path sealed, String name, X509CertificateHolder cert, java.math.BigInteger... revoked)
      throws Exception {
    byte[] crl = pki.crl(Instant.now().minus(Duration.ofHours(1)), revoked).getEncoded();
    Path out = dir.resolve(name);
    try (var o = Files.newOutputStream(out)) {
      DssWriter.add(
          sealed, o, List.of(cert.getEncoded(), pki.root.getEncoded()), List.of(), List.of(crl));
    }
    return out;
  }

  private static Map<String, Object> only(Path pdf) {
    List<Map<String, Object>> s = PadesValidator.summary(validator.validate(pdf));
    assertThat(s).hasSize(1);
    return s.get(0);
  }

  @Test
  void aSealByACertificateRevokedBeforeTheSigningTimeIsReportedRevoked() throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "revoked");
    X509CertificateHolder cert = pki.seal(key, "C=CN,O=某某公司,CN=Revoked");
    Path sealed = dir.resolve("revoked-b.pdf");
    sealer.seal(plain, sealed, identity(key, cert), options(0));
    // The CRL carried in the DSS says: revoked an hour before the seal was made.
    Path withCrl = dir.resolve("revoked.pdf");
    byte[] crl =
        pki.crl(Instant.now().minus(Duration.ofHours(1)), cert.getSerialNumber()).getEncoded();
    try (var out = Files.newOutputStream(withCrl)) {
      DssWriter.add(
          sealed, out, List.of(cert.getEncoded(), pki.root.getEncoded()), List.of(), List.of(crl));
    }
    Map<String, Object> r = only(withCrl);
    assertThat(r.get("indication")).as(r.toString()).isNotEqualTo("TOTAL_PASSED");
    assertThat(String.valueOf(r.get("subIndication"))).as(r.toString()).startsWith("REVOKED");

    // The same setting with a CRL that lists another serial: the seal passes.
    KeyInfo goodKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "good");
    X509CertificateHolder good = pki.seal(goodKey, "C=CN,O=某某公司,CN=Good");
    Path goodSealed = dir.resolve("good-b.pdf");
    sealer.seal(plain, goodSealed, identity(goodKey, good), options(0));
    Path goodWithCrl = dir.resolve("good.pdf");
    try (var out = Files.newOutputStream(goodWithCrl)) {
      DssWriter.add(
          goodSealed,
          out,
          List.of(good.getEncoded(), pki.root.getEncoded()),
          List.of(),
          List.of(crl));
    }
    assertThat(only(goodWithCrl)).containsEntry("indication", "TOTAL_PASSED");
  }

  @Test
  void aSealByAnExpiredCertificateWithoutATimeStampIsNotPassedAndOursRefusesToMakeOne()
      throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "expired");
    Instant now = Instant.now();
    X509CertificateHolder cert =
        pki.seal(
            key,
            "C=CN,O=某某公司,CN=Expired",
            now.minus(Duration.ofDays(30)),
            now.minus(Duration.ofDays(1)));
    assertThatThrownBy(
            () -> sealer.seal(plain, dir.resolve("x.pdf"), identity(key, cert), options(0)))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.CERTIFICATE_EXPIRED);
    // Another producer (EU DSS, told to) signs with it anyway; validation must not pass it.
    CommonCertificateVerifier lenient = new CommonCertificateVerifier();
    lenient.setAlertOnExpiredCertificate(new eu.europa.esig.dss.alert.SilentOnStatusAlert());
    PAdESService service = new PAdESService(lenient);
    PAdESSignatureParameters p = new PAdESSignatureParameters();
    p.setSignatureLevel(SignatureLevel.PAdES_BASELINE_B);
    p.setDigestAlgorithm(DigestAlgorithm.SHA256);
    p.setSigningCertificate(DSSUtils.loadCertificate(cert.getEncoded()));
    p.setCertificateChain(DSSUtils.loadCertificate(pki.root.getEncoded()));
    var doc = new FileDocument(plain.toFile());
    var tbs = service.getDataToSign(doc, p);
    byte[] sig = keys.sign(key.ref(), SignatureAlgorithm.ECDSA_SHA256, tbs.getBytes(), "test");
    var signed =
        service.signDocument(
            doc,
            p,
            new SignatureValue(
                eu.europa.esig.dss.enumerations.SignatureAlgorithm.ECDSA_SHA256, sig));
    Path expiredB = dir.resolve("expired-b.pdf");
    try (var out = Files.newOutputStream(expiredB)) {
      signed.writeTo(out);
    }
    // With revocation data (a CRL that does not list it), only the expiry is left to object to.
    Map<String, Object> r = only(withCrl(expiredB, "expired.pdf", cert));
    // Without a time-stamp nothing proves the seal existed while the certificate was valid; a CRL
    // issued after the expiry says nothing about it either: DSS answers INDETERMINATE.
    assertThat(r.get("indication")).as(r.toString()).isEqualTo("INDETERMINATE");
  }

  @Test
  void anUnsignedChangeOfPageContentAfterACertificationIsCaught() throws Exception {
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "certifier");
    X509CertificateHolder cert = pki.seal(key, "C=CN,O=某某公司,CN=Certifier");
    Path certified = dir.resolve("certified.pdf");
    sealer.seal(plain, certified, identity(key, cert), options(2));
    Path ltCertified = withCrl(certified, "certified-lt.pdf", cert);
    assertThat(only(ltCertified)).containsEntry("indication", "TOTAL_PASSED");
    // Someone appends an unsigned incremental update that writes on page 1.
    Path changed = dir.resolve("changed.pdf");
    try (PDDocument doc = Loader.loadPDF(ltCertified.toFile());
        var out = Files.newOutputStream(changed)) {
      var page = doc.getPage(0);
      try (PDPageContentStream cs =
          new PDPageContentStream(doc, page, PDPageContentStream.AppendMode.APPEND, true)) {
        cs.beginText();
        cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 20);
        cs.newLineAtOffset(72, 400);
        cs.showText("Amount: 9,999,999");
        cs.endText();
      }
      page.getCOSObject().setNeedToBeUpdated(true);
      doc.getPages().getCOSObject().setNeedToBeUpdated(true);
      doc.saveIncremental(out);
    }
    Map<String, Object> r = only(changed);
    assertThat(r.get("indication")).as(r.toString()).isNotEqualTo("TOTAL_PASSED");
  }
}
