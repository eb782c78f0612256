package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.testing.Judges;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.verapdf.gf.foundry.VeraGreenfieldFoundryProvider;
import org.verapdf.pdfa.Foundries;
import org.verapdf.pdfa.PDFAParser;
import org.verapdf.pdfa.PDFAValidator;
import org.verapdf.pdfa.flavours.PDFAFlavour;
import org.verapdf.pdfa.results.TestAssertion;
import org.verapdf.pdfa.results.ValidationResult;

/**
 * A PDF/A-2b document stays PDF/A-2b when sealed: the archive format an agency keeps its records
 * in. The document comes from Ghostscript (pdfwrite with -dPDFA=2) and the judge is veraPDF, the
 * PDF Association's reference validator, asked about the original first (so a failure is ours, not
 * the producer's) and then about each sealed version: drawn seal, invisible seal, and a second seal
 * over the first.
 */
class PdfaStaysPdfaTest {
  @TempDir static Path dir;
  static PadesSealer sealer;
  static SealIdentity seal;
  static Path pdfa;

  @BeforeAll
  static void setUp() throws Exception {
    VeraGreenfieldFoundryProvider.initialise();
    var fixture =
        io.yinxin.sign.testing.TestSealer.create(
            dir, "pdfa", "C=CN,O=某某档案馆,CN=某某档案馆", "某某档案馆", "档案专用章");
    seal = fixture.seal();
    sealer = fixture.sealer();
    pdfa = ghostscriptPdfa2b();
  }

  /** PostScript through Ghostscript's pdfwrite with -dPDFA=2 and its sRGB output intent. */
  private static Path ghostscriptPdfa2b() throws Exception {
    Path lib;
    try (Stream<Path> s = Files.list(Path.of("/usr/share/ghostscript"))) {
      lib = s.filter(p -> Files.exists(p.resolve("lib/PDFA_def.ps"))).findFirst().orElse(null);
    }
    assumeTrue(lib != null, "Ghostscript (ghostscript package) is installed");
    Files.copy(lib.resolve("iccprofiles/srgb.icc"), dir.resolve("srgb.icc"));
    Files.copy(lib.resolve("lib/PDFA_def.ps"), dir.resolve("PDFA_def.ps"));
    Files.writeString(
        dir.resolve("record.ps"),
        "%!PS\n/Helvetica findfont 14 scalefont setfont\n72 720 moveto (Record 2026-0042) show\n"
            + "72 700 moveto (Archived by the city records office) show\nshowpage\n");
    Path out = dir.resolve("pdfa-2b.pdf");
    Judges.Result r =
        Judges.run(
            dir,
            "gs",
            "-q",
            "-dPDFA=2",
            "-dBATCH",
            "-dNOPAUSE",
            "--permit-file-read=srgb.icc",
            "-sColorConversionStrategy=RGB",
            "-sDEVICE=pdfwrite",
            "-dPDFACompatibilityPolicy=1",
            "-sOutputFile=" + out,
            "PDFA_def.ps",
            "record.ps");
    assertThat(r.exitCode()).as(r.output()).isZero();
    return out;
  }

  /** veraPDF's failed PDF/A-2b rules, empty when the file is compliant. */
  private static String failures(Path pdf) throws Exception {
    try (InputStream in = Files.newInputStream(pdf);
        PDFAParser parser = Foundries.defaultInstance().createParser(in, PDFAFlavour.PDFA_2_B)) {
      PDFAValidator validator =
          Foundries.defaultInstance().createValidator(PDFAFlavour.PDFA_2_B, false);
      ValidationResult result = validator.validate(parser);
      return result.getTestAssertions().stream()
          .filter(a -> a.getStatus() == TestAssertion.Status.FAILED)
          .map(
              a ->
                  a.getRuleId().getClause()
                      + "-"
                      + a.getRuleId().getTestNumber()
                      + " "
                      + a.getMessage())
          .distinct()
          .collect(Collectors.joining("\n"));
    }
  }

  private static Path sealed(Path in, String name, SealOptions.Placement placement) {
    Path out = dir.resolve(name);
    sealer.seal(
        in,
        out,
        seal,
        new SealOptions(
            SealOptions.Level.B_B,
            placement,
            Optional.of("归档"),
            Optional.empty(),
            0,
            Instant.now()));
    return out;
  }

  @Test
  void theGhostscriptFileIsPdfa2bBeforeSealingAndAnOrdinaryPdfIsNot() throws Exception {
    assertThat(failures(pdfa)).isEmpty();
    // The judge can say no: a PDFBox document with no output intent, XMP or embedded font.
    Path ordinary = dir.resolve("ordinary.pdf");
    io.yinxin.sign.testing.TestPdfs.contract(ordinary);
    assertThat(failures(ordinary)).contains("6.6.2.1").contains("6.2.4.3");
  }

  @Test
  void aDrawnSealKeepsThePdfa2bDocumentPdfa2b() throws Exception {
    assumeTrue(SealFont.installed().isPresent(), "a CJK font package is installed");
    Path out = sealed(pdfa, "pdfa-drawn.pdf", new SealOptions.Placement.Box(1, 380, 80, 119, 119));
    assertThat(failures(out)).isEmpty();
    Path twice =
        sealed(out, "pdfa-twice.pdf", new SealOptions.Placement.Box(1, 380, 220, 119, 119));
    assertThat(failures(twice)).isEmpty();
    assertThat(Judges.pdfsig(twice, null).split("Signature is Valid\\.", -1)).hasSize(3);
  }

  @Test
  void anInvisibleSealKeepsThePdfa2bDocumentPdfa2b() throws Exception {
    Path out = sealed(pdfa, "pdfa-invisible.pdf", new SealOptions.Placement.Invisible());
    assertThat(failures(out)).isEmpty();
  }
}
