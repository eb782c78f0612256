package io.yinxin.ca.http;

import io.yinxin.ca.CaException;
import io.yinxin.ca.revoke.CaCompromise;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The CA's emergency procedures (scope {@code ca:emergency}): an issuing CA's key compromised. A
 * dry run ({@code ?dryRun=true}) says what would happen and changes nothing; the real run must name
 * the CA a second time ({@code ?confirm=NAME}), so a mistyped request cannot revoke a CA.
 */
@RestController
public class EmergencyController {
  static final String SCOPE = "ca:emergency";

  private final CaCompromise compromise;
  private final io.yinxin.ca.revoke.ServiceCompromise services;
  private final CaOperators operators;

  public EmergencyController(
      CaCompromise compromise,
      io.yinxin.ca.revoke.ServiceCompromise services,
      CaOperators operators) {
    this.compromise = compromise;
    this.services = services;
    this.operators = operators;
  }

  /**
   * A service key compromised (the TSA, a delegated OCSP signer): a new key and certificate, the
   * old one revoked (keyCompromise) with {@code since} as its invalidity date, the CRL published.
   */
  @PostMapping("/ca/v1/services/{name}/compromise")
  public Map<String, Object> serviceCompromise(
      @PathVariable String name,
      @RequestParam String since,
      @RequestParam(defaultValue = "false") boolean dryRun,
      @RequestParam(required = false) String confirm,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require(SCOPE, auth);
    java.time.Instant from;
    try {
      from = java.time.Instant.parse(since);
    } catch (java.time.format.DateTimeParseException e) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "since",
          "must be an RFC 3339 instant in UTC, e.g. 2026-11-30T08:00:00Z");
    }
    if (!dryRun && !name.equals(confirm)) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "confirm",
          "must repeat the service's name to run the procedure (or ask for dryRun=true)");
    }
    io.yinxin.ca.revoke.ServiceCompromise.Report r =
        dryRun ? services.plan(name, from) : services.execute(actor, name, from);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("dryRun", dryRun);
    out.put("service", r.service());
    out.put("issuer", r.issuer());
    out.put("oldSerial", r.oldSerial());
    out.put("distrustedFrom", r.distrustedFrom().toString());
    r.newSerial().ifPresent(s -> out.put("newSerial", s));
    r.newCertificate().ifPresent(c -> out.put("newCertificate", c));
    return out;
  }

  /**
   * Revokes the CA's certificate at its parent, every certificate it issued (reason cACompromise),
   * publishes the CRLs, and creates what the configuration adds (the replacement CA).
   */
  @PostMapping("/ca/v1/cas/{ca}/compromise")
  public Map<String, Object> compromise(
      @PathVariable String ca,
      @RequestParam(defaultValue = "false") boolean dryRun,
      @RequestParam(required = false) String confirm,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require(SCOPE, auth);
    if (dryRun) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("dryRun", true);
      out.putAll(view(compromise.plan(ca)));
      return out;
    }
    if (!ca.equals(confirm)) {
      throw new CaException(
          CaException.Code.INVALID_REQUEST,
          "confirm",
          "must repeat the CA's name to run the procedure (or ask for dryRun=true)");
    }
    CaCompromise.Report r = compromise.execute(actor, ca);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("dryRun", false);
    out.putAll(view(r.plan()));
    out.put("revoked", r.revoked());
    out.put("crlsPublished", r.crls());
    out.put("created", r.created());
    out.put("millisToCrls", r.millisToCrls());
    out.put("millisTotal", r.millisTotal());
    return out;
  }

  /**
   * Re-issues up to {@code limit} of the certificates revoked by the procedure from the CA their
   * profile names now; call until {@code remaining} is 0.
   */
  @PostMapping("/ca/v1/cas/{ca}/reissue")
  public Map<String, Object> reissue(
      @PathVariable String ca,
      @RequestParam(defaultValue = "500") int limit,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require(SCOPE, auth);
    CaCompromise.ReissueBatch b = compromise.reissue(actor, ca, limit);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("reissued", b.reissued());
    out.put("passedOver", b.passedOver());
    out.put("remaining", b.remaining());
    return out;
  }

  private static Map<String, Object> view(CaCompromise.Plan p) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ca", p.ca());
    out.put("parent", p.parent());
    out.put("caSerial", p.caSerial());
    out.put("caCertificateRevoked", p.caCertificateRevoked());
    out.put("toRevoke", p.toRevoke());
    out.put("partitions", p.partitions());
    out.put("toCreate", p.toCreate());
    out.put("profilesNamingCa", p.profilesNamingCa());
    out.put("awaitingReissue", p.awaitingReissue());
    return out;
  }
}
