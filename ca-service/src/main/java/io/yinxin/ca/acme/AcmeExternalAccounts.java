package io.yinxin.ca.acme;

import com.nimbusds.jose.jwk.JWK;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * External account binding (RFC 8555 §7.3.4): an operator of the CA hands an agency a key
 * identifier and a MAC key out of band; the agency's ACME client binds its new account to them by a
 * JWS over the account key, MACed with that key. With {@code
 * yinxin.ca.acme.external-account-required} no account is opened without one, so only those the CA
 * knows obtain certificates, whatever domains they control.
 *
 * <p>The binding is checked the one way the RFC allows: a flattened JWS with {@code alg} HS256,
 * HS384 or HS512, the {@code kid} the operator gave, the newAccount {@code url}, no nonce and
 * nothing else in its protected header; its payload the very key of the outer JWS; its MAC right
 * under the key of that kid. A key binds one account, once, and expires unused after {@link
 * #LIFETIME}; it is spent in the transaction that stores the account, so two nodes binding with one
 * key at once open one account.
 */
final class AcmeExternalAccounts {
  /** How long a key handed out may wait to bind an account. */
  static final Duration LIFETIME = Duration.ofDays(7);

  private static final Map<String, String> MACS =
      Map.of("HS256", "HmacSHA256", "HS384", "HmacSHA384", "HS512", "HmacSHA512");

  private final AcmeStore store;
  private final boolean required;
  private final io.yinxin.audit.AuditOutbox audit;

  AcmeExternalAccounts(AcmeStore store, boolean required, io.yinxin.audit.AuditOutbox audit) {
    this.store = store;
    this.required = required;
    this.audit = audit;
  }

  boolean required() {
    return required;
  }

  /** A key handed out: its identifier, the MAC key (base64url) and when it expires unused. */
  record NewKey(String kid, String hmacKey, Instant expires) {}

  /**
   * Makes a key for an operator to hand out; its MAC key is shown once, here. A {@code
   * CONFIG_CHANGED} event names it (its kid, who made it, until when it binds; never the MAC key),
   * recorded with the key in one transaction and durable before the key is shown.
   */
  NewKey create(String label, String actor) {
    if (label == null || label.isBlank() || label.length() > 200 || !label.strip().equals(label)) {
      throw new io.yinxin.ca.CaException(
          io.yinxin.ca.CaException.Code.INVALID_REQUEST,
          "label",
          "1-200 characters naming who gets the key, without surrounding spaces");
    }
    byte[] key = new byte[32];
    io.yinxin.hsm.Randomness.current().nextBytes(key);
    String kid = AcmeViews.newId();
    Instant expires = Instant.now().plus(LIFETIME).truncatedTo(ChronoUnit.SECONDS);
    io.yinxin.audit.AuditOutbox.Pending evidence =
        store.insertEabKey(
            kid,
            key,
            label,
            actor,
            expires,
            c ->
                audit.record(
                    c,
                    io.yinxin.audit.AuditEvent.of(
                        io.yinxin.audit.EventType.CONFIG_CHANGED,
                        actor,
                        "acme-eab-key:" + kid,
                        Map.of("change", "created", "expires", expires.toString()))));
    audit.await(evidence);
    return new NewKey(kid, Base64.getUrlEncoder().withoutPadding().encodeToString(key), expires);
  }

  /** The keys made so far, newest first (at most 1,000), without their MAC keys. */
  List<AcmeStore.EabKey> list() {
    return store.eabKeys(1000);
  }

  /**
   * Takes a key back: unspent, it binds nothing more; spent, the account it bound is deactivated
   * (it may order nothing more). A {@code CONFIG_CHANGED} event says so, in the same transaction.
   *
   * @return empty if there is no such key
   */
  Optional<AcmeStore.EabRevocation> revoke(String kid, String actor) {
    Optional<Revoked> done =
        store.revokeEabKey(
            kid,
            actor,
            (c, r) -> {
              Map<String, String> details = new java.util.LinkedHashMap<>();
              details.put("change", r.revokedNow() ? "revoked" : "revoked again");
              r.deactivatedAccount().ifPresent(a -> details.put("deactivatedAccount", a));
              return new Revoked(
                  r,
                  audit.record(
                      c,
                      io.yinxin.audit.AuditEvent.of(
                          io.yinxin.audit.EventType.CONFIG_CHANGED,
                          actor,
                          "acme-eab-key:" + kid,
                          details)));
            });
    done.ifPresent(d -> audit.await(d.evidence()));
    return done.map(Revoked::revocation);
  }

  /** A revocation and its evidence, recorded in its transaction and awaited after the commit. */
  private record Revoked(
      AcmeStore.EabRevocation revocation, io.yinxin.audit.AuditOutbox.Pending evidence) {}

  /**
   * Checks a newAccount's {@code externalAccountBinding} for the account key {@code accountKey} and
   * the newAccount {@code url}.
   *
   * @return the key identifier to spend with the account; empty if there is no binding and none is
   *     required
   */
  Optional<String> check(Object binding, JWK accountKey, String url) {
    if (binding == null) {
      if (required) {
        throw new AcmeProblem(
            "externalAccountRequired",
            400,
            "this CA opens accounts only with an external account binding its operators gave");
      }
      return Optional.empty();
    }
    if (!(binding instanceof Map<?, ?> jws)
        || !jws.keySet().equals(Set.of("protected", "payload", "signature"))
        || !(jws.get("protected") instanceof String protectedB64)
        || !(jws.get("payload") instanceof String payloadB64)
        || !(jws.get("signature") instanceof String signatureB64)) {
      throw AcmeProblem.malformed(
          "externalAccountBinding is a flattened JWS: protected, payload and signature");
    }
    Map<String, Object> header =
        AcmeJson.object(AcmeProblem.canonicalBase64Url(protectedB64, "the binding"))
            .orElseThrow(() -> AcmeProblem.malformed("the binding's protected header is not JSON"));
    if (!Set.of("alg", "kid", "url").equals(header.keySet())
        || !(header.get("alg") instanceof String alg)
        || !MACS.containsKey(alg)
        || !(header.get("kid") instanceof String kid)
        || !(header.get("url") instanceof String bound)) {
      throw AcmeProblem.malformed(
          "the binding's protected header has alg (HS256, HS384, HS512), kid and url, no more");
    }
    if (!bound.equals(url)) {
      throw AcmeProblem.unauthorized("the binding's url is not this newAccount URL");
    }
    JWK boundKey;
    try {
      boundKey =
          JWK.parse(
              new String(
                  AcmeProblem.canonicalBase64Url(payloadB64, "the binding"),
                  StandardCharsets.UTF_8));
    } catch (java.text.ParseException e) {
      throw AcmeProblem.malformed("the binding's payload is not a JWK");
    }
    if (boundKey.isPrivate()
        || !AcmeJws.thumbprint(boundKey).equals(AcmeJws.thumbprint(accountKey))) {
      throw AcmeProblem.unauthorized("the binding is for another account key");
    }
    byte[] macKey =
        store
            .unusedEabKey(kid)
            .orElseThrow(
                () ->
                    AcmeProblem.unauthorized(
                        "the external account key is unknown, used or expired"));
    byte[] expected;
    try {
      Mac mac = Mac.getInstance(MACS.get(alg));
      mac.init(new SecretKeySpec(macKey, MACS.get(alg)));
      expected = mac.doFinal((protectedB64 + "." + payloadB64).getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    if (!MessageDigest.isEqual(
        expected, AcmeProblem.canonicalBase64Url(signatureB64, "the binding"))) {
      throw AcmeProblem.unauthorized("the binding's MAC does not verify");
    }
    return Optional.of(kid);
  }
}
