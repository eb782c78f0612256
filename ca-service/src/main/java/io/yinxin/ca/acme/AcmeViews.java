package io.yinxin.ca.acme;

import com.nimbusds.jose.util.Base64URL;
import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import io.yinxin.ca.acme.AcmeStore.Authz;
import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.hsm.Randomness;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The URLs and JSON documents of ACME resources (RFC 8555 §7.1), and fresh identifiers. */
final class AcmeViews {
  private final Hierarchy hierarchy;

  AcmeViews(Hierarchy hierarchy) {
    this.hierarchy = hierarchy;
  }

  String base() {
    return hierarchy.urls().base() + "/acme";
  }

  /** Where people read about this CA (the directory's meta.website). */
  String website() {
    return hierarchy.urls().base() + "/ca/v1/cas";
  }

  String accountUrl(String id) {
    return base() + "/acct/" + id;
  }

  String orderUrl(String id) {
    return base() + "/order/" + id;
  }

  String authzUrl(String id) {
    return base() + "/authz/" + id;
  }

  Map<String, Object> view(Account a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("status", a.status());
    if (a.contact() != null && !a.contact().isEmpty()) {
      v.put("contact", List.of(a.contact().split(",")));
    }
    v.put("orders", accountUrl(a.id()) + "/orders");
    return v;
  }

  Map<String, Object> view(Authz a) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("status", a.status());
    v.put("expires", a.expires().toString());
    v.put("identifier", Map.of("type", "dns", "value", a.identifier()));
    v.put("challenges", List.of(challengeView(a)));
    return v;
  }

  Map<String, Object> challengeView(Authz a) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("type", "http-01");
    c.put("url", base() + "/chall/" + a.id());
    c.put("token", a.token());
    c.put("status", a.challengeStatus());
    a.validatedAt()
        .ifPresent(t -> c.put("validated", t.truncatedTo(ChronoUnit.SECONDS).toString()));
    a.error().ifPresent(e -> c.put("error", problem("incorrectResponse", e)));
    return c;
  }

  static Map<String, Object> problem(String type, String detail) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("type", "urn:ietf:params:acme:error:" + type);
    e.put("detail", detail);
    return e;
  }

  static Reply json(
      int status, Optional<String> location, List<String> links, Map<String, Object> body) {
    return new Reply(status, location, links, AcmeJson.write(body), "application/json");
  }

  /** A fresh resource identifier: 120 random bits. */
  static String newId() {
    return random(15);
  }

  /** A fresh challenge token: 256 random bits (RFC 8555 §8.3 asks for at least 128). */
  static String token() {
    return random(32);
  }

  private static String random(int octets) {
    byte[] b = new byte[octets];
    Randomness.current().nextBytes(b);
    return Base64URL.encode(b).toString();
  }
}
