package io.yinxin.sign.registry;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;

/**
 * The check an uploaded seal appearance passes before it is stored: a PNG (ISO/IEC 15948, the W3C
 * PNG specification) of at most {@link SealRegistry#MAX_IMAGE_BYTES}, 16–2048 pixels a side, whose
 * chunks are whole, in order and carry their CRCs, with nothing after {@code IEND}, and whose
 * compressed text and colour-profile chunks ({@code zTXt}, compressed {@code iTXt}, {@code iCCP})
 * inflate to at most {@link #MAX_INFLATED_METADATA} together.
 *
 * <p>The last rule is why the chunks are walked here: the JDK's PNG reader inflates every {@code
 * zTXt} whole when it reads metadata, and the image is read again when a seal is drawn, so a 500 KB
 * upload whose text inflates to 500 MB held a thread for 17 s and 1.6 GB of heap on each read.
 */
final class SealImage {
  /** What a PNG's compressed metadata may inflate to, all chunks together. */
  static final int MAX_INFLATED_METADATA = 1 << 20;

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private SealImage() {}

  static void check(byte[] png) {
    if (png.length > SealRegistry.MAX_IMAGE_BYTES) {
      throw invalid("the image is larger than 512 KB");
    }
    if (png.length < SIGNATURE.length
        || !Arrays.equals(Arrays.copyOf(png, SIGNATURE.length), SIGNATURE)) {
      throw invalid("the image must be a PNG");
    }
    walkChunks(png);
    try {
      var reader = ImageIO.getImageReadersByFormatName("png").next();
      try (var in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
        reader.setInput(in, true, true); // metadata is not needed to check the pixels
        int w = reader.getWidth(0);
        int h = reader.getHeight(0);
        if (w < 16 || h < 16 || w > 2048 || h > 2048) {
          throw invalid("the image must be 16-2048 pixels a side");
        }
        reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof SignException s) {
        throw s;
      }
      throw unreadable();
    }
  }

  private static void walkChunks(byte[] png) {
    ByteBuffer b = ByteBuffer.wrap(png);
    b.position(SIGNATURE.length);
    long inflated = 0;
    boolean first = true;
    while (true) {
      if (b.remaining() < 12) {
        throw unreadable(); // every chunk has length, type and CRC; IEND must come
      }
      int length = b.getInt();
      if (length < 0 || length > b.remaining() - 8) {
        throw unreadable();
      }
      int typeAt = b.position();
      String type = new String(png, typeAt, 4, StandardCharsets.ISO_8859_1);
      if (!type.chars().allMatch(ch -> (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'))) {
        throw unreadable();
      }
      CRC32 crc = new CRC32();
      crc.update(png, typeAt, 4 + length);
      b.position(typeAt + 4 + length);
      if ((int) crc.getValue() != b.getInt()) {
        throw invalid("the image's " + type + " chunk fails its CRC");
      }
      if (first != type.equals("IHDR")) {
        throw unreadable(); // IHDR first, and once
      }
      first = false;
      int dataAt = typeAt + 4;
      int compressedAt =
          switch (type) {
            case "zTXt", "iCCP" -> afterNul(png, dataAt, length, 1); // name, method
            case "iTXt" -> compressedText(png, dataAt, length);
            default -> -1;
          };
      if (compressedAt >= 0) {
        inflated +=
            inflatedSize(png, compressedAt, dataAt + length, MAX_INFLATED_METADATA - inflated);
      }
      if (type.equals("IEND")) {
        if (b.hasRemaining()) {
          throw invalid("the image has bytes after its end");
        }
        return;
      }
    }
  }

  /** Where iTXt's text starts if it is compressed (keyword, flag, method, language, keyword). */
  private static int compressedText(byte[] png, int at, int length) {
    int flag = afterNul(png, at, length, 2);
    if (png[flag - 2] == 0) {
      return -1; // stored as is
    }
    int language = afterNul(png, flag, at + length - flag, 0);
    return afterNul(png, language, at + length - language, 0);
  }

  /** The index {@code extra} bytes past the first NUL in {@code [at, at + length)}. */
  private static int afterNul(byte[] png, int at, int length, int extra) {
    for (int i = at; i < at + length; i++) {
      if (png[i] == 0) {
        if (i + 1 + extra > at + length) {
          throw unreadable();
        }
        return i + 1 + extra;
      }
    }
    throw unreadable();
  }

  private static long inflatedSize(byte[] png, int from, int to, long budget) {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(png, from, to - from);
      byte[] out = new byte[8192];
      long total = 0;
      while (!inflater.finished()) {
        int n = inflater.inflate(out);
        total += n;
        if (total > budget) {
          throw invalid("the image's compressed text and colour profile inflate beyond 1 MB");
        }
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw unreadable(); // truncated
        }
      }
      return total;
    } catch (DataFormatException e) {
      throw unreadable();
    } finally {
      inflater.end();
    }
  }

  private static SignException unreadable() {
    return invalid("the image is not a readable PNG");
  }

  private static SignException invalid(String message) {
    return new SignException(Code.INVALID_REQUEST, message);
  }
}
