package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sign.testing.Judges;
import io.yinxin.sign.testing.TestPdfs;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Calendar;
import java.util.TimeZone;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.io.RandomAccessRead;
import org.apache.pdfbox.io.RandomAccessReadBufferedFile;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.ExternalSigningSupport;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SigningWriter} against its reference, PDFBox's own {@code
 * saveIncrementalForExternalSigning}: the same document with the same new signature must come out
 * byte for byte the same from both — the bytes to sign, and the file once the same signature is in
 * — for a PDFBox document and for qpdf's object streams and cross-reference stream (whose update is
 * itself a cross-reference stream).
 */
class SigningWriterTest {
  @TempDir Path dir;

  @Test
  void writesWhatPdfboxWrites() throws Exception {
    Path contract = dir.resolve("contract.pdf");
    TestPdfs.contract(contract);
    assertSameAsPdfbox(contract);
    Path objstm = dir.resolve("objstm.pdf");
    Judges.Result qpdf =
        Judges.run(
            dir, "qpdf", "--object-streams=generate", contract.toString(), objstm.toString());
    assertThat(qpdf.exitCode()).as(qpdf.output()).isZero();
    assertSameAsPdfbox(objstm);
  }

  @Test
  void refusesADocumentWithoutANewSignature() throws Exception {
    Path contract = dir.resolve("contract.pdf");
    TestPdfs.contract(contract);
    RandomAccessRead source = new RandomAccessReadBufferedFile(contract.toFile());
    try (PDDocument doc = Loader.loadPDF(source)) {
      assertThatThrownBy(
              () -> SigningWriter.saveIncremental(doc, source, new ByteArrayOutputStream()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("signature");
    }
  }

  private static void assertSameAsPdfbox(Path input) throws Exception {
    byte[] signature = new byte[1500];
    for (int i = 0; i < signature.length; i++) {
      signature[i] = (byte) (i * 31 + 7); // every byte value, as a CMS has
    }
    ByteArrayOutputStream reference = new ByteArrayOutputStream();
    byte[] referenceContent;
    try (PDDocument doc = Loader.loadPDF(input.toFile());
        SignatureOptions so = options()) {
      doc.addSignature(signature(), so);
      ExternalSigningSupport s = doc.saveIncrementalForExternalSigning(reference);
      try (InputStream in = s.getContent()) {
        referenceContent = in.readAllBytes();
      }
      s.setSignature(signature);
    }
    ByteArrayOutputStream ours = new ByteArrayOutputStream();
    byte[] ourContent;
    RandomAccessRead source = new RandomAccessReadBufferedFile(input.toFile());
    try (PDDocument doc = Loader.loadPDF(source);
        SignatureOptions so = options()) {
      doc.addSignature(signature(), so);
      try (var s = SigningWriter.saveIncremental(doc, source, ours)) {
        try (InputStream in = s.getContent()) {
          ourContent = in.readAllBytes();
        }
        s.setSignature(signature);
      }
    }
    assertThat(withoutNewId(ourContent))
        .as("the bytes to sign")
        .isEqualTo(withoutNewId(referenceContent));
    assertThat(withoutNewId(ours.toByteArray()))
        .as("the signed file")
        .isEqualTo(withoutNewId(reference.toByteArray()));
    byte[] original = Files.readAllBytes(input);
    assertThat(ours.toByteArray()).startsWith(original);
    assertThat(ours.size()).isGreaterThan(original.length + 2 * 4096);
  }

  /**
   * The file with the second half of its last {@code /ID} (which PDFBox derives from the clock when
   * it writes an update) blanked out; the check fails if there is no such {@code /ID}.
   */
  private static byte[] withoutNewId(byte[] pdf) {
    String text = new String(pdf, StandardCharsets.ISO_8859_1);
    Matcher m = NEW_ID.matcher(text);
    int at = -1;
    while (m.find()) {
      at = m.start(1);
    }
    assertThat(at).as("an /ID in the update").isPositive();
    byte[] out = pdf.clone();
    for (int i = at; out[i] != '>'; i++) {
      out[i] = '0';
    }
    return out;
  }

  private static final Pattern NEW_ID = Pattern.compile("/ID \\[<[0-9A-F]+> <([0-9A-F]+)>\\]");

  private static SignatureOptions options() {
    SignatureOptions so = new SignatureOptions();
    so.setPreferredSignatureSize(4096);
    return so;
  }

  private static PDSignature signature() {
    PDSignature s = new PDSignature();
    s.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
    s.setSubFilter(COSName.getPDFName("ETSI.CAdES.detached"));
    s.setName("福州某某科技有限公司"); // not ASCII: written as a hex string
    s.setReason("approval (of the terms)"); // ASCII with parentheses: a literal string
    Calendar when = Calendar.getInstance(TimeZone.getTimeZone("UTC"));
    when.setTimeInMillis(1_780_000_000_000L);
    s.setSignDate(when);
    return s;
  }
}
