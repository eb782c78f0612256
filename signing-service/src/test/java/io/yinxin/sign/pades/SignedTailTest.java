package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sign.SignException;
import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestSealer;
import io.yinxin.sign.validate.PadesValidator;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The incremental saving attack without a cross-reference section (Mladenov et al., "1 Trillion
 * Dollar Refund", 2019): objects appended to a sealed PDF after its last {@code %%EOF}, which qpdf
 * and poppler ignore and EU DSS does not report (it passed the seal), but which a reader scanning
 * the file for objects shows. Such a document is not validated; proper incremental updates (the
 * validation data B-LT adds, another seal) are.
 */
class SignedTailTest {
  @TempDir Path dir;

  private TestSealer sealer;
  private Path sealed;
  private PadesValidator validator;

  /** A replacement for a page's content stream, as the attack appends it. */
  private static final String FORGED_OBJECT =
      "4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 14 Tf 72 760 Td (pay Mallory) Tj ET\n"
          + "endstream\nendobj\n";

  @BeforeEach
  void seal() throws Exception {
    sealer = TestSealer.create(dir, "tail", "C=CN,O=Tail,CN=Tail", "Tail", "");
    Path plain = dir.resolve("plain.pdf");
    TestPdfs.contract(plain);
    sealed = dir.resolve("sealed.pdf");
    sealer.sealer().seal(plain, sealed, sealer.seal(), TestSealer.invisibleBasic());
    validator = new PadesValidator(() -> List.of(sealer.pki().root));
  }

  private Path appended(String name, String text) throws Exception {
    return appended(sealed, name, text);
  }

  /** {@code base} with {@code text} (ISO 8859-1) appended, as {@code name}. */
  private Path appended(Path base, String name, String text) throws Exception {
    Path p = dir.resolve(name);
    byte[] a = Files.readAllBytes(base);
    byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return Files.write(p, out);
  }

  @Test
  void objectsAppendedAfterTheLastRevisionAreRefusedHoweverTheyEnd() throws Exception {
    Matcher m =
        Pattern.compile("startxref\\s+(\\d+)\\s+%%EOF\\s*$")
            .matcher(Files.readString(sealed, StandardCharsets.ISO_8859_1));
    assertThat(m.find()).isTrue();
    String signedXref = m.group(1);

    Path bare = appended("bare.pdf", FORGED_OBJECT);
    Path fakeEof = appended("fake-eof.pdf", FORGED_OBJECT + "%%EOF\n");
    Path oldXref =
        appended("old-xref.pdf", FORGED_OBJECT + "startxref\n" + signedXref + "\n%%EOF\n");
    // The outside judge reads each as a sound PDF, ignoring what was appended.
    for (Path p : List.of(bare, fakeEof, oldXref)) {
      assertThat(Judges.qpdfCheck(p).exitCode()).as(p.toString()).isZero();
    }
    assertThatThrownBy(() -> validator.validate(bare))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("end in no %%EOF")
        .extracting(e -> ((SignException) e).code())
        .isEqualTo(SignException.Code.NOT_PDF);
    assertThatThrownBy(() -> validator.validate(fakeEof))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("end in no startxref");
    // The same after a proper unsigned update (validation data): the last startxref names the
    // update's own section again, not one after the appended objects.
    Path withData = dir.resolve("with-data.pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(sealed, out, List.of(sealer.certificate().getEncoded()), List.of(), List.of());
    }
    Matcher d =
        Pattern.compile("startxref\\s+(\\d+)\\s+%%EOF\\s*$")
            .matcher(Files.readString(withData, StandardCharsets.ISO_8859_1));
    assertThat(d.find()).isTrue();
    Path afterData =
        appended(
            withData, "after-data.pdf", FORGED_OBJECT + "startxref\n" + d.group(1) + "\n%%EOF\n");
    assertThat(Judges.qpdfCheck(afterData).exitCode()).isZero();
    assertThatThrownBy(() -> validator.validate(afterData))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("points into an earlier revision");
    // However far back that revision ends (the look-back reads 64 KB at a time).
    Path farAfterData =
        appended(
            withData,
            "far-after-data.pdf",
            FORGED_OBJECT + "%" + "x".repeat(200_000) + "\nstartxref\n" + d.group(1) + "\n%%EOF\n");
    assertThatThrownBy(() -> validator.validate(farAfterData))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("points into an earlier revision");
    assertThatThrownBy(() -> validator.validate(oldXref))
        .isInstanceOf(SignException.class)
        .hasMessageContaining("points into an earlier revision");
  }

  @Test
  void incrementalUpdatesAndTrailingWhiteSpaceAfterTheSealAreValidated() throws Exception {
    // Without revocation data the seal is INDETERMINATE, trailing white space or not.
    Object plain = PadesValidator.summary(validator.validate(sealed)).get(0).get("indication");
    assertThat(
            PadesValidator.summary(validator.validate(appended("spaces.pdf", "\r\n \n\0"))).get(0))
        .containsEntry("indication", plain);

    Path withData = dir.resolve("with-data.pdf");
    try (OutputStream out = Files.newOutputStream(withData)) {
      DssWriter.add(
          sealed,
          out,
          List.of(sealer.certificate().getEncoded(), sealer.pki().root.getEncoded()),
          List.of(),
          List.of(sealer.pki().crl(java.time.Instant.now()).getEncoded()));
    }
    assertThat(PadesValidator.summary(validator.validate(withData)))
        .singleElement()
        .satisfies(r -> assertThat(r).containsEntry("indication", "TOTAL_PASSED"));
  }
}
