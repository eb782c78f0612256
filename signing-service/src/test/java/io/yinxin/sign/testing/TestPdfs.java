package io.yinxin.sign.testing;

import java.nio.file.Path;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;

/** Documents the signing tests seal. */
public final class TestPdfs {
  private TestPdfs() {}

  /** A two-page contract with Chinese text and an anchor, made with PDFBox. */
  public static void contract(Path file) throws Exception {
    try (PDDocument doc = new PDDocument()) {
      for (int i = 1; i <= 2; i++) {
        PDPage page = new PDPage(PDRectangle.A4);
        doc.addPage(page);
        try (PDPageContentStream cs = new PDPageContentStream(doc, page)) {
          cs.beginText();
          cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 14);
          cs.newLineAtOffset(72, 760);
          cs.showText("Contract page " + i);
          cs.newLineAtOffset(0, -300);
          if (i == 2) {
            cs.showText("Sealed by the supplier: {{seal}}");
          }
          cs.endText();
        }
      }
      doc.save(file.toFile());
    }
  }
}
