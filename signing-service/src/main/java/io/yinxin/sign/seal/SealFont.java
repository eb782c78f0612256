package io.yinxin.sign.seal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.fontbox.ttf.TrueTypeCollection;
import org.apache.fontbox.ttf.TrueTypeFont;

/**
 * The CJK font a drawn seal embeds (a subset: only the glyphs of the seal's text). PDFBox subsets
 * TrueType outlines only, not the CFF outlines of Noto CJK, so the default is AR PL UMing (Debian
 * {@code fonts-arphic-uming}, Arphic Public License, a Ming/Song face like the 宋体 of paper seals),
 * then WenQuanYi Zen Hei ({@code fonts-wqy-zenhei}, GPL with font embedding exception).
 *
 * @param file a TrueType font or collection
 * @param name the font's PostScript name inside a collection, or empty for a single font
 */
public record SealFont(Path file, String name) {
  /** Where Debian puts the faces this class knows, best first. */
  public static final List<SealFont> DEBIAN =
      List.of(
          new SealFont(Path.of("/usr/share/fonts/truetype/arphic/uming.ttc"), "UMingCN"),
          new SealFont(Path.of("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), "WenQuanYiZenHei"));

  /** The first of {@link #DEBIAN} that is installed. */
  public static Optional<SealFont> installed() {
    return DEBIAN.stream().filter(f -> Files.isReadable(f.file())).findFirst();
  }

  /** A font from a configured path: a .ttf, or a .ttc with "#Name" appended. */
  public static SealFont of(String spec) {
    int hash = spec.lastIndexOf('#');
    return hash < 0
        ? new SealFont(Path.of(spec), "")
        : new SealFont(Path.of(spec.substring(0, hash)), spec.substring(hash + 1));
  }

  /** An open font; the caller closes it after the document that embeds it is saved. */
  public Open open() throws IOException {
    if (name.isEmpty()) {
      TrueTypeFont ttf =
          new org.apache.fontbox.ttf.TTFParser()
              .parse(new org.apache.pdfbox.io.RandomAccessReadBufferedFile(file.toFile()));
      return new Open(ttf, ttf);
    }
    TrueTypeCollection ttc = new TrueTypeCollection(file.toFile());
    TrueTypeFont ttf = ttc.getFontByName(name);
    if (ttf == null) {
      ttc.close();
      throw new IOException("no font " + name + " in " + file);
    }
    return new Open(ttf, ttc);
  }

  /** A parsed font and what must be closed with it. */
  public record Open(TrueTypeFont font, java.io.Closeable owner) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      owner.close();
    }
  }
}
