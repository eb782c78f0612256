package io.yinxin.sign.validate;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Whether what a signed PDF holds after its last signed revision is incremental updates, as ISO
 * 32000-1 §7.5.6 writes them: the file ends with {@code startxref}, the offset of a cross-reference
 * section written after that revision, and {@code %%EOF}. A reader takes the document from that
 * section (and those it chains to), so EU DSS, which compares that document with each signed
 * revision, sees every change an update makes. Bytes appended without such an ending — objects
 * after the last {@code %%EOF}, a second {@code %%EOF} with no cross-reference section, a {@code
 * startxref} pointing back into the signed bytes — are what the "incremental saving attack" on PDF
 * signatures (Mladenov et al., 2019) uses: DSS, poppler and qpdf ignore them and DSS passes the
 * seal, while a reader that scans the file for objects shows them. No signature covers them and no
 * validator checks them, so such a document is not validated at all.
 */
final class SignedTail {
  /** Readers look for {@code startxref} in the file's last 1,024 bytes (ISO 32000-1 §7.5.5). */
  static final int WINDOW = 1024;

  private static final byte[] EOF = "%%EOF".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STARTXREF = "startxref".getBytes(StandardCharsets.US_ASCII);

  private SignedTail() {}

  /**
   * Null when the file is fine after {@code signedEnd} (the end of its last signed byte range, 0
   * for none); otherwise what is wrong.
   */
  static String problem(Path pdf, long signedEnd) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(pdf.toFile(), "r")) {
      long size = f.length();
      if (signedEnd <= 0 || signedEnd > size) {
        return null; // nothing signed, or a byte range DSS reports as invalid itself
      }
      long start = Math.max(0, size - WINDOW);
      byte[] tail = new byte[(int) (size - start)];
      f.seek(start);
      f.readFully(tail);
      int t = tail.length;
      while (t > 0 && whitespace(tail[t - 1])) {
        t--;
      }
      if (start + t <= signedEnd) {
        return null; // nothing but white space after the signed bytes
      }
      if (t == 0) {
        return "the document ends in more than "
            + WINDOW
            + " bytes of white space after its"
            + " last signed revision";
      }
      if (!endsWith(tail, t, EOF)) {
        return "the document has bytes after its last signed revision that end in no %%EOF:"
            + " objects there, which no signature covers, are shown by some PDF readers";
      }
      int s = lastIndexOf(tail, t - EOF.length, STARTXREF);
      long offset = s < 0 ? -1 : offset(tail, s + STARTXREF.length, t - EOF.length);
      if (offset < 0) {
        return "the document has bytes after its last signed revision that end in no"
            + " startxref: objects there, which no signature covers, are shown by some PDF readers";
      }
      // The revision the file's last startxref ends began after the %%EOF before it (or after the
      // signed bytes): its cross-reference section must be there, not in an earlier revision.
      long previous = Math.max(signedEnd, lastEofEnd(f, signedEnd, start + s));
      if (offset < previous) {
        return "the document's last startxref points into an earlier revision, and bytes follow"
            + " that revision: objects there, which no signature covers, are shown by some PDF"
            + " readers";
      }
      return null;
    }
  }

  /** The end of the last {@code %%EOF} wholly within [{@code from}, {@code to}), or -1. */
  static long lastEofEnd(RandomAccessFile f, long from, long to) throws IOException {
    byte[] chunk = new byte[64 * 1024];
    long end = to;
    while (end - from >= EOF.length) {
      long begin = Math.max(from, end - chunk.length);
      int n = (int) (end - begin);
      f.seek(begin);
      f.readFully(chunk, 0, n);
      int i = lastIndexOf(chunk, n, EOF);
      if (i >= 0) {
        return begin + i + EOF.length;
      }
      end = begin + EOF.length - 1; // a marker across the chunk boundary is found next time
    }
    return -1;
  }

  /** PDF white space (ISO 32000-1 Table 1). */
  private static boolean whitespace(byte b) {
    return b == 0 || b == 9 || b == 10 || b == 12 || b == 13 || b == 32;
  }

  private static boolean endsWith(byte[] b, int end, byte[] suffix) {
    if (end < suffix.length) {
      return false;
    }
    for (int i = 0; i < suffix.length; i++) {
      if (b[end - suffix.length + i] != suffix[i]) {
        return false;
      }
    }
    return true;
  }

  private static int lastIndexOf(byte[] b, int end, byte[] what) {
    for (int i = end - what.length; i >= 0; i--) {
      boolean match = true;
      for (int j = 0; j < what.length && match; j++) {
        match = b[i + j] == what[j];
      }
      if (match) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The decimal offset between {@code from} and {@code to}, white space around it and nothing else;
   * -1 if there is none or it has more than 18 digits.
   */
  private static long offset(byte[] b, int from, int to) {
    int i = from;
    if (i >= to || !whitespace(b[i])) {
      return -1;
    }
    while (i < to && whitespace(b[i])) {
      i++;
    }
    long n = 0;
    int digits = 0;
    while (i < to && b[i] >= '0' && b[i] <= '9') {
      n = n * 10 + (b[i] - '0');
      digits++;
      i++;
    }
    if (digits == 0 || digits > 18 || i == to || !whitespace(b[i])) {
      return -1;
    }
    while (i < to && whitespace(b[i])) {
      i++;
    }
    return i == to ? n : -1;
  }
}
