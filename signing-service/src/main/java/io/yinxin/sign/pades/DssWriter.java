package io.yinxin.sign.pades;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.apache.pdfbox.cos.COSArray;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSObject;
import org.apache.pdfbox.cos.COSStream;
import org.apache.pdfbox.pdmodel.PDDocument;

/**
 * The Document Security Store (ETSI EN 319 142-1 §5.4.2, ISO 32000-2 §12.8.4.3): certificates, OCSP
 * responses and CRLs in the catalog's {@code /DSS}, added by incremental update so a validator
 * needs nothing from the network. Values already in the store are not added twice.
 */
final class DssWriter {
  private DssWriter() {}

  static void add(
      Path input, OutputStream out, List<byte[]> certs, List<byte[]> ocsps, List<byte[]> crls)
      throws IOException {
    try (PDDocument doc = PadesSealer.open(input)) {
      COSDictionary catalog = doc.getDocumentCatalog().getCOSObject();
      COSDictionary dss = catalog.getCOSDictionary(COSName.getPDFName("DSS"));
      if (dss == null) {
        dss = new COSDictionary();
        dss.setItem(COSName.TYPE, COSName.getPDFName("DSS"));
        catalog.setItem(COSName.getPDFName("DSS"), dss);
      }
      append(doc, dss, "Certs", certs);
      append(doc, dss, "OCSPs", ocsps);
      append(doc, dss, "CRLs", crls);
      dss.setNeedToBeUpdated(true);
      catalog.setNeedToBeUpdated(true);
      doc.saveIncremental(out);
    }
  }

  private static void append(PDDocument doc, COSDictionary dss, String key, List<byte[]> values)
      throws IOException {
    COSName name = COSName.getPDFName(key);
    COSArray array = dss.getCOSArray(name);
    if (array == null) {
      array = new COSArray();
      dss.setItem(name, array);
    }
    Set<String> present = new HashSet<>();
    for (COSBase b : array) {
      COSBase v = b instanceof COSObject o ? o.getObject() : b;
      if (v instanceof COSStream s) {
        try (InputStream in = s.createInputStream()) {
          present.add(sha256(in.readAllBytes()));
        }
      }
    }
    for (byte[] v : values) {
      if (!present.add(sha256(v))) {
        continue;
      }
      COSStream s = doc.getDocument().createCOSStream();
      try (OutputStream o = s.createOutputStream(COSName.FLATE_DECODE)) {
        o.write(v);
      }
      s.setNeedToBeUpdated(true);
      array.add(s);
    }
    array.setNeedToBeUpdated(true);
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
