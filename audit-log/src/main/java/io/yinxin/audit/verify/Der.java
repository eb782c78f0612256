package io.yinxin.audit.verify;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Just enough DER to read an RFC 3161 reply without a library: one definite-length element over a
 * byte array, its children, and its raw encoding. Every length is checked against its parent;
 * anything else (indefinite lengths, long tags, lengths past the end) is refused.
 */
final class Der {
  final int tag;
  private final byte[] buf;
  private final int start;
  private final int contentStart;
  private final int end;

  private Der(int tag, byte[] buf, int start, int contentStart, int end) {
    this.tag = tag;
    this.buf = buf;
    this.start = start;
    this.contentStart = contentStart;
    this.end = end;
  }

  /** The one element that {@code der} consists of. */
  static Der parse(byte[] der) {
    Der d = read(der, 0, der.length);
    if (d.end != der.length) {
      throw malformed("trailing bytes");
    }
    return d;
  }

  private static Der read(byte[] buf, int off, int limit) {
    if (off + 2 > limit) {
      throw malformed("truncated");
    }
    int tag = buf[off] & 0xff;
    if ((tag & 0x1f) == 0x1f) {
      throw malformed("long tag");
    }
    int len = buf[off + 1] & 0xff;
    int p = off + 2;
    if (len == 0x80) {
      throw malformed("indefinite length");
    }
    if (len > 0x80) {
      int n = len & 0x7f;
      if (n > 3 || p + n > limit) {
        throw malformed("length");
      }
      len = 0;
      for (int i = 0; i < n; i++) {
        len = len << 8 | buf[p++] & 0xff;
      }
    }
    if (len > limit - p) {
      throw malformed("length past the end");
    }
    return new Der(tag, buf, off, p, p + len);
  }

  /** The elements inside this constructed one. */
  List<Der> children() {
    if ((tag & 0x20) == 0) {
      throw malformed("primitive element has no children");
    }
    List<Der> out = new ArrayList<>();
    for (int p = contentStart; p < end; ) {
      Der c = read(buf, p, end);
      out.add(c);
      p = c.end;
    }
    return out;
  }

  /** Child {@code i}, which must exist and carry {@code expectedTag}. */
  Der child(int i, int expectedTag) {
    List<Der> c = children();
    if (i >= c.size() || c.get(i).tag != expectedTag) {
      throw malformed("unexpected structure");
    }
    return c.get(i);
  }

  byte[] content() {
    return Arrays.copyOfRange(buf, contentStart, end);
  }

  byte[] encoded() {
    return Arrays.copyOfRange(buf, start, end);
  }

  Der expect(int expectedTag) {
    if (tag != expectedTag) {
      throw malformed("unexpected tag");
    }
    return this;
  }

  BigInteger integer() {
    expect(0x02);
    return new BigInteger(content());
  }

  /** An OBJECT IDENTIFIER in dotted form. */
  String oid() {
    expect(0x06);
    byte[] c = content();
    if (c.length == 0) {
      throw malformed("empty OID");
    }
    StringBuilder sb = new StringBuilder();
    long value = 0;
    boolean first = true;
    for (int i = 0; i < c.length; i++) {
      if (value > (Long.MAX_VALUE >> 7)) {
        throw malformed("OID arc too large");
      }
      value = value << 7 | (c[i] & 0x7f);
      if ((c[i] & 0x80) == 0) {
        if (first) {
          int top = value < 40 ? 0 : value < 80 ? 1 : 2;
          sb.append(top).append('.').append(value - 40L * top);
          first = false;
        } else {
          sb.append('.').append(value);
        }
        value = 0;
      } else if (i == c.length - 1) {
        throw malformed("OID ends mid-arc");
      }
    }
    return sb.toString();
  }

  static IllegalArgumentException malformed(String why) {
    return new IllegalArgumentException("malformed DER (" + why + ")");
  }
}
