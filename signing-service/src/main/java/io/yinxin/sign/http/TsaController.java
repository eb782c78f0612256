package io.yinxin.sign.http;

import io.yinxin.sign.tsa.TimeStampAuthority;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /tsa}: RFC 3161 over HTTP (§3.4): {@code application/timestamp-query} in, {@code
 * application/timestamp-reply} out. A bad request is answered in the protocol (a rejection), with
 * HTTP 200 as RFC 3161 clients expect; only a body over the limit is refused with 413 before it is
 * read further.
 */
@RestController
public class TsaController {
  static final String QUERY = "application/timestamp-query";
  static final String REPLY = "application/timestamp-reply";

  private final TimeStampAuthority tsa;
  private final int maxRequestBytes;

  public TsaController(TimeStampAuthority tsa, int maxRequestBytes) {
    this.tsa = tsa;
    this.maxRequestBytes = maxRequestBytes;
  }

  @PostMapping(path = "/tsa", consumes = QUERY)
  public ResponseEntity<byte[]> timestamp(HttpServletRequest request) throws IOException {
    byte[] query =
        BoundedBody.read(request.getInputStream(), request.getContentLengthLong(), maxRequestBytes);
    return ResponseEntity.ok()
        .contentType(MediaType.parseMediaType(REPLY))
        .header("Cache-Control", "no-store")
        .body(tsa.respond(query));
  }
}
