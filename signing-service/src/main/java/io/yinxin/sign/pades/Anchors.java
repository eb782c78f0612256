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
 * fonts included) as long as it maps to Unicode. On a rotated page the box is where the anchor is
 * seen: measured from the lower-left corner of the page as displayed, which is how {@link
 * PadesSealer} takes a box on such a page.
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
        var media = doc.getPage(p - 1).getMediaBox();
        int rotation = ((doc.getPage(p - 1).getRotation() % 360) + 360) % 360;
        float s = anchor.size();
        if (rotation == 0) {
          // TextPosition coordinates run from the top-left; PDF's from the bottom-left.
          float cx = media.getLowerLeftX() + (f.hit[0] + f.hit[2]) / 2;
          float cy = media.getLowerLeftY() + media.getHeight() - (f.hit[1] + f.hit[3]) / 2;
          return new SealOptions.Placement.Box(p, cx - s / 2, cy - s / 2, s, s);
        }
        // The rotation-adjusted positions: from the top-left of the page as displayed, which is
        // as tall as the media box is wide when turned a quarter.
        float displayedHeight =
            rotation == 90 || rotation == 270 ? media.getWidth() : media.getHeight();
        float cx = (f.shown[0] + f.shown[2]) / 2;
        float cy = displayedHeight - (f.shown[1] + f.shown[3]) / 2;
        return new SealOptions.Placement.Box(p, cx - s / 2, cy - s / 2, s, s);
      }
    }
    throw new SignException(
        SignException.Code.INVALID_PLACEMENT, "the anchor text is not in the document");
  }

  /**
   * Collects the bounding box (minX, minY, maxX, maxY from the top) of the first match, in text
   * direction ({@code hit}) and as the page is displayed ({@code shown}).
   */
  private static final class Finder extends PDFTextStripper {
    private final String needle;
    float[] hit;
    float[] shown;

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
      hit =
          box(
              span,
              TextPosition::getXDirAdj,
              t -> t.getXDirAdj() + t.getWidthDirAdj(),
              t -> t.getYDirAdj() - t.getHeightDir(),
              TextPosition::getYDirAdj);
      shown =
          box(
              span,
              TextPosition::getX,
              t -> t.getX() + t.getWidth(),
              t -> t.getY() - t.getHeight(),
              TextPosition::getY);
    }

    /** {minX, minY, maxX, maxY} of the glyphs by the given edges. */
    private static float[] box(
        List<TextPosition> span,
        java.util.function.ToDoubleFunction<TextPosition> left,
        java.util.function.ToDoubleFunction<TextPosition> right,
        java.util.function.ToDoubleFunction<TextPosition> top,
        java.util.function.ToDoubleFunction<TextPosition> bottom) {
      float[] b = {Float.MAX_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, -Float.MAX_VALUE};
      for (TextPosition t : span) {
        b[0] = Math.min(b[0], (float) left.applyAsDouble(t));
        b[1] = Math.min(b[1], (float) top.applyAsDouble(t));
        b[2] = Math.max(b[2], (float) right.applyAsDouble(t));
        b[3] = Math.max(b[3], (float) bottom.applyAsDouble(t));
      }
      return b;
    }
  }
}
