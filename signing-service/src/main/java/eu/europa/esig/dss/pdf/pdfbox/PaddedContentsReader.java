package eu.europa.esig.dss.pdf.pdfbox;

import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.pades.exception.InvalidPasswordException;
import eu.europa.esig.dss.pades.validation.PdfSignatureDictionary;
import eu.europa.esig.dss.pades.validation.PdfSignatureField;
import eu.europa.esig.dss.pdf.PdfDict;
import eu.europa.esig.dss.pdf.PdfSigDictWrapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSObject;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;

/**
 * Lets EU DSS 6.2 read PDF signatures under the Bouncy Castle this project pins. DSS builds its
 * {@code CMSSignedData} from the whole {@code /Contents} string, which ISO 32000 fills with zero
 * padding after the DER; Bouncy Castle rejects trailing data since 1.85 (bc-java#2360, on purpose),
 * so DSS 6.2 (built against 1.80) finds no signature in any padded PDF — Adobe's included. This
 * reader is DSS's own {@code PdfBoxDocumentReader#extractSigDictionaries}, with one change: the
 * signature dictionary hands DSS the DER SignedData without the padding. Everything else (byte
 * ranges, digests, the signature value) is DSS's.
 *
 * <p>It lives in DSS's package because {@code PdfBoxDict}, which the original builds, is
 * package-private there; it is Yinxin code (io.yinxin.sign.validate uses it), not part of DSS.
 */
public final class PaddedContentsReader extends PdfBoxDocumentReader {
  private Map<PdfSignatureDictionary, List<PdfSignatureField>> dictionaries;

  public PaddedContentsReader(DSSDocument document, String password)
      throws IOException, InvalidPasswordException {
    super(document, password);
  }

  @Override
  public Map<PdfSignatureDictionary, List<PdfSignatureField>> extractSigDictionaries()
      throws IOException {
    if (dictionaries != null) {
      return dictionaries;
    }
    dictionaries = new LinkedHashMap<>();
    Map<Long, PdfSignatureDictionary> byObject = new HashMap<>();
    PDDocument doc = getPDDocument();
    for (PDSignatureField field : doc.getSignatureFields()) {
      PdfSignatureField sigField = new PdfSignatureField(new PdfBoxDict(field.getCOSObject(), doc));
      COSObject sigRef = field.getCOSObject().getCOSObject(COSName.V);
      if (sigRef == null || !(sigRef.getObject() instanceof COSDictionary sigDict)) {
        continue; // an empty signature field
      }
      long number = sigRef.getKey() == null ? -1 : sigRef.getKey().getNumber();
      PdfSignatureDictionary dict = byObject.get(number);
      if (dict == null) {
        try {
          dict = new DerContents(new PdfBoxDict(sigDict, doc));
        } catch (RuntimeException e) {
          continue; // DSS logs and skips such a field too
        }
        dictionaries.put(dict, new ArrayList<>(List.of(sigField)));
        byObject.put(number, dict);
      } else {
        dictionaries.get(dict).add(sigField);
      }
    }
    return dictionaries;
  }

  /**
   * A signature dictionary that builds its CMS from the DER alone. Only the CMS: DSS checks the
   * byte range against the full {@code /Contents} afterwards, so once constructed this answers the
   * full string again.
   */
  private static final class DerContents extends PdfSigDictWrapper {
    /** False while the superclass constructor runs (and builds the CMS from getContents). */
    private boolean constructed;

    DerContents(PdfDict dict) {
      super(dict);
      constructed = true;
    }

    @Override
    public byte[] getContents() {
      byte[] all = super.getContents();
      if (constructed) {
        return all;
      }
      int length = derLength(all);
      return length > 0 && length < all.length ? Arrays.copyOf(all, length) : all;
    }
  }

  /** The length of the DER element at the start of {@code b} (definite form), or -1. */
  public static int derLength(byte[] b) {
    if (b == null || b.length < 2) {
      return -1;
    }
    int first = b[1] & 0xff;
    if (first < 0x80) {
      return 2 + first;
    }
    int n = first & 0x7f;
    if (n == 0 || n > 4 || b.length < 2 + n) {
      return -1; // indefinite (BER) or absurd: leave it to Bouncy Castle
    }
    long len = 0;
    for (int i = 0; i < n; i++) {
      len = (len << 8) | (b[2 + i] & 0xff);
    }
    long total = 2 + n + len;
    return total > Integer.MAX_VALUE ? -1 : (int) total;
  }
}
