package io.yinxin.sso.realname;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The real-name claims a client gets, by scope: {@code realname} releases {@code name} (the legal
 * name), {@code id_number_masked}, {@code realname_verification} and {@code realname_verified_at};
 * {@code id_number} the whole ID number — a scope only an operator can give a client (never dynamic
 * registration) and only with the person's consent; {@code phone} the OpenID {@code phone_number}.
 * Every release is a {@code REALNAME_RELEASED} audit event naming the client, the channel and the
 * claims (never their values), durable before the claims leave.
 */
public final class RealNameClaims {
  public static final String SCOPE = "realname";
  public static final String ID_NUMBER_SCOPE = "id_number";

  private final RealNames realNames;
  private final AuditLog audit;

  public RealNameClaims(RealNames realNames, AuditLog audit) {
    this.realNames = realNames;
    this.audit = audit;
  }

  /**
   * The claims for {@code username} under {@code scopes}, recorded as released to {@code client}.
   *
   * @param channel {@code id_token} or {@code userinfo}
   */
  public Map<String, Object> release(
      String username, Collection<String> scopes, String client, String channel) {
    Map<String, Object> claims = new LinkedHashMap<>();
    if (!scopes.contains(SCOPE) && !scopes.contains(ID_NUMBER_SCOPE) && !scopes.contains("phone")) {
      return claims;
    }
    var masked = realNames.masked(username);
    if (masked.isEmpty()) {
      return claims;
    }
    if (scopes.contains(SCOPE)) {
      claims.put("name", masked.get().name());
      masked.get().idNumber().ifPresent(m -> claims.put("id_number_masked", m));
      claims.put("realname_verification", masked.get().verification().claim());
      // An Instant: the encoder writes it as NumericDate, and Spring can store it with the token.
      claims.put("realname_verified_at", masked.get().verifiedAt());
    }
    if (scopes.contains(ID_NUMBER_SCOPE)) {
      realNames.idNumber(username).ifPresent(n -> claims.put("id_number", n));
    }
    if (scopes.contains("phone")) {
      realNames
          .phoneNumber(username)
          .ifPresent(
              p -> {
                claims.put("phone_number", "+86" + p);
                claims.put("phone_number_verified", false);
              });
    }
    if (!claims.isEmpty()) {
      Map<String, String> attributes = new LinkedHashMap<>();
      attributes.put("client", client);
      attributes.put("channel", channel);
      attributes.put("claims", String.join(" ", new TreeSet<>(claims.keySet())));
      audit.append(AuditEvent.of(EventType.REALNAME_RELEASED, client, username, attributes));
    }
    return claims;
  }
}
