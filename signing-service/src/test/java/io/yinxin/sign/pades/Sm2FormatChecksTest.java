package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestPki;
import io.yinxin.sign.validate.PadesValidator;
import io.yinxin.sign.validate.Sm2Verifier;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SM2 seal is judged on the document as it is, not only on the bytes it signed: the format
 * checks EU DSS runs on every signature (byte range, signature dictionary, what was written after
 * the signed revision, with Yinxin's policy) decide its verdict too. Until 2026-12-07 the SM2
 * verdict checked the signed bytes only, so an incremental update appended to an SM2-sealed
 * contract that rewrote its first page — poppler then shows the new text — still came back
 * TOTAL_PASSED.
 */
class Sm2FormatChecksTest {
  @TempDir Path dir;

  private KeyServices keys;
  private KeyInfo sm2;
  private X509CertificateHolder cert;
  private Path sealed;

  @BeforeEach
  void seal() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "sm2");
    cert = TestPki.selfSigned(keys, sm2, "C=CN,O=某某局,CN=某某局");
    Path plain = dir.resolve("plain.pdf");
    TestPdfs.contract(plain);
    sealed = dir.resolve("sealed.pdf");
    io.yinxin.sign.testing.TestSealer.sealSm2(keys, sm2, cert, plain, sealed);
  }

  /** The sealed contract with its first page's text replaced by an update no one signed. */
  private Path forged() throws Exception {
    Path forged = dir.resolve("forged.pdf");
    try (PDDocument doc = Loader.loadPDF(sealed.toFile())) {
      PDPage page = doc.getPage(0);
      try (PDPageContentStream cs =
          new PDPageContentStream(doc, page, PDPageContentStream.AppendMode.OVERWRITE, false)) {
        cs.beginText();
        cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 14);
        cs.newLineAtOffset(72, 760);
        cs.showText("Contract page 1: pay 1000000 yuan to Mallory");
        cs.endText();
      }
      page.getCOSObject().setNeedToBeUpdated(true);
      page.getResources().getCOSObject().setNeedToBeUpdated(true);
      try (OutputStream out = Files.newOutputStream(forged)) {
        doc.saveIncremental(out);
      }
    }
    return forged;
  }

  /**
   * A good OCSP response for the SM2 seal, signed with SM2 and carrying the responder's
   * certificate.
   */
  private byte[] sm2Ocsp() throws Exception {
    var signer =
        new io.yinxin.hsm.bridge.KeyServiceContentSigner(
            keys, sm2.ref(), SignatureAlgorithm.SM3_WITH_SM2, "test SM2 validation data");
    var digests = new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build();
    var sha1 = digests.get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1);
    var ocspBuilder =
        new org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder(
            new org.bouncycastle.cert.ocsp.RespID(cert.getSubjectPublicKeyInfo(), sha1));
    ocspBuilder.addResponse(
        new org.bouncycastle.cert.ocsp.CertificateID(sha1, cert, cert.getSerialNumber()),
        org.bouncycastle.cert.ocsp.CertificateStatus.GOOD);
    return new org.bouncycastle.cert.ocsp.OCSPRespBuilder()
        .build(
            org.bouncycastle.cert.ocsp.OCSPRespBuilder.SUCCESSFUL,
            ocspBuilder.build(
                signer, new X509CertificateHolder[] {cert}, java.util.Date.from(Instant.now())))
        .getEncoded();
  }

  private Map<String, Object> verdict(Path pdf) {
    List<Map<String, Object>> r = new Sm2Verifier(() -> List.of(cert)).verify(pdf);
    assertThat(r).hasSize(1);
    return r.get(0);
  }

  @Test
  void anUnsignedUpdateThatRewritesAPageFailsTheSealWhileValidationDataDoesNot() throws Exception {
    assertThat(verdict(sealed)).containsEntry("indication", "TOTAL_PASSED");

    // Validation data added later (what B-LT does) is a change the seal allows.
    Path withData = dir.resolve("with-data.pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(sealed, out, List.of(cert.getEncoded()), List.of(), List.of());
    }
    assertThat(verdict(withData)).containsEntry("indication", "TOTAL_PASSED");

    Path forged = forged();
    // The outside judges: a well-formed PDF, the signed bytes untouched, and poppler shows the
    // new text on page 1.
    assertThat(Judges.qpdfCheck(forged).exitCode()).isZero();
    assertThat(Files.readAllBytes(forged)).startsWith(Files.readAllBytes(sealed));
    assertThat(Judges.run(dir, "pdftotext", "-f", "1", "-l", "1", forged.toString(), "-").output())
        .contains("Mallory");

    Map<String, Object> r = verdict(forged);
    assertThat(r)
        .containsEntry("indication", "TOTAL_FAILED")
        .containsEntry("subIndication", "FORMAT_FAILURE");
    assertThat(r.get("errors").toString()).contains("undefined object modifications");

    // The same verdict when the verifier is handed the validation the endpoint ran already.
    assertThat(
            new Sm2Verifier(() -> List.of(cert))
                .verify(forged, new PadesValidator(() -> List.of(cert)).validate(forged))
                .get(0))
        .containsEntry("subIndication", "FORMAT_FAILURE");
  }

  /**
   * What a B-LT SM2 seal holds — an OCSP response signed with SM2 that carries its responder's SM2
   * certificate, an SM2 CRL — beside an ECDSA seal with its own CRL: DSS, which reads none of the
   * SM2 data, judges the ECDSA seal, and the SM2 seal is judged by Yinxin's checks. Before
   * 2026-12-07 the SM2 OCSP response made DSS fail the whole document, and the service answered it
   * 400 NOT_PDF.
   */
  @Test
  void anEcdsaSealBesideAnSm2SealAndItsSm2ValidationDataIsJudgedNotRefused() throws Exception {
    var signer =
        new io.yinxin.hsm.bridge.KeyServiceContentSigner(
            keys, sm2.ref(), SignatureAlgorithm.SM3_WITH_SM2, "test SM2 validation data");
    byte[] sm2Ocsp = sm2Ocsp();
    var crlBuilder =
        new org.bouncycastle.cert.X509v2CRLBuilder(
            cert.getSubject(), java.util.Date.from(Instant.now().minusSeconds(60)));
    crlBuilder.setNextUpdate(java.util.Date.from(Instant.now().plus(Duration.ofDays(1))));
    byte[] sm2Crl = crlBuilder.build(signer).getEncoded();

    io.yinxin.sign.testing.TestSealer ecdsa =
        io.yinxin.sign.testing.TestSealer.create(
            dir.resolve("ecdsa"), "ecdsa", "C=CN,O=Ecdsa,CN=Ecdsa", "Ecdsa", "");
    Path both = dir.resolve("both.pdf");
    ecdsa
        .sealer()
        .seal(sealed, both, ecdsa.seal(), io.yinxin.sign.testing.TestSealer.invisibleBasic());
    Path withData = dir.resolve("both-with-data.pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(
          both,
          out,
          List.of(
              cert.getEncoded(), ecdsa.certificate().getEncoded(), ecdsa.pki().root.getEncoded()),
          List.of(sm2Ocsp),
          List.of(sm2Crl, ecdsa.pki().crl(Instant.now()).getEncoded()));
    }

    var reports = new PadesValidator(() -> List.of(cert, ecdsa.pki().root)).validate(withData);
    List<Map<String, Object>> dss = PadesValidator.summary(reports);
    assertThat(dss).hasSize(2);
    assertThat(dss)
        .anySatisfy(
            r ->
                assertThat(r)
                    .containsEntry("indication", "TOTAL_PASSED")
                    .containsEntry("signedBy", "Ecdsa"));
    List<Map<String, Object>> sm2Verdicts =
        new Sm2Verifier(() -> List.of(cert, ecdsa.pki().root)).verify(withData, reports);
    assertThat(sm2Verdicts).hasSize(1);
    assertThat(sm2Verdicts.get(0)).containsEntry("indication", "TOTAL_PASSED");
  }

  /** The endpoint answers the forged SM2 seal as failed: its controller hands DSS's run over. */
  @Test
  void theValidationEndpointReportsTheForgedSm2SealFailed() throws Exception {
    var controller =
        new io.yinxin.sign.http.ValidationController(
            new PadesValidator(() -> List.of(cert)),
            10_000_000,
            new io.yinxin.sign.http.DocumentGate("test", 1, Duration.ZERO));
    var request =
        new org.springframework.mock.web.MockHttpServletRequest("POST", "/sign/v1/validate");
    request.setContentType("application/pdf");
    request.setContent(Files.readAllBytes(forged()));
    @SuppressWarnings("unchecked")
    Map<String, Object> body = (Map<String, Object>) controller.validate("json", request).getBody();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> sm2Verdicts = (List<Map<String, Object>>) body.get("sm2Signatures");
    assertThat(sm2Verdicts)
        .singleElement()
        .satisfies(
            r ->
                assertThat(r)
                    .containsEntry("indication", "TOTAL_FAILED")
                    .containsEntry("subIndication", "FORMAT_FAILURE"));
  }

  /**
   * The same SM2 OCSP response also in a /VRI dictionary of /DSS (other PAdES producers write
   * them): DSS, which cannot read it there either, made the document's validation fail.
   */
  @Test
  void sm2ValidationDataInAVriDictionaryIsNotARefusal() throws Exception {
    Path withData = dir.resolve("with-ocsp.pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(sealed, out, List.of(cert.getEncoded()), List.of(sm2Ocsp()), List.of());
    }
    Path withVri = dir.resolve("with-vri.pdf");
    try (PDDocument doc = Loader.loadPDF(withData.toFile())) {
      var catalog = doc.getDocumentCatalog().getCOSObject();
      var dss = catalog.getCOSDictionary(org.apache.pdfbox.cos.COSName.getPDFName("DSS"));
      var ocsps = dss.getCOSArray(org.apache.pdfbox.cos.COSName.getPDFName("OCSPs"));
      var entry = new org.apache.pdfbox.cos.COSDictionary();
      var array = new org.apache.pdfbox.cos.COSArray();
      array.add(ocsps.get(0));
      entry.setItem(org.apache.pdfbox.cos.COSName.getPDFName("OCSP"), array);
      var vri = new org.apache.pdfbox.cos.COSDictionary();
      vri.setItem(org.apache.pdfbox.cos.COSName.getPDFName("A".repeat(40)), entry);
      dss.setItem(org.apache.pdfbox.cos.COSName.getPDFName("VRI"), vri);
      dss.setNeedToBeUpdated(true);
      catalog.setNeedToBeUpdated(true);
      try (OutputStream out = Files.newOutputStream(withVri)) {
        doc.saveIncremental(out);
      }
    }
    assertThat(verdict(withVri)).containsEntry("indication", "TOTAL_PASSED");
  }
}
