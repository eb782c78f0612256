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
 * <p>It also shows DSS the document's {@code /DSS} without the CRLs and OCSP responses it cannot
 * read: DSS 6.2 knows no SM3withSM2 (1.2.156.10197.1.501), and one SM2 OCSP response carrying its
 * responder's certificate (what every B-LT SM2 seal holds) made it fail the whole document's
 * validation, every other seal's included. Yinxin's SM2 checks read that data from the document
 * themselves.
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
  public eu.europa.esig.dss.pdf.PdfDssDict getDSSDictionary() {
    eu.europa.esig.dss.pdf.PdfDssDict dss = super.getDSSDictionary();
    return dss == null ? null : new ReadableDss(dss);
  }

  /**
   * A {@code /DSS} as DSS can read it: its CRLs and OCSP responses signed with algorithms it knows.
   */
  private static final class ReadableDss implements eu.europa.esig.dss.pdf.PdfDssDict {
    private static final long serialVersionUID = 1L;
    private final eu.europa.esig.dss.pdf.PdfDssDict dss;

    ReadableDss(eu.europa.esig.dss.pdf.PdfDssDict dss) {
      this.dss = dss;
    }

    @Override
    public Map<eu.europa.esig.dss.pades.validation.PdfObjectKey, eu.europa.esig.dss.crl.CRLBinary>
        getCRLs() {
      return only(dss.getCRLs(), ReadableDss::readable);
    }

    @Override
    public Map<
            eu.europa.esig.dss.pades.validation.PdfObjectKey,
            eu.europa.esig.dss.spi.x509.revocation.ocsp.OCSPResponseBinary>
        getOCSPs() {
      return only(dss.getOCSPs(), ReadableDss::readable);
    }

    /** The entries of {@code all} whose value {@code keep} accepts, in their order. */
    private static <K, V> Map<K, V> only(Map<K, V> all, java.util.function.Predicate<V> keep) {
      Map<K, V> out = new LinkedHashMap<>();
      all.forEach(
          (k, v) -> {
            if (keep.test(v)) {
              out.put(k, v);
            }
          });
      return out;
    }

    @Override
    public Map<
            eu.europa.esig.dss.pades.validation.PdfObjectKey,
            eu.europa.esig.dss.model.x509.CertificateToken>
        getCERTs() {
      return dss.getCERTs();
    }

    /**
     * The VRI dictionaries whose CRLs and OCSP responses DSS can all read: one holding SM2 data
     * (another producer's; Yinxin writes none) made it fail the document as the same data in /DSS.
     */
    @Override
    public List<eu.europa.esig.dss.pdf.PdfVriDict> getVRIs() {
      List<eu.europa.esig.dss.pdf.PdfVriDict> out = new ArrayList<>();
      for (eu.europa.esig.dss.pdf.PdfVriDict vri : dss.getVRIs()) {
        if (vri.getCRLs().values().stream().allMatch(ReadableDss::readable)
            && vri.getOCSPs().values().stream().allMatch(ReadableDss::readable)) {
          out.add(vri);
        }
      }
      return out;
    }

    private static boolean readable(eu.europa.esig.dss.crl.CRLBinary crl) {
      try {
        return known(
            org.bouncycastle.asn1.x509.CertificateList.getInstance(crl.getBinaries())
                .getSignatureAlgorithm());
      } catch (RuntimeException e) {
        return true; // not a CRL: DSS says so itself
      }
    }

    private static boolean readable(
        eu.europa.esig.dss.spi.x509.revocation.ocsp.OCSPResponseBinary ocsp) {
      org.bouncycastle.cert.ocsp.BasicOCSPResp r = ocsp.getBasicOCSPResp();
      boolean readable = known(r.getSignatureAlgorithmID());
      for (org.bouncycastle.cert.X509CertificateHolder c : r.getCerts()) {
        readable &= known(c.getSignatureAlgorithm());
      }
      return readable;
    }

    private static boolean known(org.bouncycastle.asn1.x509.AlgorithmIdentifier id) {
      try {
        eu.europa.esig.dss.enumerations.SignatureAlgorithm.forOID(id.getAlgorithm().getId());
        return true;
      } catch (IllegalArgumentException e) {
        return false;
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ReadableDss r && dss.equals(r.dss);
    }

    @Override
    public int hashCode() {
      return dss.hashCode();
    }
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
      return withoutSm3TimeStamps(
          length > 0 && length < all.length ? Arrays.copyOf(all, length) : all);
    }
  }

  /**
   * The SignedData without the unsigned attributes of its SM3 signers: DSS 6.2 knows no SM3, and
   * the signature time-stamp of an SM2 seal (an SM3 imprint, 1.2.156.10197.1.401) failed the
   * document's whole validation. Unsigned attributes are outside what the signer signed, so DSS's
   * checks of the signature itself are unchanged; Yinxin's SM2 checks read the document's own CMS.
   */
  static byte[] withoutSm3TimeStamps(byte[] der) {
    try {
      org.bouncycastle.cms.CMSSignedData cms = new org.bouncycastle.cms.CMSSignedData(der);
      List<org.bouncycastle.cms.SignerInformation> signers = new ArrayList<>();
      boolean changed = false;
      for (org.bouncycastle.cms.SignerInformation si : cms.getSignerInfos().getSigners()) {
        if (org.bouncycastle.asn1.gm.GMObjectIdentifiers.sm3.getId().equals(si.getDigestAlgOID())
            && si.getUnsignedAttributes() != null) {
          signers.add(org.bouncycastle.cms.SignerInformation.replaceUnsignedAttributes(si, null));
          changed = true;
        } else {
          signers.add(si);
        }
      }
      return changed
          ? org.bouncycastle.cms.CMSSignedData.replaceSigners(
                  cms, new org.bouncycastle.cms.SignerInformationStore(signers))
              .getEncoded("DER")
          : der;
    } catch (org.bouncycastle.cms.CMSException | IOException | RuntimeException e) {
      return der; // not a SignedData Bouncy Castle reads: DSS says so itself
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
