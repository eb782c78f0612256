package io.yinxin.sign.pades;

import io.yinxin.sign.SignException;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.apache.pdfbox.text.TextPosition;

/**
 * Finds an anchor text (e.g. {@code {{seal}}}) on the pages and returns a seal box centred on it.
 * Works on the text as PDFBox extracts it, so the anchor may be in any font a page uses (CJK subset
 * fonts included) as long as it maps to Unicode.
 */
final class Anchors {
  private Anchors() {}

  static SealOptions.Placement.Box find(PDDocument doc, SealOptions.Placement.Anchor anchor)
      throws IOException {
    for (int p = 1; p <= doc.getNumberOfPages(); p++) {
      Finder f = new Finder(anchor.text());
      f.setStartPage(p);
      f.setEndPage(p);
      f.setSortByPosition(true);
      f.writeText(doc, new StringWriter());
      if (f.hit != null) {
        float pageHeight = doc.getPage(p - 1).getMediaBox().getHeight();
        float lowerLeftY = doc.getPage(p - 1).getMediaBox().getLowerLeftY();
        float lowerLeftX = doc.getPage(p - 1).getMediaBox().getLowerLeftX();
        // TextPosition coordinates run from the top-left; PDF's from the bottom-left.
        float cx = lowerLeftX + (f.hit[0] + f.hit[2]) / 2;
        float cy = lowerLeftY + pageHeight - (f.hit[1] + f.hit[3]) / 2;
        float s = anchor.size();
        return new SealOptions.Placement.Box(p, cx - s / 2, cy - s / 2, s, s);
      }
    }
    throw new SignException(
        SignException.Code.INVALID_PLACEMENT, "the anchor text is not in the document");
  }

  /** Collects the bounding box (minX, minY, maxX, maxY from the top) of the first match. */
  private static final class Finder extends PDFTextStripper {
    private final String needle;
    float[] hit;

    Finder(String needle) {
      this.needle = needle;
    }

    @Override
    protected void writeString(String text, List<TextPosition> positions) {
      if (hit != null) {
        return;
      }
      int at = text.indexOf(needle);
      if (at < 0 || positions.size() != text.length()) {
        return;
      }
      List<TextPosition> span = new ArrayList<>(positions.subList(at, at + needle.length()));
      float minX = Float.MAX_VALUE;
      float minY = Float.MAX_VALUE;
      float maxX = -Float.MAX_VALUE;
      float maxY = -Float.MAX_VALUE;
      for (TextPosition t : span) {
        minX = Math.min(minX, t.getXDirAdj());
        maxX = Math.max(maxX, t.getXDirAdj() + t.getWidthDirAdj());
        minY = Math.min(minY, t.getYDirAdj() - t.getHeightDir());
        maxY = Math.max(maxY, t.getYDirAdj());
      }
      hit = new float[] {minX, minY, maxX, maxY};
    }
  }
}
