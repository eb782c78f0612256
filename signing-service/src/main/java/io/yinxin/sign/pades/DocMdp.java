package io.yinxin.sign.pades;

import java.util.Optional;
import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;

/**
 * Certification signatures (ISO 32000-1 §12.8.2.2, DocMDP): the signature's /Reference names the
 * DocMDP transform with permission P, and the catalog's /Perms /DocMDP points at the signature.
 */
final class DocMdp {
  private DocMdp() {}

  /** The DocMDP permission of the document's certification signature, if it has one. */
  static Optional<Integer> permission(PDDocument doc) {
    COSDictionary perms = doc.getDocumentCatalog().getCOSObject().getCOSDictionary(COSName.PERMS);
    if (perms == null) {
      return Optional.empty();
    }
    COSDictionary sig = perms.getCOSDictionary(COSName.DOCMDP);
    if (sig == null) {
      return Optional.empty();
    }
    COSArray refs = sig.getCOSArray(COSName.REFERENCE);
    if (refs == null) {
      return Optional.of(2);
    }
    for (COSBase b : refs) {
      COSBase resolved = b instanceof org.apache.pdfbox.cos.COSObject o ? o.getObject() : b;
      if (resolved instanceof COSDictionary ref
          && COSName.DOCMDP.equals(ref.getCOSName(COSName.TRANSFORM_METHOD))) {
        COSDictionary params = ref.getCOSDictionary(COSName.TRANSFORM_PARAMS);
        return Optional.of(params == null ? 2 : params.getInt(COSName.P, 2));
      }
    }
    return Optional.of(2);
  }

  /** Makes {@code signature} the document's certification signature with permission {@code p}. */
  static void certify(PDDocument doc, PDSignature signature, int p) {
    COSDictionary sig = signature.getCOSObject();
    COSDictionary params = new COSDictionary();
    params.setItem(COSName.TYPE, COSName.getPDFName("TransformParams"));
    params.setInt(COSName.P, p);
    params.setName(COSName.V, "1.2");
    params.setNeedToBeUpdated(true);
    COSDictionary ref = new COSDictionary();
    ref.setItem(COSName.TYPE, COSName.getPDFName("SigRef"));
    ref.setItem(COSName.TRANSFORM_METHOD, COSName.DOCMDP);
    ref.setItem(COSName.DIGEST_METHOD, COSName.getPDFName("SHA256"));
    ref.setItem(COSName.TRANSFORM_PARAMS, params);
    ref.setNeedToBeUpdated(true);
    COSArray refs = new COSArray();
    refs.add(ref);
    refs.setNeedToBeUpdated(true);
    sig.setItem(COSName.REFERENCE, refs);
    COSDictionary catalog = doc.getDocumentCatalog().getCOSObject();
    COSDictionary perms = catalog.getCOSDictionary(COSName.PERMS);
    if (perms == null) {
      perms = new COSDictionary();
      catalog.setItem(COSName.PERMS, perms);
    }
    perms.setItem(COSName.DOCMDP, signature);
    perms.setNeedToBeUpdated(true);
    catalog.setNeedToBeUpdated(true);
  }
}
