package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.SignException;
import io.yinxin.sign.seal.SealDrawing;
import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.SignedPdfs;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestPki;
import io.yinxin.sign.tsa.TimeStampAuthority;
import io.yinxin.sign.tsa.TsaCredential;
import io.yinxin.sign.tsa.TsaSerials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.tsp.TimeStampToken;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seals judged from outside: poppler's pdfsig (signature valid, certificate trusted through an NSS
 * database holding only the test root), qpdf --check, pdftoppm's rendering of the sealed page, and
 * Bouncy Castle's CMS verifier for what poppler does not read (SM2, the signature time-stamp).
 */
class PadesSealerTest {
  private static final String ORG = "福州某某科技有限公司";

  @TempDir static Path dir;
  static KeyServices keys;
  static TestPki pki;
  static SealIdentity seal;
  static PadesSealer sealer;
  static Path nss;
  static Path plain;
  static X509CertificateHolder sm2TsaCert;

  @BeforeAll
  static void setUp() throws Exception {
    keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    pki = new TestPki("C=CN,O=Test,CN=Test Root");
    KeyInfo sealKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "seal");
    X509CertificateHolder cert =
        pki.seal(sealKey, "C=CN,O=" + ORG + ",organizationIdentifier=91350100M000100Y43,CN=" + ORG);
    seal =
        new SealIdentity(
            "demo",
            sealKey.ref(),
            SignatureAlgorithm.ECDSA_SHA256,
            List.of(cert, pki.root),
            ORG,
            "合同专用章",
            Optional.empty());
    KeyInfo tsaKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "tsa");
    TsaCredential tsaCred =
        new TsaCredential(
            tsaKey.ref(),
            SignatureAlgorithm.ECDSA_SHA256,
            List.of(pki.tsa(keys, tsaKey, "C=CN,O=Test,CN=Test TSA"), pki.root));
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:pades;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
    io.yinxin.sign.spring.SignSchema.migrate(ds);
    KeyInfo sm2TsaKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "tsa-sm2");
    sm2TsaCert = pki.tsa(keys, sm2TsaKey, "C=CN,O=Test,CN=Test SM2 TSA");
    TsaCredential sm2TsaCred =
        new TsaCredential(
            sm2TsaKey.ref(), SignatureAlgorithm.SM3_WITH_SM2, List.of(sm2TsaCert, pki.root));
    TimeStampAuthority tsa =
        new TimeStampAuthority(
            keys,
            new io.yinxin.sign.tsa.TsaCredentials() {
              @Override
              public Optional<TsaCredential> current() {
                return Optional.of(tsaCred);
              }

              @Override
              public Optional<TsaCredential> sm2() {
                return Optional.of(sm2TsaCred);
              }
            },
            new TsaSerials(ds),
            "2.25.1",
            Duration.ofSeconds(1),
            Clock.systemUTC(),
            event -> new io.yinxin.audit.Receipt(0, new byte[32]));
    sealer =
        new PadesSealer(
            keys,
            SealFont.installed(),
            Optional.of(new TimeStamps(tsa::respond)),
            new RevocationFetcher(Duration.ofSeconds(5), Clock.systemUTC()));
    nss = Judges.nssTrusting(dir, TestPki.writePem(dir.resolve("root.pem"), pki.root));
    plain = dir.resolve("contract.pdf");
    TestPdfs.contract(plain);
  }

  private static Path sealTo(Path in, String name, SealOptions o) {
    Path out = dir.resolve(name);
    sealer.seal(in, out, seal, o);
    return out;
  }

  private static SealOptions options(
      SealOptions.Level level, SealOptions.Placement p, int certify) {
    return new SealOptions(
        level, p, Optional.of("合同盖章"), Optional.of("福州"), certify, Instant.now());
  }

  private static final SealOptions.Placement.Box BOX =
      new SealOptions.Placement.Box(1, 380, 80, 120, 120);

  @Test
  void aVisibleBbSealIsValidAndTrustedForPdfsigAndCleanForQpdf() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path out = sealTo(plain, "bb.pdf", options(SealOptions.Level.B_B, BOX, 0));
    String report = Judges.pdfsig(out, nss);
    assertThat(report)
        .contains("Signature Type: ETSI.CAdES.detached")
        .contains("Signature Validation: Signature is Valid.")
        .contains("Certificate Validation: Certificate is Trusted.")
        .contains("Total document signed");
    Judges.Result q = Judges.qpdfCheck(out);
    assertThat(q.exitCode()).as(q.output()).isZero();
    assertThat(q.output()).contains("No syntax or stream encoding errors");
    // Incremental: the original file is a prefix of the sealed one.
    byte[] before = Files.readAllBytes(plain);
    byte[] after = Files.readAllBytes(out);
    assertThat(Arrays.copyOf(after, before.length)).isEqualTo(before);
  }

  @Test
  void theCmsCarriesExactlyTheThreePadesSignedAttributesAndNoSigningTime() throws Exception {
    SealOptions options = options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 0);
    Path out = sealTo(plain, "attrs.pdf", options);
    SignerInformation si = signer(out, 0);
    assertThat(si.getSignedAttributes().toASN1Structure().getAttributes())
        .extracting(a -> a.getAttrType().getId())
        .containsExactlyInAnyOrder(
            PKCSObjectIdentifiers.pkcs_9_at_contentType.getId(),
            PKCSObjectIdentifiers.pkcs_9_at_messageDigest.getId(),
            PKCSObjectIdentifiers.id_aa_signingCertificateV2.getId());
    try (PDDocument doc = Loader.loadPDF(out.toFile())) {
      PDSignature sig = doc.getLastSignatureDictionary();
      assertThat(sig.getSubFilter()).isEqualTo("ETSI.CAdES.detached");
      // The /M entry: what PDFBox itself writes for the signing time (its DateConverter, the
      // independent reference), read back by PDFBox as the same second.
      java.util.Calendar utc =
          java.util.Calendar.getInstance(java.util.TimeZone.getTimeZone("UTC"));
      utc.setTimeInMillis(options.signingTime().toEpochMilli());
      assertThat(sig.getCOSObject().getString(org.apache.pdfbox.cos.COSName.M))
          .isEqualTo(org.apache.pdfbox.util.DateConverter.toString(utc));
      assertThat(sig.getSignDate().toInstant())
          .isEqualTo(options.signingTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
      assertThat(sig.getReason()).isEqualTo("合同盖章");
    }
  }

  @Test
  void aSecondSealKeepsTheFirstValidAndBothAreReportedValid() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path once = sealTo(plain, "once.pdf", options(SealOptions.Level.B_B, BOX, 0));
    Path twice =
        sealTo(
            once,
            "twice.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Box(2, 60, 60, 100, 100), 0));
    String report = Judges.pdfsig(twice, nss);
    assertThat(report).contains("Signature #1").contains("Signature #2");
    assertThat(report.split("Signature is Valid\\.", -1)).hasSize(3);
    assertThat(report).doesNotContain("Signature is Invalid");
    assertThat(Judges.qpdfCheck(twice).exitCode()).isZero();
    try (PDDocument doc = Loader.loadPDF(twice.toFile())) {
      assertThat(doc.getSignatureDictionaries()).hasSize(2);
    }
  }

  @Test
  void aBtSealCarriesASignatureTimeStampOverItsSignatureValue() throws Exception {
    Path out =
        sealTo(
            plain,
            "bt.pdf",
            options(SealOptions.Level.B_T, new SealOptions.Placement.Invisible(), 0));
    assertThat(Judges.pdfsig(out, nss)).contains("Signature is Valid.");
    SignerInformation si = signer(out, 0);
    Attribute ts =
        si.getUnsignedAttributes().get(PKCSObjectIdentifiers.id_aa_signatureTimeStampToken);
    assertThat(ts).isNotNull();
    TimeStampToken token =
        new TimeStampToken(
            new CMSSignedData(ts.getAttrValues().getObjectAt(0).toASN1Primitive().getEncoded()));
    assertThat(token.getTimeStampInfo().getMessageImprintDigest())
        .isEqualTo(MessageDigest.getInstance("SHA-256").digest(si.getSignature()));
  }

  @Test
  void bLtAddsADssWithTheChainsAndBLtaADocumentTimeStampAndEverySignatureStaysValid()
      throws Exception {
    Path lt =
        sealTo(
            plain,
            "lt.pdf",
            options(SealOptions.Level.B_LT, new SealOptions.Placement.Invisible(), 0));
    try (PDDocument doc = Loader.loadPDF(lt.toFile())) {
      var dss =
          doc.getDocumentCatalog()
              .getCOSObject()
              .getCOSDictionary(org.apache.pdfbox.cos.COSName.getPDFName("DSS"));
      assertThat(dss).isNotNull();
      // seal certificate, root, TSA certificate: each once
      assertThat(dss.getCOSArray(org.apache.pdfbox.cos.COSName.getPDFName("Certs")).size())
          .isEqualTo(3);
    }
    assertThat(Judges.pdfsig(lt, nss)).contains("Signature is Valid.");
    assertThat(Judges.qpdfCheck(lt).exitCode()).isZero();

    Path lta =
        sealTo(
            plain,
            "lta.pdf",
            options(SealOptions.Level.B_LTA, new SealOptions.Placement.Invisible(), 0));
    try (PDDocument doc = Loader.loadPDF(lta.toFile())) {
      List<PDSignature> sigs = doc.getSignatureDictionaries();
      assertThat(sigs).hasSize(2);
      assertThat(sigs.get(1).getSubFilter()).isEqualTo("ETSI.RFC3161");
      byte[] bytes = Files.readAllBytes(lta);
      TimeStampToken token =
          new TimeStampToken(new CMSSignedData(der(sigs.get(1).getContents(bytes))));
      assertThat(token.getTimeStampInfo().getMessageImprintDigest())
          .isEqualTo(
              MessageDigest.getInstance("SHA-256").digest(sigs.get(1).getSignedContent(bytes)));
    }
    String report = Judges.pdfsig(lta, nss);
    assertThat(report).contains("Signature #1").doesNotContain("Signature is Invalid");
    assertThat(Judges.qpdfCheck(lta).exitCode()).isZero();
  }

  @Test
  void aDocumentCertifiedWithP1IsRefusedAndLeftAlone() throws Exception {
    Path certified =
        sealTo(
            plain,
            "p1.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 1));
    assertThat(Judges.pdfsig(certified, nss)).contains("Signature is Valid.");
    try (PDDocument doc = Loader.loadPDF(certified.toFile())) {
      assertThat(DocMdp.permission(doc)).contains(1);
    }
    Path out = dir.resolve("p1-again.pdf");
    assertThatThrownBy(
            () ->
                sealer.seal(
                    certified,
                    out,
                    seal,
                    options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 0)))
        .isInstanceOf(SignException.class)
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.DOCMDP_FORBIDS);
    assertThat(out).doesNotExist();
  }

  @Test
  void aCertificationWithP2AllowsALaterApprovalSeal() throws Exception {
    Path certified =
        sealTo(
            plain,
            "p2.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 2));
    Path approved =
        sealTo(
            certified,
            "p2-approved.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 0));
    String report = Judges.pdfsig(approved, nss);
    assertThat(report.split("Signature is Valid\\.", -1)).hasSize(3);
  }

  @Test
  void theSealIsDrawnInRedInsideItsBoxAndNothingElseOnThePageChanges() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path out = sealTo(plain, "render.pdf", options(SealOptions.Level.B_B, BOX, 0));
    int[][] before = render(plain, "before");
    int[][] after = render(out, "after");
    // 72 dpi: one pixel per point; pdftoppm's y runs from the top of the 842 pt A4 page.
    int x0 = 380, x1 = 500, y0 = 842 - 200, y1 = 842 - 80;
    int red = 0, changedOutside = 0;
    for (int y = 0; y < after.length; y++) {
      for (int x = 0; x < after[y].length; x++) {
        boolean inside = x >= x0 - 1 && x <= x1 + 1 && y >= y0 - 1 && y <= y1 + 1;
        if (!inside && after[y][x] != before[y][x]) {
          changedOutside++;
        }
        if (inside && isSealRed(after[y][x])) {
          red++;
        }
      }
    }
    assertThat(changedOutside).isZero();
    assertThat(red).as("seal-red pixels inside the box").isGreaterThan(1500);
  }

  @Test
  void anAnchorTextPlacesTheSealOverIt() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path out =
        sealTo(
            plain,
            "anchor.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Anchor("{{seal}}", 100), 0));
    assertThat(Judges.pdfsig(out, nss)).contains("Signature is Valid.");
    try (PDDocument doc = Loader.loadPDF(out.toFile())) {
      var widget = doc.getDocumentCatalog().getAcroForm().getFields().get(0).getWidgets().get(0);
      assertThat(doc.getPages().indexOf(widget.getPage())).isEqualTo(1);
      PDRectangle r = widget.getRectangle();
      // The anchor's line starts at x=72 and sits 300 points below 760.
      assertThat(r.getLowerLeftY() + r.getHeight() / 2).isBetween(450f, 475f);
      assertThat(r.getLowerLeftX() + r.getWidth() / 2).isBetween(200f, 300f);
    }
    assertThatThrownBy(
            () ->
                sealTo(
                    plain,
                    "no-anchor.pdf",
                    options(
                        SealOptions.Level.B_B,
                        new SealOptions.Placement.Anchor("{{nowhere}}", 100),
                        0)))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.INVALID_PLACEMENT);
  }

  @Test
  void anExistingEmptySignatureFieldIsSealedWhereItIsAndOnlyOnce() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path withField = dir.resolve("with-field.pdf");
    try (PDDocument doc = Loader.loadPDF(plain.toFile())) {
      var form = new org.apache.pdfbox.pdmodel.interactive.form.PDAcroForm(doc);
      doc.getDocumentCatalog().setAcroForm(form);
      var field = new org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField(form);
      field.setPartialName("Approver");
      var widget = field.getWidgets().get(0);
      widget.setRectangle(new PDRectangle(200, 300, 120, 120));
      widget.setPage(doc.getPage(0));
      doc.getPage(0).getAnnotations().add(widget);
      form.getFields().add(field);
      doc.save(withField.toFile());
    }
    Path out =
        sealTo(
            withField,
            "field.pdf",
            options(SealOptions.Level.B_B, new SealOptions.Placement.Field("Approver"), 0));
    String report = Judges.pdfsig(out, nss);
    assertThat(report)
        .contains("Signature Field Name: Approver")
        .contains("Signature is Valid.")
        .contains("Certificate is Trusted.");
    assertThat(Judges.qpdfCheck(out).exitCode()).isZero();
    // The drawn seal's CJK font: embedded, and only the glyphs of the seal's text (a subset).
    Judges.Result fonts = Judges.run(dir, "pdffonts", out.toString());
    assertThat(fonts.output())
        .containsPattern("(?m)^[A-Z]{6}\\+\\S+\\s+CID TrueType\\s+Identity-H\\s+yes\\s+yes\\s");
    int[][] px = render(out, "field");
    int red = 0;
    for (int y = 842 - 420; y < 842 - 300; y++) {
      for (int x = 200; x < 320; x++) {
        red += isSealRed(px[y][x]) ? 1 : 0;
      }
    }
    assertThat(red).as("seal-red pixels inside the field").isGreaterThan(1000);
    for (String name : new String[] {"Approver", "Nobody"}) {
      assertThatThrownBy(
              () ->
                  sealTo(
                      out,
                      "field-again.pdf",
                      options(SealOptions.Level.B_B, new SealOptions.Placement.Field(name), 0)))
          .extracting(e -> ((SignException) e).code())
          .isEqualTo(SignException.Code.INVALID_PLACEMENT);
    }
  }

  @Test
  void onPagesRotated90180And270TheSealSitsUprightInTheBoxAsDisplayed() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path rotated = dir.resolve("rotated.pdf");
    try (PDDocument doc = new PDDocument()) {
      for (int r : new int[] {90, 180, 270}) {
        PDPage page = new PDPage(PDRectangle.A4);
        page.setRotation(r);
        doc.addPage(page);
      }
      doc.save(rotated.toFile());
    }
    SealIdentity noSubLine = withoutSubLine("-plain");
    Path in = rotated;
    for (int p = 1; p <= 3; p++) {
      Path out = dir.resolve("rotated-" + p + ".pdf");
      sealer.seal(
          in,
          out,
          noSubLine,
          options(SealOptions.Level.B_B, new SealOptions.Placement.Box(p, 400, 60, 120, 120), 0));
      in = out;
    }
    String report = Judges.pdfsig(in, nss);
    assertThat(report.split("Signature is Valid\\.", -1)).hasSize(4);
    assertThat(Judges.qpdfCheck(in).exitCode()).isZero();
    for (int p = 1; p <= 3; p++) {
      // Rendered as displayed: landscape for 90 and 270 (842 x 595), portrait for 180.
      int[][] px = render(in, p, "rot" + p);
      int height = px.length;
      int inside = 0, outside = 0, top = 0, bottom = 0;
      // The box as displayed: x 400..520, rows height-180..height-60 from the top of the image.
      int boxTop = height - 180;
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < px[y].length; x++) {
          if (!isSealRed(px[y][x])) {
            continue;
          }
          boolean in1 = x >= 399 && x <= 521 && y >= boxTop - 1 && y <= height - 59;
          if (!in1) {
            outside++;
            continue;
          }
          inside++;
          // The star, one point up: its narrow tip above the centre, its two legs below.
          int dy = y - (boxTop + 60);
          if (x >= 438 && x <= 482 && dy >= -18 && dy <= -10) {
            top++;
          } else if (x >= 438 && x <= 482 && dy >= 4 && dy <= 12) {
            bottom++;
          }
        }
      }
      assertThat(inside).as("page %d: red inside the box", p).isGreaterThan(1500);
      assertThat(outside).as("page %d: red outside the box", p).isZero();
      // Upright: the star's tip (few pixels) is above, its legs (many) below.
      assertThat(bottom)
          .as("page %d: upright (legs %d, tip %d)", p, bottom, top)
          .isGreaterThan(2 * top);
    }
  }

  /**
   * On pages rotated 90°, 180° and 270°, each with an anchor text that reads upright as displayed,
   * the seal is seen over the anchor: poppler's {@code pdftotext -bbox} says where the anchor is
   * seen, {@code pdftoppm} where the seal's red is seen, both as displayed.
   */
  @Test
  void onRotatedPagesAnAnchorPlacesTheSealWhereTheAnchorIsSeen() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    int[] rotations = {90, 180, 270};
    // Where each anchor starts as displayed: from the left and from the bottom of the page seen.
    float[][] at = {{500, 150}, {120, 600}, {300, 420}};
    Path in = dir.resolve("rotated-anchors.pdf");
    try (PDDocument doc = new PDDocument()) {
      var font =
          new org.apache.pdfbox.pdmodel.font.PDType1Font(
              org.apache.pdfbox.pdmodel.font.Standard14Fonts.FontName.HELVETICA);
      for (int i = 0; i < 3; i++) {
        int r = rotations[i];
        PDPage page = new PDPage(PDRectangle.A4);
        page.setRotation(r);
        doc.addPage(page);
        float w = PDRectangle.A4.getWidth();
        float h = PDRectangle.A4.getHeight();
        float dx = at[i][0];
        float dy = at[i][1];
        // The user-space point shown at (dx, dy), and the text turned against the page's turn.
        float[] user =
            switch (r) {
              case 90 -> new float[] {w - dy, dx};
              case 180 -> new float[] {w - dx, h - dy};
              default -> new float[] {dy, h - dx};
            };
        try (var cs = new org.apache.pdfbox.pdmodel.PDPageContentStream(doc, page)) {
          cs.beginText();
          cs.setFont(font, 14);
          cs.setTextMatrix(
              org.apache.pdfbox.util.Matrix.getRotateInstance(Math.toRadians(r), user[0], user[1]));
          cs.showText("{{r" + r + "}}");
          cs.endText();
        }
      }
      doc.save(in.toFile());
    }
    SealIdentity noSubLine = withoutSubLine("-anchored");
    for (int i = 0; i < 3; i++) {
      int r = rotations[i];
      Path out = dir.resolve("rotated-anchor-" + r + ".pdf");
      sealer.seal(
          in,
          out,
          noSubLine,
          options(
              SealOptions.Level.B_B, new SealOptions.Placement.Anchor("{{r" + r + "}}", 120), 0));
      in = out;
    }
    String report = Judges.pdfsig(in, nss);
    assertThat(report.split("Signature is Valid\\.", -1)).hasSize(4);
    for (int i = 0; i < 3; i++) {
      int p = i + 1;
      String anchor = "{{r" + rotations[i] + "}}";
      // Poppler's word box, as displayed (from the top-left, in points).
      Judges.Result text =
          Judges.run(dir, "pdftotext", "-bbox", "-f", "" + p, "-l", "" + p, in.toString(), "-");
      assertThat(text.exitCode()).as(text.output()).isZero();
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile(
                  "xMin=\"([0-9.]+)\" yMin=\"([0-9.]+)\" xMax=\"([0-9.]+)\" yMax=\"([0-9.]+)\">"
                      + java.util.regex.Pattern.quote(anchor)
                      + "<")
              .matcher(text.output());
      assertThat(m.find()).as("poppler sees %s on page %d: %s", anchor, p, text.output()).isTrue();
      double wordX = (Double.parseDouble(m.group(1)) + Double.parseDouble(m.group(3))) / 2;
      double wordY = (Double.parseDouble(m.group(2)) + Double.parseDouble(m.group(4))) / 2;
      int[][] px = render(in, p, "rotated-anchor-" + p);
      long n = 0;
      double sx = 0;
      double sy = 0;
      for (int y = 0; y < px.length; y++) {
        for (int x = 0; x < px[y].length; x++) {
          if (isSealRed(px[y][x])) {
            n++;
            sx += x;
            sy += y;
          }
        }
      }
      assertThat(n).as("page %d: the seal is seen", p).isGreaterThan(1000);
      assertThat(Math.abs(sx / n - wordX))
          .as("page %d: seal centre x %.0f, anchor %.0f", p, sx / n, wordX)
          .isLessThan(8);
      assertThat(Math.abs(sy / n - wordY))
          .as("page %d: seal centre y %.0f, anchor %.0f", p, sy / n, wordY)
          .isLessThan(8);
    }
  }

  @Test
  void encryptedAndRestrictedDocumentsAreRefused() throws Exception {
    Path locked = dir.resolve("locked.pdf");
    Path restricted = dir.resolve("restricted.pdf");
    try (PDDocument doc = Loader.loadPDF(plain.toFile())) {
      StandardProtectionPolicy p =
          new StandardProtectionPolicy("owner", "user", new AccessPermission());
      doc.protect(p);
      doc.save(locked.toFile());
    }
    try (PDDocument doc = Loader.loadPDF(plain.toFile())) {
      AccessPermission none = new AccessPermission();
      none.setCanModify(false);
      doc.protect(new StandardProtectionPolicy("owner", "", none));
      doc.save(restricted.toFile());
    }
    assertThatThrownBy(() -> sealTo(locked, "x1.pdf", options(SealOptions.Level.B_B, BOX, 0)))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.ENCRYPTED);
    assertThatThrownBy(() -> sealTo(restricted, "x2.pdf", options(SealOptions.Level.B_B, BOX, 0)))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.MODIFICATION_RESTRICTED);
    Path notPdf = Files.writeString(dir.resolve("not.pdf"), "PK\u0003\u0004 a zip renamed");
    assertThatThrownBy(() -> sealTo(notPdf, "x3.pdf", options(SealOptions.Level.B_B, BOX, 0)))
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.NOT_PDF);
    assertThat(dir.resolve("x1.pdf")).doesNotExist();
    assertThat(dir.resolve("x2.pdf")).doesNotExist();
    assertThat(dir.resolve("x3.pdf")).doesNotExist();
  }

  /** An SM2 seal with a self-signed SM2 certificate (the SM2 key signs it in the backend). */
  private static SealIdentity sm2Seal(String id) throws Exception {
    KeyInfo sm2 = keys.generate(KeyRef.Scheme.SOFT, KeySpec.SM2, "seal-" + id);
    X509CertificateHolder cert = TestPki.selfSigned(keys, sm2, "C=CN,O=" + ORG + ",CN=" + ORG);
    return new SealIdentity(
        id, sm2.ref(), SignatureAlgorithm.SM3_WITH_SM2, List.of(cert), ORG, "", Optional.empty());
  }

  @Test
  void anSm2SealVerifiesWithBouncyCastleOverTheSignedByteRanges() throws Exception {
    SealIdentity sm2Seal = sm2Seal("sm2");
    X509CertificateHolder cert = sm2Seal.certificate();
    Path out = dir.resolve("sm2.pdf");
    sealer.seal(
        plain,
        out,
        sm2Seal,
        options(SealOptions.Level.B_B, new SealOptions.Placement.Invisible(), 0));
    byte[] pdf = Files.readAllBytes(out);
    try (PDDocument doc = Loader.loadPDF(out.toFile())) {
      PDSignature sig = doc.getLastSignatureDictionary();
      byte[] signedContent = sig.getSignedContent(pdf);
      CMSSignedData cms =
          new CMSSignedData(new CMSProcessableByteArray(signedContent), der(sig.getContents(pdf)));
      SignerInformation si = cms.getSignerInfos().getSigners().iterator().next();
      assertThat(si.getDigestAlgOID()).isEqualTo("1.2.156.10197.1.401");
      assertThat(
              si.verify(
                  new JcaSimpleSignerInfoVerifierBuilder()
                      .setProvider(BouncyCastle.PROVIDER)
                      .build(cert)))
          .isTrue();
      // One flipped byte of the signed range and the same check fails.
      signedContent[signedContent.length / 2] ^= 1;
      CMSSignedData tampered =
          new CMSSignedData(new CMSProcessableByteArray(signedContent), der(sig.getContents(pdf)));
      SignerInformation t = tampered.getSignerInfos().getSigners().iterator().next();
      assertThatThrownBy(
              () ->
                  t.verify(
                      new JcaSimpleSignerInfoVerifierBuilder()
                          .setProvider(BouncyCastle.PROVIDER)
                          .build(cert)))
          .isInstanceOf(org.bouncycastle.cms.CMSSignerDigestMismatchException.class);
    }
  }

  @Test
  void anSm2BtSealCarriesAnSm3TimeStampFromTheSm2Tsa() throws Exception {
    SealIdentity sm2Seal = sm2Seal("sm2-bt");
    X509CertificateHolder cert = sm2Seal.certificate();
    Path out = dir.resolve("sm2-bt.pdf");
    sealer.seal(
        plain,
        out,
        sm2Seal,
        options(SealOptions.Level.B_T, new SealOptions.Placement.Invisible(), 0));
    byte[] pdf = Files.readAllBytes(out);
    try (PDDocument doc = Loader.loadPDF(out.toFile())) {
      PDSignature sig = doc.getLastSignatureDictionary();
      CMSSignedData cms =
          new CMSSignedData(
              new CMSProcessableByteArray(sig.getSignedContent(pdf)), der(sig.getContents(pdf)));
      SignerInformation si = cms.getSignerInfos().getSigners().iterator().next();
      var verifier = new JcaSimpleSignerInfoVerifierBuilder().setProvider(BouncyCastle.PROVIDER);
      assertThat(si.verify(verifier.build(cert))).isTrue();
      org.bouncycastle.asn1.cms.Attribute stamp =
          si.getUnsignedAttributes()
              .get(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.id_aa_signatureTimeStampToken);
      org.bouncycastle.tsp.TimeStampToken token =
          new org.bouncycastle.tsp.TimeStampToken(
              org.bouncycastle.asn1.cms.ContentInfo.getInstance(
                  stamp.getAttrValues().getObjectAt(0)));
      // SM3 over the signature value, signed SM3withSM2 by the SM2 TSA (GB/T 20520)
      assertThat(token.getTimeStampInfo().getMessageImprintAlgOID().getId())
          .isEqualTo("1.2.156.10197.1.401");
      org.bouncycastle.crypto.digests.SM3Digest sm3 =
          new org.bouncycastle.crypto.digests.SM3Digest();
      sm3.update(si.getSignature(), 0, si.getSignature().length);
      byte[] expected = new byte[32];
      sm3.doFinal(expected, 0);
      assertThat(token.getTimeStampInfo().getMessageImprintDigest()).isEqualTo(expected);
      assertThat(token.getSID().getSerialNumber()).isEqualTo(sm2TsaCert.getSerialNumber());
      token.validate(verifier.build(sm2TsaCert));
    }
  }

  private static SignerInformation signer(Path pdf, int index) throws Exception {
    return SignedPdfs.verifiedSigner(pdf, index);
  }

  private static byte[] der(byte[] contents) throws Exception {
    return SignedPdfs.der(contents);
  }

  private static boolean isSealRed(int rgb) {
    int r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    float[] red = SealDrawing.RED;
    return Math.abs(r - red[0] * 255) < 40
        && Math.abs(g - red[1] * 255) < 40
        && Math.abs(b - red[2] * 255) < 40;
  }

  /** Page 1 rendered by poppler's pdftoppm at 72 dpi, as rows of packed RGB. */
  private static int[][] render(Path pdf, String name) throws Exception {
    return render(pdf, 1, name);
  }

  /** A page rendered by poppler's pdftoppm at 72 dpi (as displayed), as rows of packed RGB. */
  private static int[][] render(Path pdf, int page, String name) throws Exception {
    Judges.Result r =
        Judges.run(
            dir,
            "pdftoppm",
            "-r",
            "72",
            "-f",
            "" + page,
            "-l",
            "" + page,
            "-singlefile",
            pdf.toString(),
            name);
    assertThat(r.exitCode()).as(r.output()).isZero();
    return ppm(dir.resolve(name + ".ppm"));
  }

  /** The test seal without a line under its star, under another id. */
  private static SealIdentity withoutSubLine(String idSuffix) {
    return new SealIdentity(
        seal.id() + idSuffix,
        seal.key(),
        seal.algorithm(),
        seal.chain(),
        seal.name(),
        "",
        Optional.empty());
  }

  /** A binary PPM (P6) as rows of packed RGB. */
  private static int[][] ppm(Path file) throws Exception {
    byte[] ppm = Files.readAllBytes(file);
    // P6 header: "P6\n<w> <h>\n255\n"
    int pos = 0;
    String[] fields = new String[4];
    for (int f = 0; f < 4; f++) {
      while (Character.isWhitespace(ppm[pos])) {
        pos++;
      }
      int start = pos;
      while (!Character.isWhitespace(ppm[pos])) {
        pos++;
      }
      fields[f] = new String(ppm, start, pos - start, java.nio.charset.StandardCharsets.US_ASCII);
    }
    pos++;
    int w = Integer.parseInt(fields[1]);
    int h = Integer.parseInt(fields[2]);
    int[][] px = new int[h][w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = pos + (y * w + x) * 3;
        px[y][x] = ((ppm[i] & 0xff) << 16) | ((ppm[i + 1] & 0xff) << 8) | (ppm[i + 2] & 0xff);
      }
    }
    return px;
  }
}
