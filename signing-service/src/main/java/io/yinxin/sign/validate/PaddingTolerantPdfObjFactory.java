package io.yinxin.sign.validate;

import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.pades.exception.InvalidPasswordException;
import eu.europa.esig.dss.pdf.PDFServiceMode;
import eu.europa.esig.dss.pdf.PDFSignatureService;
import eu.europa.esig.dss.pdf.PdfDocumentReader;
import eu.europa.esig.dss.pdf.pdfbox.PaddedContentsReader;
import eu.europa.esig.dss.pdf.pdfbox.PdfBoxDefaultObjectFactory;
import eu.europa.esig.dss.pdf.pdfbox.PdfBoxSignatureService;
import eu.europa.esig.dss.pdf.pdfbox.visible.defaultdrawer.PdfBoxDefaultSignatureDrawerFactory;
import java.io.IOException;

/**
 * DSS's PDFBox object factory, reading signatures with {@link PaddedContentsReader} so that DSS 6.2
 * works with the Bouncy Castle this project pins (see that class).
 */
final class PaddingTolerantPdfObjFactory extends PdfBoxDefaultObjectFactory {
  @Override
  public PDFSignatureService newPAdESSignatureService() {
    return service(PDFServiceMode.SIGNATURE);
  }

  @Override
  public PDFSignatureService newContentTimestampService() {
    return service(PDFServiceMode.CONTENT_TIMESTAMP);
  }

  @Override
  public PDFSignatureService newSignatureTimestampService() {
    return service(PDFServiceMode.SIGNATURE_TIMESTAMP);
  }

  @Override
  public PDFSignatureService newArchiveTimestampService() {
    return service(PDFServiceMode.ARCHIVE_TIMESTAMP);
  }

  private static PDFSignatureService service(PDFServiceMode mode) {
    return new PdfBoxSignatureService(mode, new PdfBoxDefaultSignatureDrawerFactory()) {
      @Override
      protected PdfDocumentReader loadPdfDocumentReader(DSSDocument document, char[] password)
          throws IOException, InvalidPasswordException {
        return new PaddedContentsReader(document, password == null ? null : new String(password));
      }
    };
  }
}
