package io.yinxin.sign.pades;

import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.filter.DecodeOptions;
import org.apache.pdfbox.filter.DecodeResult;
import org.apache.pdfbox.filter.Filter;
import org.apache.pdfbox.filter.FilterFactory;

/**
 * How many bytes PDFBox may decode from a document's streams: {@link #limit()} in all for one seal
 * or validation (a {@link Scope}), and per stream outside any.
 *
 * <p>PDFBox decodes a stream whole into memory, with no bound: a 1 MB upload whose object stream
 * inflates to 1 GiB took 8.8 s and 1.4 GB of the node's memory to seal. Every filter in PDFBox's
 * {@link FilterFactory} (which EU DSS's PDFBox reader uses too) is wrapped here so that its output
 * is counted as it is written: the decode that would pass the limit fails, and so does every later
 * one in the same scope. PDFBox catches some of these failures and goes on with what it could read,
 * so the scope, not the exception, decides: a scope that went over refuses its operation with
 * {@code TOO_LARGE} (413) before a key signs anything and however PDFBox ended. The factory keeps
 * its filters in a private map, which is replaced by reflection once (PDFBox offers no other hook);
 * if a PDFBox upgrade moves it, the first use fails loudly rather than running unbounded.
 */
public final class DecodeBudget {
  /**
   * The default limit, 128 MiB. Sealing and validating decode a document's structure (object and
   * cross-reference streams, the signature's objects, the content of the page a seal is drawn on),
   * not its images: a 300-page text document decoded 92 KB to be sealed and 280 KB to be validated
   * (measured 2026-12-06). A 5,000 × 5,000 RGB image, were one decoded, would be 72 MiB.
   */
  public static final long DEFAULT_LIMIT = 128L << 20;

  private static volatile long limit = DEFAULT_LIMIT;
  private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

  static {
    install();
  }

  private DecodeBudget() {}

  /** Sets the limit (bytes decoded per operation, and per stream outside one). */
  public static void setLimit(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("the decode limit must be positive");
    }
    limit = bytes;
  }

  public static long limit() {
    return limit;
  }

  /**
   * A budget of {@link #limit()} decoded bytes for everything this thread decodes until {@link
   * Scope#close()}. Opened inside another scope, it is that scope: one operation, one budget.
   */
  public static Scope open() {
    return open(limit);
  }

  /** {@link #open()} with another budget (tests). */
  static Scope open(long bytes) {
    Scope outer = CURRENT.get();
    if (outer != null) {
      return new Scope(outer.remaining, false);
    }
    Scope s = new Scope(new long[] {bytes}, true);
    CURRENT.set(s);
    return s;
  }

  /** Refuses with {@code TOO_LARGE} if this thread's current scope went over its budget. */
  public static void checkCurrent() {
    Scope s = CURRENT.get();
    if (s != null) {
      s.check();
    }
  }

  /** One operation's budget; {@link #close()} on the thread that opened it. */
  public static final class Scope implements AutoCloseable {
    private final long[] remaining; // shared with nested scopes; below zero once exceeded
    private final boolean owner;

    private Scope(long[] remaining, boolean owner) {
      this.remaining = remaining;
      this.owner = owner;
    }

    /** Whether a decode in this scope went past the limit (whatever PDFBox made of it). */
    public boolean exceeded() {
      return remaining[0] < 0;
    }

    /** Refuses with {@code TOO_LARGE} if the budget was exceeded. */
    public void check() {
      if (exceeded()) {
        throw tooLarge();
      }
    }

    /** {@code e}, or {@code TOO_LARGE} if the budget was exceeded (the likelier cause of it). */
    public RuntimeException orTooLarge(RuntimeException e) {
      return exceeded() ? tooLarge() : e;
    }

    @Override
    public void close() {
      if (owner) {
        CURRENT.remove();
      }
    }
  }

  static SignException tooLarge() {
    return new SignException(
        Code.TOO_LARGE,
        "the document's streams decode to more than "
            + limit
            + " bytes (yinxin.sign.max-decoded-bytes)");
  }

  /** A decode refused for going past the limit. */
  static final class Exceeded extends IOException {
    private static final long serialVersionUID = 1L;

    Exceeded() {
      super("decoded stream data over the limit");
    }
  }

  /** Wraps every filter of PDFBox's factory, once. */
  static synchronized void install() {
    filters()
        .replaceAll((name, filter) -> filter instanceof Bounded ? filter : new Bounded(filter));
  }

  private static Map<COSName, Filter> filters() {
    try {
      java.lang.reflect.Field f = FilterFactory.class.getDeclaredField("filters");
      f.setAccessible(true);
      @SuppressWarnings("unchecked")
      Map<COSName, Filter> m = (Map<COSName, Filter>) f.get(FilterFactory.INSTANCE);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "PDFBox's FilterFactory changed: stream decoding cannot be bounded", e);
    }
  }

  /** How many filter names PDFBox's factory knows. */
  static int filterCount() {
    return filters().size();
  }

  /** Whether PDFBox decodes {@code name} through a bounded filter. */
  static boolean bounds(COSName name) throws IOException {
    return FilterFactory.INSTANCE.getFilter(name) instanceof Bounded;
  }

  /** A filter whose decoded output counts against the budget. */
  private static final class Bounded extends Filter {
    private final Filter delegate;

    Bounded(Filter delegate) {
      this.delegate = delegate;
    }

    @Override
    public DecodeResult decode(
        InputStream encoded, OutputStream decoded, COSDictionary parameters, int index)
        throws IOException {
      return delegate.decode(encoded, counted(decoded), parameters, index);
    }

    @Override
    public DecodeResult decode(
        InputStream encoded,
        OutputStream decoded,
        COSDictionary parameters,
        int index,
        DecodeOptions options)
        throws IOException {
      return delegate.decode(encoded, counted(decoded), parameters, index, options);
    }

    @Override
    protected void encode(InputStream input, OutputStream encoded, COSDictionary parameters)
        throws IOException {
      delegate.encode(input, encoded, parameters, 0);
    }

    private static OutputStream counted(OutputStream out) throws IOException {
      Scope scope = CURRENT.get();
      long[] remaining = scope != null ? scope.remaining : new long[] {limit};
      if (remaining[0] < 0) {
        throw new Exceeded();
      }
      return new Counting(out, remaining);
    }
  }

  private static final class Counting extends FilterOutputStream {
    private final long[] remaining;

    Counting(OutputStream out, long[] remaining) {
      super(out);
      this.remaining = remaining;
    }

    private void take(long n) throws IOException {
      if (remaining[0] < 0 || (remaining[0] -= n) < 0) {
        remaining[0] = -1;
        throw new Exceeded();
      }
    }

    @Override
    public void write(int b) throws IOException {
      take(1);
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      take(len);
      out.write(b, off, len);
    }
  }
}
