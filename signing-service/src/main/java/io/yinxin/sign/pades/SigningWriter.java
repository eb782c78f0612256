package io.yinxin.sign.pades;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.pdfbox.cos.COSString;
import org.apache.pdfbox.io.RandomAccessRead;
import org.apache.pdfbox.pdfwriter.COSWriter;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SigningSupport;

/**
 * PDFBox's incremental save for an external signature ({@link
 * PDDocument#saveIncrementalForExternalSigning}), writing the same bytes, with hex strings — above
 * all the reserved {@code /Contents} of the signature, several kilobytes of zeros — written in one
 * piece. PDFBox writes a hex string one digit at a time into a synchronized {@code
 * ByteArrayOutputStream}: two locked calls per reserved byte, which a profile of a 1-page seal put
 * at a sixth of its CPU time.
 *
 * <p>What PDFBox's method does besides is kept: it refuses a document without a signature whose
 * {@code /ByteRange} is still the reserved one. It also subsets the fonts loaded for subsetting;
 * here the caller subsets them ({@code PDType0Font.subset()}) before saving. Not for encrypted
 * documents (their strings are encrypted as they are written; the sealer refuses them anyway).
 */
final class SigningWriter extends COSWriter {
  private static final byte[] DIGITS =
      "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private SigningWriter(OutputStream output, RandomAccessRead source) throws IOException {
    super(output, source);
  }

  /**
   * Writes {@code doc} (parsed from {@code source}) with its new signature as an incremental update
   * to {@code output}; the returned support gives the bytes to sign and takes the signature, both
   * read from {@code source}, which must stay open until then (closing the document closes it).
   */
  static SigningSupport saveIncremental(
      PDDocument doc, RandomAccessRead source, OutputStream output) throws IOException {
    if (doc.isEncrypted()) {
      throw new IllegalStateException("encrypted documents are not written by this writer");
    }
    PDSignature found = null;
    for (PDSignature sig : doc.getSignatureDictionaries()) {
      found = sig;
      if (sig.getCOSObject().isNeedToBeUpdated()) {
        break;
      }
    }
    if (found == null) {
      throw new IllegalStateException("document does not contain signature fields");
    }
    if (!Arrays.equals(found.getByteRange(), RESERVED_BYTE_RANGE)) {
      throw new IllegalStateException("the signature's reserved byte range has been changed");
    }
    SigningWriter writer = new SigningWriter(output, source);
    writer.write(doc);
    return new SigningSupport(writer);
  }

  /**
   * What {@code PDDocument.addSignature} puts in {@code /ByteRange} until the document is saved.
   */
  private static final int[] RESERVED_BYTE_RANGE = {0, 1000000000, 1000000000, 1000000000};

  @Override
  public void visitFromString(COSString string) throws IOException {
    byte[] bytes = string.getBytes();
    if (!string.getForceHexForm() && isLiteral(bytes)) {
      super.visitFromString(string);
      return;
    }
    byte[] hex = new byte[bytes.length * 2 + 2];
    hex[0] = '<';
    for (int i = 0, j = 1; i < bytes.length; i++) {
      hex[j++] = DIGITS[(bytes[i] >> 4) & 0xF];
      hex[j++] = DIGITS[bytes[i] & 0xF];
    }
    hex[hex.length - 1] = '>';
    getStandardOutput().write(hex, 0, hex.length);
  }

  /** PDFBox's rule: a string is written literally unless it has bytes above 127, CR or LF. */
  private static boolean isLiteral(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0 || b == 0x0d || b == 0x0a) {
        return false;
      }
    }
    return true;
  }
}
