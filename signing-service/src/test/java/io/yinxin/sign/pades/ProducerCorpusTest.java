package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.model.ToBeSigned;
import eu.europa.esig.dss.pades.PAdESSignatureParameters;
import eu.europa.esig.dss.pades.signature.PAdESService;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.interactive.form.PDAcroForm;
import org.apache.pdfbox.pdmodel.interactive.form.PDTextField;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Documents from other producers, not only PDFBox: Ghostscript (ps2pdf from PostScript), qpdf's
 * object streams, linearization and PDF 2.0, a form with a filled text field, a document already
 * signed by another implementation (EU DSS), and Chinese text in an embedded CJK subset font from
 * Chromium's PDF printer and from Ghostscript. Each is sealed visibly; pdfsig must find every
 * signature valid (the earlier one included), qpdf --check must find no error.
 */
class ProducerCorpusTest {
  @TempDir static Path dir;
  static PadesSealer sealer;
  static SealIdentity seal;
  static Path nss;
  static Map<String, Path> corpus = new LinkedHashMap<>();

  @BeforeAll
  static void setUp() throws Exception {
    var fixture =
        io.yinxin.sign.testing.TestSealer.create(dir, "corpus", "C=CN,O=某某公司,CN=某某公司", "某某公司", "");
    KeyServices keys = fixture.keys();
    TestPki pki = fixture.pki();
    KeyInfo key = fixture.key();
    var cert = fixture.certificate();
    seal = fixture.seal();
    sealer = fixture.sealer();
    nss = Judges.nssTrusting(dir, TestPki.writePem(dir.resolve("root.pem"), pki.root));

    Path pdfbox = dir.resolve("pdfbox.pdf");
    TestPdfs.contract(pdfbox);
    corpus.put("pdfbox", pdfbox);
    Path ps =
        Files.writeString(
            dir.resolve("in.ps"),
            "%!PS\n/Helvetica findfont 14 scalefont setfont\n72 720 moveto (Licence No. 2026-17) show\n"
                + "72 700 moveto (Issued by the city registry) show\nshowpage\n");
    Path gs = dir.resolve("ghostscript.pdf");
    check(Judges.run(dir, "ps2pdf", ps.toString(), gs.toString()));
    corpus.put("ghostscript", gs);
    Path objstm = dir.resolve("objstm.pdf");
    check(
        Judges.run(dir, "qpdf", "--object-streams=generate", pdfbox.toString(), objstm.toString()));
    corpus.put("qpdf object streams", objstm);
    Path linear = dir.resolve("linear.pdf");
    check(Judges.run(dir, "qpdf", "--linearize", gs.toString(), linear.toString()));
    corpus.put("qpdf linearized", linear);
    Path v20 = dir.resolve("pdf20.pdf");
    check(Judges.run(dir, "qpdf", "--force-version=2.0", pdfbox.toString(), v20.toString()));
    corpus.put("PDF 2.0", v20);
    Path form = dir.resolve("form.pdf");
    try (PDDocument doc = new PDDocument()) {
      PDPage page = new PDPage(PDRectangle.A4);
      doc.addPage(page);
      PDAcroForm acro = new PDAcroForm(doc);
      doc.getDocumentCatalog().setAcroForm(acro);
      acro.setDefaultResources(new org.apache.pdfbox.pdmodel.PDResources());
      acro.getDefaultResources()
          .put(
              org.apache.pdfbox.cos.COSName.getPDFName("Helv"),
              new org.apache.pdfbox.pdmodel.font.PDType1Font(
                  org.apache.pdfbox.pdmodel.font.Standard14Fonts.FontName.HELVETICA));
      acro.setDefaultAppearance("/Helv 12 Tf 0 g");
      PDTextField field = new PDTextField(acro);
      field.setPartialName("applicant");
      var widget = field.getWidgets().get(0);
      widget.setRectangle(new PDRectangle(72, 700, 200, 20));
      widget.setPage(page);
      page.getAnnotations().add(widget);
      acro.getFields().add(field);
      field.setValue("Zhang San");
      doc.save(form.toFile());
    }
    corpus.put("form", form);
    corpus.put("signed by EU DSS", dssSigned(keys, key, cert, pki.root, pdfbox));
    // Chinese text in a CJK font: Chromium's PDF printer (Skia) embeds a subset of AR PL UMing as
    // a CID TrueType font (Identity-H), and Ghostscript's pdfwrite re-distils that file.
    Path html =
        Files.writeString(
            dir.resolve("licence.html"),
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><style>"
                + "body{font-family:\"AR PL UMing CN\";font-size:14pt;margin:2cm}"
                + "p.anchor{margin-top:3cm}</style></head><body>"
                + "<p>营业执照（副本）</p><p>名称：福州某某科技有限公司</p>"
                + "<p>统一社会信用代码：91350100M000100Y43</p>"
                + "<p>经营范围：软件开发；信息技术咨询服务。</p>"
                + "<p class=\"anchor\">盖章处</p></body></html>");
    Path chromium = dir.resolve("chromium-cjk.pdf");
    check(
        Judges.run(
            dir,
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--user-data-dir=" + dir.resolve("chromium-profile"),
            "--no-pdf-header-footer",
            "--print-to-pdf=" + chromium,
            html.toUri().toString()));
    corpus.put("Chromium CJK", chromium);
    Path gsCjk = dir.resolve("ghostscript-cjk.pdf");
    check(
        Judges.run(
            dir,
            "gs",
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-sDEVICE=pdfwrite",
            "-o",
            gsCjk.toString(),
            chromium.toString()));
    corpus.put("Ghostscript CJK", gsCjk);
  }

  /** A visible B-B seal at {@code placement}. */
  private static void sealAt(Path in, Path out, SealOptions.Placement placement) {
    sealer.seal(
        in,
        out,
        seal,
        new SealOptions(
            SealOptions.Level.B_B,
            placement,
            Optional.empty(),
            Optional.empty(),
            0,
            Instant.now()));
  }

  private static void check(Judges.Result r) {
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  /** The contract signed at PAdES-BASELINE-B by EU DSS, another implementation. */
  private static Path dssSigned(
      KeyServices keys,
      KeyInfo key,
      org.bouncycastle.cert.X509CertificateHolder cert,
      org.bouncycastle.cert.X509CertificateHolder root,
      Path pdf)
      throws Exception {
    PAdESService service = new PAdESService(new CommonCertificateVerifier());
    PAdESSignatureParameters p = new PAdESSignatureParameters();
    p.setSignatureLevel(SignatureLevel.PAdES_BASELINE_B);
    p.setDigestAlgorithm(DigestAlgorithm.SHA256);
    p.setSigningCertificate(DSSUtils.loadCertificate(cert.getEncoded()));
    p.setCertificateChain(DSSUtils.loadCertificate(root.getEncoded()));
    DSSDocument doc = new FileDocument(pdf.toFile());
    ToBeSigned tbs = service.getDataToSign(doc, p);
    byte[] sig = keys.sign(key.ref(), SignatureAlgorithm.ECDSA_SHA256, tbs.getBytes(), "test");
    DSSDocument signed =
        service.signDocument(
            doc,
            p,
            new SignatureValue(
                eu.europa.esig.dss.enumerations.SignatureAlgorithm.ECDSA_SHA256, sig));
    Path out = dir.resolve("dss-signed.pdf");
    try (var o = Files.newOutputStream(out)) {
      signed.writeTo(o);
    }
    return out;
  }

  /**
   * The CJK documents carry their text in an embedded CID TrueType subset (poppler's pdffonts says
   * so), and an anchor written in it places the seal over the anchor as poppler locates it.
   */
  @Test
  void aCjkAnchorInASubsetFontPlacesTheSealWherePopplerSeesIt() throws Exception {
    for (String name : java.util.List.of("Chromium CJK", "Ghostscript CJK")) {
      Path in = corpus.get(name);
      Judges.Result fonts = Judges.run(dir, "pdffonts", in.toString());
      assertThat(fonts.output()).as(name).containsPattern("\\+UMingCN +CID TrueType +Identity-H");
      Judges.Result text = Judges.run(dir, "pdftotext", "-bbox", in.toString(), "-");
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "xMin=\"([0-9.]+)\" yMin=\"([0-9.]+)\" xMax=\"([0-9.]+)\" yMax=\"([0-9.]+)\">盖章处<")
              .matcher(text.output());
      assertThat(m.find()).as(name + ": " + text.output()).isTrue();
      Path out = dir.resolve("anchored-" + name.replace(' ', '-') + ".pdf");
      sealAt(in, out, new SealOptions.Placement.Anchor("盖章处", 100));
      assertThat(Judges.pdfsig(out, nss)).as(name).contains("Signature is Valid.");
      try (PDDocument doc = Loader.loadPDF(out.toFile())) {
        PDPage page = doc.getPage(0);
        float height = page.getMediaBox().getHeight();
        PDRectangle rect =
            page.getAnnotations().stream()
                .filter(a -> a.getRectangle().getWidth() > 0)
                .reduce((a, b) -> b)
                .orElseThrow()
                .getRectangle();
        double wordX = (Double.parseDouble(m.group(1)) + Double.parseDouble(m.group(3))) / 2;
        double wordY =
            height - (Double.parseDouble(m.group(2)) + Double.parseDouble(m.group(4))) / 2;
        assertThat(Math.abs(rect.getLowerLeftX() + rect.getWidth() / 2 - wordX))
            .as(name + ": seal centre x against the anchor's")
            .isLessThan(8);
        assertThat(Math.abs(rect.getLowerLeftY() + rect.getHeight() / 2 - wordY))
            .as(name + ": seal centre y against the anchor's")
            .isLessThan(8);
      }
    }
  }

  @Test
  void documentsFromOtherProducersSealWithEverySignatureValidAndNoQpdfError() throws Exception {
    for (Map.Entry<String, Path> e : corpus.entrySet()) {
      String name = e.getKey();
      int before;
      try (PDDocument doc = Loader.loadPDF(e.getValue().toFile())) {
        before = doc.getSignatureDictionaries().size();
      }
      Path out = dir.resolve("sealed-" + name.replace(' ', '-') + ".pdf");
      sealAt(e.getValue(), out, new SealOptions.Placement.Box(1, 380, 80, 119, 119));
      String report = Judges.pdfsig(out, nss);
      assertThat(report.split("Signature is Valid\\.", -1))
          .as(name + ":\n" + report)
          .hasSize(before + 2);
      assertThat(report).as(name).doesNotContain("Signature is Invalid");
      Judges.Result q = Judges.qpdfCheck(out);
      assertThat(q.exitCode()).as(name + ": " + q.output()).isZero();
      try (PDDocument doc = Loader.loadPDF(out.toFile())) {
        assertThat(doc.getSignatureDictionaries()).as(name).hasSize(before + 1);
        if (name.equals("form")) {
          assertThat(
                  doc.getDocumentCatalog().getAcroForm().getField("applicant").getValueAsString())
              .isEqualTo("Zhang San");
        }
      }
    }
  }
}
