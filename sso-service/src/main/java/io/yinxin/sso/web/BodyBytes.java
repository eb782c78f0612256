package io.yinxin.sso.web;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;

/**
 * A request body read at most a given number of bytes far, and the request with that body to be
 * read again by whoever reads it next (Spring's converters and filters, which read a body whole).
 */
public final class BodyBytes {
  private BodyBytes() {}

  /** The body, or empty if it is longer than {@code max} bytes (declared or sent). */
  public static Optional<byte[]> read(HttpServletRequest request, int max) throws IOException {
    if (request.getContentLengthLong() > max) {
      return Optional.empty();
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(max + 1);
    }
    return body.length > max ? Optional.empty() : Optional.of(body);
  }

  /** {@code request} with {@code body}, already read, as its body. */
  public static HttpServletRequest replay(HttpServletRequest request, byte[] body) {
    return new HttpServletRequestWrapper(request) {
      @Override
      public ServletInputStream getInputStream() {
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        return new ServletInputStream() {
          @Override
          public int read() {
            return in.read();
          }

          @Override
          public int read(byte[] b, int off, int len) {
            return in.read(b, off, len);
          }

          @Override
          public boolean isFinished() {
            return in.available() == 0;
          }

          @Override
          public boolean isReady() {
            return true;
          }

          @Override
          public void setReadListener(ReadListener listener) {
            throw new UnsupportedOperationException();
          }
        };
      }

      @Override
      public java.io.BufferedReader getReader() {
        String charset = getCharacterEncoding() == null ? "UTF-8" : getCharacterEncoding();
        return new java.io.BufferedReader(
            new java.io.InputStreamReader(
                new ByteArrayInputStream(body), java.nio.charset.Charset.forName(charset)));
      }

      @Override
      public int getContentLength() {
        return body.length;
      }

      @Override
      public long getContentLengthLong() {
        return body.length;
      }
    };
  }
}
