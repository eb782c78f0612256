package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.yinxin.sign.SignException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.Deflater;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PDFs built to hurt a parser: arrays nested a hundred thousand deep, a page tree that is its own
 * parent, a content stream that inflates to a gigabyte. Each is refused with a client error or
 * sealed, within seconds, and never takes the service down with it.
 */
class HostilePdfTest {
  @TempDir static Path dir;
  static PadesSealer sealer;
  static SealIdentity seal;

  @BeforeAll
  static void setUp() throws Exception {
    var fixture =
        io.yinxin.sign.testing.TestSealer.create(dir, "hostile", "CN=Hostile", "某某公司", "");
    seal = fixture.seal();
    sealer = fixture.sealer();
  }

  /** A PDF from object bodies (object i+1 is the i-th body), with a correct xref table. */
  static byte[] pdf(List<byte[]> objects, int root) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("%PDF-1.7\n".getBytes(StandardCharsets.ISO_8859_1));
    List<Integer> offsets = new ArrayList<>();
    for (int i = 0; i < objects.size(); i++) {
      offsets.add(out.size());
      out.writeBytes(((i + 1) + " 0 obj\n").getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(objects.get(i));
      out.writeBytes("\nendobj\n".getBytes(StandardCharsets.ISO_8859_1));
    }
    int xref = out.size();
    StringBuilder sb =
        new StringBuilder("xref\n0 " + (objects.size() + 1) + "\n0000000000 65535 f \n");
    for (int o : offsets) {
      sb.append(String.format("%010d 00000 n \n", o));
    }
    sb.append("trailer\n<< /Size ")
        .append(objects.size() + 1)
        .append(" /Root ")
        .append(root)
        .append(" 0 R >>\nstartxref\n")
        .append(xref)
        .append("\n%%EOF\n");
    out.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private SignException.Code sealOrRefuse(byte[] pdf, SealOptions.Placement placement)
      throws Exception {
    Path in = Files.write(dir.resolve("hostile.pdf"), pdf);
    Path out = dir.resolve("hostile-out.pdf");
    Files.deleteIfExists(out);
    SealOptions o =
        new SealOptions(
            SealOptions.Level.B_B, placement, Optional.empty(), Optional.empty(), 0, Instant.now());
    SignException.Code code =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () -> {
              try {
                sealer.seal(in, out, seal, o);
                return null;
              } catch (SignException e) {
                return e.code();
              }
            });
    if (code != null) {
      assertThat(out).doesNotExist();
      assertThat(code.httpStatus()).isBetween(400, 499);
    }
    return code;
  }

  @Test
  void arraysNestedAHundredThousandDeepAreRefusedNotAStackOverflow() throws Exception {
    String deep = "[".repeat(100_000) + "]".repeat(100_000);
    byte[] pdf =
        pdf(
            List.of(
                b("<< /Type /Catalog /Pages 2 0 R /Deep " + deep + " >>"),
                b("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
                b("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")),
            1);
    sealOrRefuse(pdf, new SealOptions.Placement.Invisible());
  }

  @Test
  void aPageTreeThatIsItsOwnParentIsRefusedOrSealedWithoutLooping() throws Exception {
    byte[] pdf =
        pdf(
            List.of(
                b("<< /Type /Catalog /Pages 2 0 R >>"),
                b("<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 /Parent 2 0 R >>"),
                b("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")),
            1);
    sealOrRefuse(pdf, new SealOptions.Placement.Box(1, 100, 100, 100, 100));
  }

  @Test
  void aContentStreamInflatingToAGigabyteDoesNotExhaustTheServiceWhenSearchingAnAnchor()
      throws Exception {
    // 1 GiB of spaces deflates to about 1 MiB.
    Deflater d = new Deflater(9);
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) ' ');
    byte[] buf = new byte[1 << 16];
    for (int i = 0; i < 1024; i++) {
      d.setInput(chunk);
      while (!d.needsInput()) {
        int n = d.deflate(buf);
        z.write(buf, 0, n);
      }
    }
    d.finish();
    while (!d.finished()) {
      int n = d.deflate(buf);
      z.write(buf, 0, n);
    }
    byte[] stream = z.toByteArray();
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    content.writeBytes(b("<< /Length " + stream.length + " /Filter /FlateDecode >>\nstream\n"));
    content.writeBytes(stream);
    content.writeBytes(b("\nendstream"));
    byte[] pdf =
        pdf(
            List.of(
                b("<< /Type /Catalog /Pages 2 0 R >>"),
                b("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
                b("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"),
                content.toByteArray()),
            1);
    SignException.Code code = sealOrRefuse(pdf, new SealOptions.Placement.Anchor("{{seal}}", 100));
    assertThat(code).isIn(SignException.Code.INVALID_PLACEMENT, SignException.Code.NOT_PDF);
  }
}
