package io.yinxin.ca.http;

import io.yinxin.ca.acme.AcmeService;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
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
