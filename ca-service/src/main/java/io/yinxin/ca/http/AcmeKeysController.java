package io.yinxin.ca.http;

import io.yinxin.ca.acme.AcmeService;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Keys for ACME external account binding (RFC 8555 §7.3.4), made by an operator with scope {@code
 * ca:issue} and handed to an agency out of band: {@code POST /ca/v1/acme/eab-keys?label=WHO}
 * answers the key identifier and the MAC key, which is shown only this once (certbot: {@code
 * --eab-kid} and {@code --eab-hmac-key}). Served when ACME is on.
 */
@RestController
public class AcmeKeysController {
  private final AcmeService acme;
  private final CaOperators operators;

  public AcmeKeysController(AcmeService acme, CaOperators operators) {
    this.acme = acme;
    this.operators = operators;
  }

  /** The keys made so far (scope {@code ca:read}), newest first, never their MAC keys. */
  @GetMapping("/ca/v1/acme/eab-keys")
  public java.util.List<Map<String, Object>> list(
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    operators.require("ca:read", auth);
    return acme.externalAccountKeys();
  }

  /**
   * Takes a key back (scope {@code ca:issue}): unspent, it binds nothing more; spent, the account
   * it bound is deactivated. Unknown: 404.
   */
  @DeleteMapping("/ca/v1/acme/eab-keys/{kid}")
  public Map<String, Object> revoke(
      @PathVariable String kid,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require("ca:issue", auth);
    if (!kid.matches("[A-Za-z0-9_-]{1,32}")) {
      throw new io.yinxin.ca.CaException(
          io.yinxin.ca.CaException.Code.NOT_FOUND, "kid", "no such key");
    }
    return acme.revokeExternalAccountKey(kid, actor)
        .orElseThrow(
            () ->
                new io.yinxin.ca.CaException(
                    io.yinxin.ca.CaException.Code.NOT_FOUND, "kid", "no such key"));
  }

  @PostMapping("/ca/v1/acme/eab-keys")
  public ResponseEntity<Map<String, Object>> create(
      @RequestParam(required = false) String label,
      @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String auth) {
    String actor = operators.require("ca:issue", auth);
    return ResponseEntity.status(HttpStatus.CREATED)
        .header(HttpHeaders.CACHE_CONTROL, "no-store")
        .body(acme.newExternalAccountKey(label, actor));
  }
}
