package io.yinxin.ca;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Optional;

/**
 * Request bodies read only up to their limit, the one place the CA reads them: a declared length
 * over the limit is refused before reading, and an undeclared (chunked) one is read to at most one
 * byte past it, so a large or endless body never costs more than the limit in memory.
 */
public final class Bodies {
  private Bodies() {}

  /**
   * The body, or empty if it is longer than {@code max} bytes.
   *
   * @throws IOException if the client's body could not be read
   */
  public static Optional<byte[]> read(HttpServletRequest request, int max) throws IOException {
    if (request.getContentLengthLong() > max) {
      return Optional.empty();
    }
    byte[] body = request.getInputStream().readNBytes(max + 1);
    return body.length > max ? Optional.empty() : Optional.of(body);
  }
}
