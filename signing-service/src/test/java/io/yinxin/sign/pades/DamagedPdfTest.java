package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.yinxin.sign.SignException;
import io.yinxin.sign.testing.Judges;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Five hundred damaged PDFs — bytes flipped, files truncated, objects removed, cross-reference
 * offsets changed, garbage inserted — from three producers' layouts (PDFBox, qpdf with object
 * streams, qpdf linearized). Each either seals into a document whose new signature verifies, or is
 * refused with a 4xx code and leaves no output; none takes more than 20 s, none fails otherwise.
 */
class DamagedPdfTest {
  private static final Set<SignException.Code> CLIENT_ERRORS =
      Set.of(
          SignException.Code.NOT_PDF,
          SignException.Code.ENCRYPTED,
          SignException.Code.MODIFICATION_RESTRICTED,
          SignException.Code.INVALID_PLACEMENT,
          SignException.Code.DOCMDP_FORBIDS);

  @TempDir static Path dir;
  static PadesSealer sealer;
  static SealIdentity seal;
  static List<byte[]> originals = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    var fixture =
        io.yinxin.sign.testing.TestSealer.create(dir, "damage", "CN=Damage Seal", "某某公司", "");
    seal = fixture.seal();
    sealer = fixture.sealer();
    Path plain = dir.resolve("plain.pdf");
    io.yinxin.sign.testing.TestPdfs.contract(plain);
    originals.add(Files.readAllBytes(plain));
    for (String[] variant : new String[][] {{"--object-streams=generate"}, {"--linearize"}}) {
      Path out = dir.resolve("variant-" + originals.size() + ".pdf");
      List<String> cmd = new ArrayList<>(List.of("qpdf"));
      cmd.addAll(List.of(variant));
      cmd.add(plain.toString());
      cmd.add(out.toString());
      Judges.Result r = Judges.run(dir, cmd.toArray(String[]::new));
      assertThat(r.exitCode()).as(r.output()).isZero();
      originals.add(Files.readAllBytes(out));
    }
  }

  @Test
  void fiveHundredDamagedPdfsAreSealedOrRefusedWithAClientErrorAndNeverLeaveAPartialFile()
      throws Exception {
    Random random = new Random(20261202);
    Map<SignException.Code, Integer> refused = new EnumMap<>(SignException.Code.class);
    int sealed = 0;
    for (int i = 0; i < 500; i++) {
      byte[] original = originals.get(i % originals.size());
      byte[] damaged = damage(original, random, i);
      Path in = Files.write(dir.resolve("damaged.pdf"), damaged);
      Path out = dir.resolve("out-" + i + ".pdf");
      SealOptions.Placement placement =
          i % 2 == 0
              ? new SealOptions.Placement.Invisible()
              : new SealOptions.Placement.Box(1, 300, 100, 100, 100);
      SealOptions options =
          new SealOptions(
              SealOptions.Level.B_B,
              placement,
              Optional.empty(),
              Optional.empty(),
              0,
              Instant.now());
      final int n = i;
      SignException.Code code =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20),
              () -> {
                try {
                  sealer.seal(in, out, seal, options);
                  return null;
                } catch (SignException e) {
                  return e.code();
                } catch (RuntimeException e) {
                  throw new AssertionError("mutant " + n + " failed with " + e, e);
                }
              });
      if (code == null) {
        sealed++;
        assertNewSignatureVerifies(out, damaged.length);
        Files.delete(out);
      } else {
        assertThat(CLIENT_ERRORS).as("mutant %d refused with %s", i, code).contains(code);
        assertThat(out).as("mutant %d left output", i).doesNotExist();
        refused.merge(code, 1, Integer::sum);
      }
    }
    System.out.println("damaged PDFs: sealed=" + sealed + " refused=" + refused);
    assertThat(sealed + refused.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(500);
    assertThat(refused).isNotEmpty();
  }

  /** One of five kinds of damage, chosen by {@code i}, placed by {@code random}. */
  static byte[] damage(byte[] pdf, Random random, int i) {
    String text = new String(pdf, StandardCharsets.ISO_8859_1);
    switch (i % 5) {
      case 0 -> {
        byte[] b = pdf.clone();
        int flips = 1 + random.nextInt(8);
        for (int k = 0; k < flips; k++) {
          b[random.nextInt(b.length)] ^= (byte) (1 + random.nextInt(255));
        }
        return b;
      }
      case 1 -> {
        return Arrays.copyOf(pdf, random.nextInt(pdf.length));
      }
      case 2 -> {
        List<int[]> objects = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("\\d+ 0 obj").matcher(text);
        while (m.find()) {
          int end = text.indexOf("endobj", m.start());
          if (end > 0) {
            objects.add(new int[] {m.start(), end + 6});
          }
        }
        if (objects.isEmpty()) {
          return Arrays.copyOf(pdf, pdf.length / 2);
        }
        int[] o = objects.get(random.nextInt(objects.size()));
        byte[] b = new byte[pdf.length - (o[1] - o[0])];
        System.arraycopy(pdf, 0, b, 0, o[0]);
        System.arraycopy(pdf, o[1], b, o[0], pdf.length - o[1]);
        return b;
      }
      case 3 -> {
        byte[] b = pdf.clone();
        int xref = text.lastIndexOf("startxref");
        int at = xref > 0 ? xref + 10 + random.nextInt(4) : random.nextInt(b.length);
        if (at < b.length) {
          b[at] = (byte) ('0' + random.nextInt(10));
        }
        int table = text.indexOf("xref\n");
        if (table > 0 && table + 40 < b.length) {
          b[table + 20 + random.nextInt(20)] = (byte) ('0' + random.nextInt(10));
        }
        return b;
      }
      default -> {
        int at = random.nextInt(pdf.length);
        byte[] junk = new byte[1 + random.nextInt(64)];
        random.nextBytes(junk);
        byte[] b = new byte[pdf.length + junk.length];
        System.arraycopy(pdf, 0, b, 0, at);
        System.arraycopy(junk, 0, b, at, junk.length);
        System.arraycopy(pdf, at, b, at + junk.length, pdf.length - at);
        return b;
      }
    }
  }

  /** The newest signature's CMS verifies over its byte ranges, and the input is kept as prefix. */
  private static void assertNewSignatureVerifies(Path out, int inputLength) throws Exception {
    assertThat(Files.size(out)).isGreaterThan(inputLength);
    io.yinxin.sign.testing.SignedPdfs.verifiedSigner(out, -1);
  }
}
