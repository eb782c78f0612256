package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sign.testing.SignedPdfs;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestSealer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A document is first read with PDFBox's repairs off, and only a document that needs them goes the
 * lenient way with the read-back check: the strict reading must really refuse what PDFBox would
 * otherwise repair silently (here a startxref pointing twelve bytes into its cross-reference
 * stream), and such a document still seals into a file whose signature verifies.
 */
class StrictReadingTest {
  @TempDir Path dir;

  @Test
  void aDocumentThatNeedsRepairIsNotReadStrictlyAndStillSeals() throws Exception {
    Path clean = dir.resolve("clean.pdf");
    TestPdfs.contract(clean);
    try (PDDocument doc = PadesSealer.openStrict(clean)) {
      assertThat(doc).isNotNull();
      assertThat(doc.getNumberOfPages()).isEqualTo(2);
    }

    String text = new String(Files.readAllBytes(clean), StandardCharsets.ISO_8859_1);
    int at = text.lastIndexOf("startxref") + "startxref".length();
    String offset = text.substring(at).trim().split("\\s+")[0];
    String moved = text.substring(0, at) + "\n" + (Long.parseLong(offset) + 12) + "\n%%EOF\n";
    Path damaged =
        Files.write(dir.resolve("damaged.pdf"), moved.getBytes(StandardCharsets.ISO_8859_1));

    assertThat(PadesSealer.openStrict(damaged)).isNull();
    try (PDDocument repaired = Loader.loadPDF(damaged.toFile())) {
      assertThat(repaired.getNumberOfPages()).isEqualTo(2); // the lenient reading repairs it
    }

    TestSealer t = TestSealer.create(dir, "strict", "CN=Strict Seal", "某某公司", "");
    Path out = dir.resolve("out.pdf");
    t.sealer()
        .seal(
            damaged,
            out,
            t.seal(),
            new SealOptions(
                SealOptions.Level.B_B,
                new SealOptions.Placement.Invisible(),
                Optional.empty(),
                Optional.empty(),
                0,
                Instant.now()));
    SignedPdfs.verifiedSigner(out, -1);
  }
}
