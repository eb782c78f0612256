package io.yinxin.ca.acme;

import com.nimbusds.jose.jwk.JWK;
import io.yinxin.ca.acme.AcmeService.Reply;
import io.yinxin.ca.acme.AcmeStore.Account;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ACME accounts (RFC 8555 §7.3): creation, lookup by key, update, deactivation, orders list. */
final class AcmeAccounts {
  private static final Logger log = LoggerFactory.getLogger(AcmeAccounts.class);

  private final AcmeStore store;
  private final AcmeViews views;
  private final AcmeRateLimits limits;
  private final AcmeExternalAccounts external;

  AcmeAccounts(
      AcmeStore store, AcmeViews views, AcmeRateLimits limits, AcmeExternalAccounts external) {
    this.store = store;
    this.views = views;
    this.limits = limits;
    this.external = external;
  }

  /** newAccount: the existing account for the JWS's key, or a new one. */
  Reply create(AcmeJws jws, String address) {
    JWK jwk = jws.jwk().orElseThrow(() -> AcmeProblem.malformed("newAccount is signed with a jwk"));
    jws.verify(jwk);
    Map<String, Object> p = jws.json();
    String thumb = AcmeJws.thumbprint(jwk);
    Optional<Account> existing = store.accountByThumbprint(thumb);
    if (existing.isPresent()) {
      return AcmeViews.json(
          200,
          Optional.of(views.accountUrl(existing.get().id())),
          List.of(),
          views.view(existing.get()));
    }
    if (Boolean.TRUE.equals(p.get("onlyReturnExisting"))) {
      throw new AcmeProblem("accountDoesNotExist", 400, "no account for this key");
    }
    String contact = contact(p.get("contact"));
    Optional<String> eab = external.check(p.get("externalAccountBinding"), jwk, jws.url());
    limits.newAccount(address);
    Account a =
        new Account(AcmeViews.newId(), thumb, jwk.toPublicJWK().toJSONString(), "valid", contact);
    store.insertAccount(a, eab);
    log.info("event=acme_account_created account={}", a.id());
    return AcmeViews.json(201, Optional.of(views.accountUrl(a.id())), List.of(), views.view(a));
  }

  Reply update(Account acct, String id, AcmeJws jws) {
    mustOwn(acct, id);
    Map<String, Object> p = jws.json();
    String status = acct.status();
    String contact = acct.contact();
    if (p.containsKey("contact")) {
      contact = contact(p.get("contact"));
    }
    if ("deactivated".equals(p.get("status"))) {
      status = "deactivated";
    } else if (p.containsKey("status")) {
      throw AcmeProblem.malformed("an account can only be set to deactivated");
    }
    store.updateAccount(id, status, contact);
    return AcmeViews.json(
        200,
        Optional.of(views.accountUrl(id)),
        List.of(),
        views.view(new Account(id, acct.thumbprint(), acct.jwk(), status, contact)));
  }

  /**
   * Account key rollover (RFC 8555 §7.3.5): the outer JWS, signed by the account's key, carries an
   * inner JWS signed by the new key, whose payload names the account and its old key. The new key
   * replaces the old one unless another account holds it (409, with that account's URL).
   */
  Reply changeKey(Account acct, AcmeJws outer) {
    AcmeJws inner = AcmeJws.parseInner(outer.payload());
    if (!inner.url().equals(outer.url())) {
      throw AcmeProblem.malformed("the inner JWS's url is not the outer JWS's url");
    }
    JWK newKey = inner.jwk().orElseThrow();
    inner.verify(newKey);
    Map<String, Object> p = inner.json();
    if (!views.accountUrl(acct.id()).equals(p.get("account"))) {
      throw AcmeProblem.malformed("the inner payload's account is not the signing account");
    }
    if (!(p.get("oldKey") instanceof Map<?, ?> old)) {
      throw AcmeProblem.malformed("the inner payload needs oldKey, a JWK");
    }
    JWK oldKey;
    try {
      oldKey = JWK.parse(castMap(old));
    } catch (ParseException | RuntimeException e) {
      throw AcmeProblem.malformed("oldKey is not a JWK");
    }
    if (oldKey.isPrivate() || !sameKey(oldKey, jwk(acct))) {
      throw AcmeProblem.unauthorized("oldKey is not the account's key");
    }
    String thumb = AcmeJws.thumbprint(newKey);
    Optional<Account> holder = store.accountByThumbprint(thumb);
    if (holder.isEmpty() && store.replaceKey(acct.id(), acct.thumbprint(), thumb, json(newKey))) {
      log.info("event=acme_account_key_changed account={}", acct.id());
      Account changed = new Account(acct.id(), thumb, json(newKey), acct.status(), acct.contact());
      return AcmeViews.json(
          200, Optional.of(views.accountUrl(acct.id())), List.of(), views.view(changed));
    }
    // Another account has the key (perhaps since a moment ago), or this one's key just changed.
    Optional<Account> now = holder.isPresent() ? holder : store.accountByThumbprint(thumb);
    Map<String, Object> problem = new java.util.LinkedHashMap<>();
    problem.put("type", "urn:ietf:params:acme:error:malformed");
    problem.put("detail", "another account holds the new key, or this account's key just changed");
    problem.put("status", 409);
    return new Reply(
        409,
        now.map(a -> views.accountUrl(a.id())),
        List.of(),
        AcmeJson.write(problem),
        "application/problem+json");
  }

  private static String json(JWK key) {
    return key.toPublicJWK().toJSONString();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  private static boolean sameKey(JWK a, JWK b) {
    try {
      return java.util.Arrays.equals(
          AcmeRevocations.publicKeyDer(a), AcmeRevocations.publicKeyDer(b));
    } catch (AcmeProblem e) {
      return false;
    }
  }

  /** The account's orders list (RFC 8555 §7.1.2.1), newest first, at most 1000. */
  Reply orders(Account acct, String id) {
    mustOwn(acct, id);
    List<Object> urls = new ArrayList<>();
    for (String o : store.orderIdsOf(id)) {
      urls.add(views.orderUrl(o));
    }
    return AcmeViews.json(200, Optional.empty(), List.of(), Map.of("orders", urls));
  }

  /** The valid account whose URL is the JWS's kid and whose key signed it. */
  Account signer(AcmeJws jws) {
    String kid =
        jws.kid().orElseThrow(() -> AcmeProblem.malformed("this request is signed with a kid"));
    String prefix = views.accountUrl("");
    if (!kid.startsWith(prefix)) {
      throw new AcmeProblem("accountDoesNotExist", 400, "kid is not an account URL of this server");
    }
    Account a =
        store
            .account(kid.substring(prefix.length()))
            .orElseThrow(() -> new AcmeProblem("accountDoesNotExist", 400, "no such account"));
    jws.verify(jwk(a));
    if (!a.status().equals("valid")) {
      throw AcmeProblem.unauthorized("the account is " + a.status());
    }
    return a;
  }

  static JWK jwk(Account a) {
    try {
      return JWK.parse(a.jwk());
    } catch (ParseException e) {
      throw new IllegalStateException("stored account key does not parse", e);
    }
  }

  private static void mustOwn(Account acct, String id) {
    if (!acct.id().equals(id)) {
      throw AcmeProblem.unauthorized("this is not your account");
    }
  }

  private static String contact(Object o) {
    if (o == null) {
      return null;
    }
    if (!(o instanceof List<?> l) || l.size() > 10) {
      throw AcmeProblem.malformed("contact is a list of at most 10 mailto: URLs");
    }
    List<String> out = new ArrayList<>();
    for (Object x : l) {
      if (!(x instanceof String s) || !s.matches("mailto:[^\\s,@]{1,64}@[A-Za-z0-9.-]{1,253}")) {
        throw new AcmeProblem("invalidContact", 400, "contacts must be mailto: addresses");
      }
      out.add(s);
    }
    return String.join(",", out);
  }
}
