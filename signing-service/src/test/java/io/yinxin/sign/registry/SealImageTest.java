package io.yinxin.sign.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sign.SignException;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * A seal's appearance image: PNGs written by the JDK's own encoder, with chunks laid out as the PNG
 * specification describes them, are taken; broken or bloated ones are refused before any decoder
 * inflates them.
 */
class SealImageTest {

  /** A 64×64 PNG as the JDK's encoder writes it: signature, IHDR, IDAT…, IEND. */
  static byte[] plainPng() throws IOException {
    BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
    img.setRGB(10, 10, 0xffcc0000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  /** A chunk: length, type, data, CRC-32 over type and data. */
  static byte[] chunk(String type, byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DataOutputStream d = new DataOutputStream(out);
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    d.writeInt(data.length);
    d.write(t);
    d.write(data);
    d.writeInt((int) crc.getValue());
    return out.toByteArray();
  }

  /** The PNG with these chunks placed right after IHDR (8 + 25 bytes in). */
  static byte[] withChunks(byte[] png, byte[]... chunks) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(png, 0, 33);
    for (byte[] c : chunks) {
      out.write(c);
    }
    out.write(png, 33, png.length - 33);
    return out.toByteArray();
  }

  static byte[] deflate(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(9))) {
      z.write(data);
    }
    return out.toByteArray();
  }

  /** {@code n} zero bytes, deflated without holding them all. */
  static byte[] deflatedZeros(long n) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] zeros = new byte[1 << 20];
    try (DeflaterOutputStream z = new DeflaterOutputStream(out, new Deflater(9))) {
      for (long left = n; left > 0; left -= zeros.length) {
        z.write(zeros, 0, (int) Math.min(left, zeros.length));
      }
    }
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] zTxt(byte[] compressed) {
    return concat(latin1("Comment"), new byte[] {0, 0}, compressed);
  }

  /** iTXt, compressed: keyword, NUL, flag 1, method 0, language, NUL, translated keyword, NUL. */
  static byte[] compressedITxt(byte[] compressed) {
    return concat(
        latin1("XML:com.adobe.xmp"),
        new byte[] {0, 1, 0},
        latin1("zh-CN"),
        new byte[] {0},
        "印章".getBytes(StandardCharsets.UTF_8),
        new byte[] {0},
        compressed);
  }

  static byte[] iccp(byte[] compressed) {
    return concat(latin1("sRGB"), new byte[] {0, 0}, compressed);
  }

  @Test
  void pngsWithOrdinaryTextAndAColourProfileAreTaken() throws Exception {
    byte[] png = plainPng();
    SealImage.check(png);
    byte[] srgb = ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData();
    byte[] rich =
        withChunks(
            png,
            chunk("iCCP", iccp(deflate(srgb))),
            chunk("tEXt", concat(latin1("Software"), new byte[] {0}, latin1("Yinxin test"))),
            chunk("zTXt", zTxt(deflate(latin1("a seal drawn for a test ".repeat(100))))),
            chunk(
                "iTXt", compressedITxt(deflate("<x:xmpmeta/>".getBytes(StandardCharsets.UTF_8)))));
    SealImage.check(rich);
    // The JDK's own reader, with metadata, agrees the file is whole.
    assertThat(ImageIO.read(new java.io.ByteArrayInputStream(rich)).getWidth()).isEqualTo(64);
  }

  @Test
  void compressedMetadataThatInflatesBeyondOneMegabyteIsRefused() throws Exception {
    byte[] png = plainPng();
    // 64 MiB of text in a 65 KB chunk; the same at 500 MiB, inside the 512 KB upload limit, held
    // the JDK's reader for 17 s and 1.6 GB when it read the metadata.
    byte[] bomb = deflatedZeros(64L << 20);
    for (byte[] bad :
        new byte[][] {
          withChunks(png, chunk("zTXt", zTxt(bomb))),
          withChunks(png, chunk("iTXt", compressedITxt(bomb))),
          withChunks(png, chunk("iCCP", iccp(bomb))),
          // Two chunks under the limit each, over it together.
          withChunks(
              png,
              chunk("zTXt", zTxt(deflatedZeros(600 << 10))),
              chunk("zTXt", zTxt(deflatedZeros(600 << 10))))
        }) {
      assertThat(bad.length).isLessThan(SealRegistry.MAX_IMAGE_BYTES);
      assertThatThrownBy(() -> SealImage.check(bad))
          .isInstanceOf(SignException.class)
          .hasMessage("the image's compressed text and colour profile inflate beyond 1 MB");
    }
    // Exactly at the limit is taken.
    SealImage.check(
        withChunks(png, chunk("zTXt", zTxt(deflatedZeros(SealImage.MAX_INFLATED_METADATA)))));
  }

  @Test
  void brokenStructureIsRefused() throws Exception {
    byte[] png = plainPng();
    byte[] badCrc = png.clone();
    badCrc[29] ^= 1; // IHDR's CRC
    byte[] tail = concat(png, latin1("%PDF-1.7 trailing"));
    byte[] noEnd = Arrays.copyOf(png, png.length - 12);
    byte[] longChunk = withChunks(png, concat(new byte[] {0x7f, 0, 0, 0}, latin1("tEXt")));
    byte[] ihdrTwice = withChunks(png, Arrays.copyOfRange(png, 8, 33));
    byte[] notIhdrFirst =
        concat(
            Arrays.copyOf(png, 8),
            chunk("tEXt", latin1("a\0b")),
            Arrays.copyOfRange(png, 8, png.length));
    byte[] badType = withChunks(png, chunk("tE1t", latin1("a\0b")));
    byte[] truncatedText =
        withChunks(png, chunk("zTXt", zTxt(Arrays.copyOf(deflate(latin1("x".repeat(5000))), 10))));
    byte[] noKeywordEnd = withChunks(png, chunk("zTXt", latin1("Comment")));
    byte[] notZlib = withChunks(png, chunk("iCCP", iccp(latin1("not zlib at all"))));
    assertThatThrownBy(() -> SealImage.check(badCrc))
        .hasMessage("the image's IHDR chunk fails its CRC");
    assertThatThrownBy(() -> SealImage.check(tail)).hasMessage("the image has bytes after its end");
    for (byte[] bad :
        new byte[][] {
          noEnd, longChunk, ihdrTwice, notIhdrFirst, badType, truncatedText, noKeywordEnd, notZlib
        }) {
      assertThatThrownBy(() -> SealImage.check(bad)).hasMessage("the image is not a readable PNG");
    }
  }

  @Test
  void sizeAndKindAreCheckedFirst() throws Exception {
    assertThatThrownBy(() -> SealImage.check(latin1("GIF89a...")))
        .hasMessage("the image must be a PNG");
    assertThatThrownBy(() -> SealImage.check(new byte[SealRegistry.MAX_IMAGE_BYTES + 1]))
        .hasMessage("the image is larger than 512 KB");
    BufferedImage tiny = new BufferedImage(8, 64, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(tiny, "png", out);
    assertThatThrownBy(() -> SealImage.check(out.toByteArray()))
        .hasMessage("the image must be 16-2048 pixels a side");
  }
}
