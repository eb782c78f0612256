package io.yinxin.sign.seal;

import java.io.IOException;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.font.PDType0Font;
import org.apache.pdfbox.util.Matrix;

/**
 * Draws a round Chinese official seal as vector graphics into a square of {@code size} points: a
 * red ring, the organisation's name arched clockwise along the upper edge, a five-pointed star in
 * the centre and an optional line under it (e.g. 合同专用章), in the proportions of a 42 mm enterprise
 * seal (ring 1.2 mm, star 14 mm across). Text is drawn with an embedded CJK font so it stays crisp
 * at any zoom and remains text (searchable, copyable).
 */
public final class SealDrawing {
  /** The seal's red, sRGB. Tests look for pixels of this colour. */
  public static final float[] RED = {0.86f, 0.08f, 0.09f};

  private static final float KAPPA = 0.5522848f;

  private SealDrawing() {}

  public static void draw(
      PDPageContentStream cs, PDType0Font font, float size, String name, String subLine)
      throws IOException {
    float c = size / 2;
    float ring = size * 0.0286f; // 1.2 mm of 42 mm
    float r = c - ring / 2;
    cs.saveGraphicsState();
    cs.setStrokingColor(RED[0], RED[1], RED[2]);
    cs.setNonStrokingColor(RED[0], RED[1], RED[2]);
    cs.setLineWidth(ring);
    circle(cs, c, c, r);
    cs.stroke();
    star(cs, c, c, size * 0.1667f); // 14 mm across
    cs.fill();
    arcText(cs, font, c, c, r - ring / 2, size, name);
    if (!subLine.isEmpty()) {
      float fs = size * 0.085f;
      float w = font.getStringWidth(subLine) / 1000 * fs;
      float max = size * 0.62f;
      float scale = w > max ? max / w : 1;
      cs.beginText();
      cs.setFont(font, fs);
      cs.setTextMatrix(new Matrix(scale, 0, 0, 1, c - w * scale / 2, c - size * 0.30f));
      cs.showText(subLine);
      cs.endText();
    }
    cs.restoreGraphicsState();
  }

  /** The name clockwise along the upper edge, each character upright towards the rim. */
  private static void arcText(
      PDPageContentStream cs,
      PDType0Font font,
      float cx,
      float cy,
      float inner,
      float size,
      String text)
      throws IOException {
    int[] cps = text.codePoints().toArray();
    if (cps.length == 0) {
      return;
    }
    float fs = size * (cps.length <= 12 ? 0.13f : cps.length <= 18 ? 0.11f : 0.09f);
    float baseline = inner - size * 0.025f - fs * 0.88f;
    // The name spans at most 250 degrees, centred on the top; short names keep their spacing.
    double perChar = Math.min(Math.toRadians(250) / cps.length, fs * 1.15 / baseline);
    double span = perChar * cps.length;
    double start = Math.PI / 2 + span / 2;
    cs.beginText();
    cs.setFont(font, fs);
    for (int i = 0; i < cps.length; i++) {
      String ch = new String(Character.toChars(cps[i]));
      double theta = start - (i + 0.5) * perChar;
      float w = font.getStringWidth(ch) / 1000 * fs;
      double rot = theta - Math.PI / 2;
      float cos = (float) Math.cos(rot);
      float sin = (float) Math.sin(rot);
      float px = cx + (float) (baseline * Math.cos(theta));
      float py = cy + (float) (baseline * Math.sin(theta));
      // Rotate about the baseline point, then move left by half the glyph so it is centred.
      float tx = px - cos * w / 2;
      float ty = py - sin * w / 2;
      cs.setTextMatrix(new Matrix(cos, sin, -sin, cos, tx, ty));
      cs.showText(ch);
    }
    cs.endText();
  }

  static void circle(PDPageContentStream cs, float cx, float cy, float r) throws IOException {
    float k = KAPPA * r;
    cs.moveTo(cx + r, cy);
    cs.curveTo(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    cs.curveTo(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    cs.curveTo(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    cs.curveTo(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    cs.closePath();
  }

  /** A five-pointed star of outer radius {@code r}, one point up. */
  static void star(PDPageContentStream cs, float cx, float cy, float r) throws IOException {
    float inner = r * 0.381966f; // sin(18°)/sin(54°): the regular star's inner radius
    for (int i = 0; i < 10; i++) {
      double a = Math.PI / 2 + i * Math.PI / 5;
      float rr = i % 2 == 0 ? r : inner;
      float x = cx + (float) (rr * Math.cos(a));
      float y = cy + (float) (rr * Math.sin(a));
      if (i == 0) {
        cs.moveTo(x, y);
      } else {
        cs.lineTo(x, y);
      }
    }
    cs.closePath();
  }
}
