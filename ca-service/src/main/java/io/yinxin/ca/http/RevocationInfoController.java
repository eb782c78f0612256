package io.yinxin.ca.http;

import io.yinxin.ca.CaException;
import io.yinxin.ca.Pem;
import io.yinxin.ca.crl.CrlService;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.store.CrlStore.CrlRecord;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * What relying parties fetch without credentials: CA certificates and CRLs (DER, at the URLs in the
 * certificates). OCSP is served by {@link io.yinxin.ca.ocsp.OcspServlet}.
 */
@RestController
public class RevocationInfoController {
  static final MediaType PKIX_CERT = MediaType.parseMediaType("application/pkix-cert");
  static final MediaType PKIX_CRL = MediaType.parseMediaType("application/pkix-crl");
  private static final Pattern CRL_FILE = Pattern.compile("(0|[1-9][0-9]{0,8})(-delta)?\\.crl");

  private final Hierarchy hierarchy;
  private final CrlService crls;

  public RevocationInfoController(Hierarchy hierarchy, CrlService crls) {
    this.hierarchy = hierarchy;
    this.crls = crls;
  }

  /** The CAs, with the URLs of their certificates and CRLs. */
  @GetMapping("/ca/v1/cas")
  public Map<String, Object> cas() {
    List<Map<String, Object>> items = new ArrayList<>();
    for (Issuer i : hierarchy.issuers()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("name", i.name());
      v.put("subject", i.subject().toString());
      hierarchy.config().ca(i.name()).flatMap(c -> c.parent()).ifPresent(p -> v.put("parent", p));
      v.put("signatureAlgorithm", i.algorithm().name());
      v.put("notAfter", i.certificate().getNotAfter().toInstant().toString());
      v.put("certificateUrl", hierarchy.urls().caCertificate(i.name()));
      v.put("crlUrl", hierarchy.urls().crl(i.name(), 0));
      items.add(v);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ocspUrl", hierarchy.urls().ocsp());
    out.put("items", items);
    return out;
  }

  /** A CA certificate, DER ({@code application/pkix-cert}) or {@code ?format=pem}. */
  @GetMapping("/ca/v1/cas/{ca}/certificate")
  public ResponseEntity<?> caCertificate(
      @PathVariable String ca, @RequestParam(required = false) String format) {
    Issuer i = hierarchy.issuer(ca);
    if ("pem".equals(format)) {
      return ResponseEntity.ok()
          .contentType(MediaType.parseMediaType("application/x-pem-file"))
          .cacheControl(CacheControl.maxAge(Duration.ofHours(1)))
          .body(Pem.certificate(i.encoded()));
    }
    return ResponseEntity.ok()
        .contentType(PKIX_CERT)
        .cacheControl(CacheControl.maxAge(Duration.ofHours(1)))
        .body(i.encoded());
  }

  /** {@code /ca/crl/{ca}/{partition}.crl} and {@code .../{partition}-delta.crl}, DER. */
  @GetMapping("/ca/crl/{ca}/{file}")
  public void crl(@PathVariable String ca, @PathVariable String file, HttpServletResponse response)
      throws java.io.IOException {
    Matcher m = CRL_FILE.matcher(file);
    if (!m.matches()) {
      throw new CaException(CaException.Code.NOT_FOUND, "no such CRL");
    }
    CrlRecord r = crls.current(ca, Integer.parseInt(m.group(1)), m.group(2) != null);
    long maxAge =
        Math.max(0, Duration.between(Instant.now(), r.nextUpdate()).dividedBy(4).toSeconds());
    // Written directly: Spring MVC's message converters would add "Content-Disposition:
    // inline;filename=f.txt" for the .crl extension (its reflected-download guard).
    response.setStatus(200);
    response.setContentType(PKIX_CRL.toString());
    response.setHeader(
        "Cache-Control",
        CacheControl.maxAge(Duration.ofSeconds(Math.min(maxAge, 300))).getHeaderValue());
    response.setContentLength(r.der().length);
    response.getOutputStream().write(r.der());
  }
}
