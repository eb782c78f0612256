package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.hsm.KeyUseListener;
import io.yinxin.sign.SignException;
import io.yinxin.sign.testing.TestSealer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 MB document whose object stream inflates to 1 GiB: before {@link DecodeBudget}, sealing it
 * took 8.8 s and 1.4 GB of the node's memory. Now sealing, validating and the SM2 checks refuse it
 * with {@code TOO_LARGE} once {@link DecodeBudget#limit()} bytes are decoded, before the seal key
 * signs anything; ordinary documents are not affected (the producer corpus seals under the same
 * limit in {@code ProducerCorpusTest}).
 */
class DecodeBudgetTest {
  @TempDir static Path dir;
  static TestSealer fixture;
  static final AtomicInteger keyUses = new AtomicInteger();
  static byte[] bomb;

  @BeforeAll
  static void setUp() throws Exception {
    KeyUseListener counting = use -> keyUses.incrementAndGet();
    fixture = TestSealer.create(dir, "budget", "CN=Budget", "某某公司", "", List.of(counting));
    bomb = objectStreamBomb(1024);
  }

  /** {@code n} MiB of spaces, deflated (about 1 KiB per MiB). */
  static byte[] deflatedSpaces(int mebibytes, byte[] head, byte[] tail) {
    Deflater d = new Deflater(9);
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) ' ');
    byte[] buf = new byte[1 << 16];
    d.setInput(head);
    while (!d.needsInput()) {
      z.write(buf, 0, d.deflate(buf));
    }
    for (int i = 0; i < mebibytes; i++) {
      d.setInput(chunk);
      while (!d.needsInput()) {
        z.write(buf, 0, d.deflate(buf));
      }
    }
    d.setInput(tail);
    d.finish();
    while (!d.finished()) {
      z.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return z.toByteArray();
  }

  /**
   * A one-page PDF whose catalog (object 1) lives in an object stream (object 5), after {@code
   * mebibytes} MiB of spaces: every reader decodes all of it. A cross-reference stream (object 6)
   * points there.
   */
  static byte[] objectStreamBomb(int mebibytes) {
    byte[] z = deflatedSpaces(mebibytes, b("1 0 "), b("<< /Type /Catalog /Pages 2 0 R >>"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(b("%PDF-1.7\n"));
    long[] offset = new long[7];
    offset[2] = out.size();
    out.writeBytes(b("2 0 obj << /Type /Pages /Kids [4 0 R] /Count 1 >> endobj\n"));
    offset[5] = out.size();
    out.writeBytes(
        b(
            "5 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length "
                + z.length
                + " >> stream\n"));
    out.writeBytes(z);
    out.writeBytes(b("\nendstream endobj\n"));
    offset[4] = out.size();
    out.writeBytes(b("4 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n"));
    offset[6] = out.size();
    ByteBuffer xref = ByteBuffer.allocate(7 * 7);
    for (int n = 0; n < 7; n++) {
      if (n == 0 || n == 3) {
        xref.put((byte) 0).putInt(0).putShort((short) 65535);
      } else if (n == 1) {
        xref.put((byte) 2).putInt(5).putShort((short) 0); // object 1: first in stream 5
      } else {
        xref.put((byte) 1).putInt((int) offset[n]).putShort((short) 0);
      }
    }
    out.writeBytes(
        b("6 0 obj << /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length 49 >> stream\n"));
    out.writeBytes(xref.array());
    out.writeBytes(b("\nendstream endobj\nstartxref\n" + offset[6] + "\n%%EOF\n"));
    return out.toByteArray();
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void sealingAnObjectStreamBombIsRefusedBeforeTheKeySigns() throws Exception {
    Path in = Files.write(dir.resolve("bomb.pdf"), bomb);
    Path out = dir.resolve("bomb-sealed.pdf");
    int before = keyUses.get();
    SealOptions o = TestSealer.invisibleBasic();
    assertThatThrownBy(() -> fixture.sealer().seal(in, out, fixture.seal(), o))
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE))
        .hasMessageContaining("max-decoded-bytes");
    assertThat(out).doesNotExist();
    assertThat(dir.resolve("bomb-sealed.pdf.part")).doesNotExist();
    assertThat(keyUses.get()).as("key uses").isEqualTo(before);
    // The same document with its object stream under the limit is sealed: the refusal is the
    // budget's, not the document's shape.
    Path small = Files.write(dir.resolve("small.pdf"), objectStreamBomb(2));
    fixture.sealer().seal(small, out, fixture.seal(), o);
    assertThat(io.yinxin.sign.testing.Judges.qpdfCheck(out).exitCode()).isZero();
    try (var doc = org.apache.pdfbox.Loader.loadPDF(out.toFile())) {
      assertThat(doc.getSignatureDictionaries()).hasSize(1);
    }
    assertThat(keyUses.get()).as("key uses").isEqualTo(before + 1);
  }

  @Test
  void validatingAndTheSm2ChecksRefuseItToo() throws Exception {
    Path in = Files.write(dir.resolve("bomb-v.pdf"), bomb);
    var anchors = new io.yinxin.sign.validate.PadesValidator(List::of);
    assertThatThrownBy(() -> anchors.validate(in))
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE));
    assertThatThrownBy(() -> new io.yinxin.sign.validate.Sm2Verifier(List::of).verify(in))
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE));
    assertThatThrownBy(() -> PadesSealer.bottomRightOfLastPage(in, 100))
        .isInstanceOfSatisfying(
            SignException.class, e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE));
  }

  /**
   * Validation reads a document twice (its signatures counted, then DSS): each reading has the
   * budget, so a document within it is validated, not refused for having been read twice.
   */
  @Test
  void validationGivesEachOfItsTwoReadingsTheBudget() throws Exception {
    long before = DecodeBudget.limit();
    DecodeBudget.setLimit(12L << 20);
    try {
      var validator = new io.yinxin.sign.validate.PadesValidator(List::of);
      Path within = Files.write(dir.resolve("within.pdf"), objectStreamBomb(8));
      assertThat(io.yinxin.sign.validate.PadesValidator.summary(validator.validate(within)))
          .isEmpty();
      Path over = Files.write(dir.resolve("over.pdf"), objectStreamBomb(16));
      assertThatThrownBy(() -> validator.validate(over))
          .isInstanceOfSatisfying(
              SignException.class,
              e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE));
    } finally {
      DecodeBudget.setLimit(before);
    }
  }

  /**
   * The limit is exact, checked against the JDK's own inflater on random data: a stream that
   * decodes to the budget reads whole, one byte more fails, and so does every later decode in the
   * same scope.
   */
  @Test
  void theBudgetIsExactAndSpentOncePerScope() throws Exception {
    long seed = new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    int size = 10_000 + random.nextInt(50_000);
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) random.nextInt(4); // compressible, not trivially
    }
    COSStream stream = new COSStream();
    try (OutputStream o = stream.createOutputStream(COSName.FLATE_DECODE)) {
      o.write(data);
    }
    byte[] encoded;
    try (InputStream raw = stream.createRawInputStream()) {
      encoded = raw.readAllBytes();
    }
    Inflater inflater = new Inflater();
    inflater.setInput(encoded);
    byte[] reference = new byte[size + 1];
    assertThat(inflater.inflate(reference)).as("seed " + seed).isEqualTo(size);
    inflater.end();

    try (DecodeBudget.Scope s = DecodeBudget.open(size)) {
      try (InputStream in = stream.createInputStream()) {
        assertThat(in.readAllBytes()).as("seed " + seed).isEqualTo(data);
      }
      assertThat(s.exceeded()).isFalse();
    }
    try (DecodeBudget.Scope s = DecodeBudget.open(size - 1)) {
      assertThatThrownBy(stream::createInputStream).isInstanceOf(IOException.class);
      assertThat(s.exceeded()).isTrue();
      assertThatThrownBy(s::check)
          .isInstanceOfSatisfying(
              SignException.class,
              e -> assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE));
      // Spent: even a one-byte stream is refused now.
      COSStream tiny = new COSStream();
      try (OutputStream o = tiny.createOutputStream(COSName.FLATE_DECODE)) {
        o.write(1);
      }
      assertThatThrownBy(tiny::createInputStream).isInstanceOf(IOException.class);
      // A scope opened inside shares the budget.
      try (DecodeBudget.Scope inner = DecodeBudget.open()) {
        assertThat(inner.exceeded()).isTrue();
      }
    }
    // Outside any scope, each stream gets the whole limit.
    try (InputStream in = stream.createInputStream()) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  /** Every filter PDFBox knows decodes through the budget; a PDFBox upgrade that adds one fails. */
  @Test
  void everyFilterOfPdfBoxIsBounded() throws Exception {
    for (COSName name :
        List.of(
            COSName.FLATE_DECODE,
            COSName.FLATE_DECODE_ABBREVIATION,
            COSName.DCT_DECODE,
            COSName.DCT_DECODE_ABBREVIATION,
            COSName.CCITTFAX_DECODE,
            COSName.CCITTFAX_DECODE_ABBREVIATION,
            COSName.LZW_DECODE,
            COSName.LZW_DECODE_ABBREVIATION,
            COSName.ASCII_HEX_DECODE,
            COSName.ASCII_HEX_DECODE_ABBREVIATION,
            COSName.ASCII85_DECODE,
            COSName.ASCII85_DECODE_ABBREVIATION,
            COSName.RUN_LENGTH_DECODE,
            COSName.RUN_LENGTH_DECODE_ABBREVIATION,
            COSName.CRYPT,
            COSName.JPX_DECODE,
            COSName.JBIG2_DECODE)) {
      assertThat(DecodeBudget.bounds(name)).as(name.getName()).isTrue();
    }
    assertThat(DecodeBudget.filterCount()).isEqualTo(17);
  }
}
