package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reads a request body up to a limit, never further: an oversized body costs at most the limit. */
final class BoundedBody {
  private BoundedBody() {}

  static byte[] read(InputStream in, long declaredLength, int limit) throws IOException {
    if (declaredLength > limit) {
      throw new SignException(SignException.Code.TOO_LARGE, "the body is larger than " + limit);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(limit, 8192));
    byte[] buf = new byte[8192];
    int total = 0;
    for (int n; (n = in.read(buf, 0, Math.min(buf.length, limit + 1 - total))) > 0; ) {
      total += n;
      if (total > limit) {
        throw new SignException(SignException.Code.TOO_LARGE, "the body is larger than " + limit);
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }
}
