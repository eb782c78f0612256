package io.yinxin.sign.http;

import java.util.List;

/** Who calls the seal API: configured bearer tokens or an OAuth2 issuer's access tokens. */
public interface Callers {
  /**
   * An authenticated caller with the scope.
   *
   * @throws io.yinxin.sign.SignException {@code UNAUTHORIZED} without a valid token, {@code
   *     FORBIDDEN} without the scope
   */
  Caller authenticate(String scope, String authorization);

  /**
   * @param actor recorded as the actor of audit events
   * @param names every name a seal may be granted to (a token's subject and client)
   */
  record Caller(String actor, List<String> names) {}
}
