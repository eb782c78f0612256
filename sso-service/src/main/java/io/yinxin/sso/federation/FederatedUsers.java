package io.yinxin.sso.federation;

import io.yinxin.sso.realname.IdNumber;
import io.yinxin.sso.realname.RealNames;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.userinfo.OAuth2UserService;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;

/**
 * Links a person the upstream signed in to an account here by a verified claim: the upstream's
 * {@code id_number} (GB 11643, checked again here) must belong to an account, found by its blind
 * index. No link, no sign-in ({@code no_linked_account}): an upstream can never create or claim an
 * account by a name or an email address.
 */
public final class FederatedUsers implements OAuth2UserService<OidcUserRequest, OidcUser> {
  /** The session's factor after a sign-in through an upstream. */
  public static final String FEDERATED_AUTHORITY = "FACTOR_FEDERATED";

  private final OidcUserService upstream = new OidcUserService();
  private final RealNames realNames;
  private final java.util.function.Predicate<String> enabled;
  private final Clock clock;

  /**
   * @param enabled whether an account may sign in (an operator may have disabled it)
   */
  public FederatedUsers(
      RealNames realNames, java.util.function.Predicate<String> enabled, Clock clock) {
    this.realNames = realNames;
    this.enabled = enabled;
    this.clock = clock;
  }

  @Override
  public OidcUser loadUser(OidcUserRequest request) {
    OidcUser user = upstream.loadUser(request);
    Object claim = user.getClaims().get("id_number");
    Optional<IdNumber> id =
        claim instanceof String s
            ? IdNumber.parse(
                s, LocalDate.now(clock.withZone(ZoneId.of("Asia/Shanghai"))), new String[1])
            : Optional.empty();
    Optional<String> account = id.flatMap(realNames::byIdNumber);
    if (account.isEmpty()) {
      throw new OAuth2AuthenticationException(
          new OAuth2Error(
              "no_linked_account", "no account here belongs to the upstream's person", null));
    }
    if (!enabled.test(account.get())) {
      throw new OAuth2AuthenticationException(
          new OAuth2Error("account_disabled", "the linked account is disabled", null));
    }
    List<GrantedAuthority> authorities = new ArrayList<>();
    authorities.add(new SimpleGrantedAuthority("ROLE_USER"));
    authorities.add(
        FactorGrantedAuthority.withAuthority(FEDERATED_AUTHORITY)
            .issuedAt(clock.instant())
            .build());
    return new FederatedUser(
        authorities, withoutPersonalData(user.getIdToken()), null, account.get());
  }

  /** The upstream ID token's claims a signed-in session needs: who vouched, for whom, when. */
  private static final List<String> KEPT = List.of("iss", "sub", "aud", "iat", "exp", "auth_time");

  /**
   * The upstream's ID token without what it says about the person (the ID number, the name) and
   * without its signed text, which says the same: the principal is kept in the session (a database
   * row or a Redis key) and, as JSON, with every authorization issued on it, where the ID number
   * would lie unsealed. It is sealed in {@code sso.real_names} already; the upstream's user info is
   * dropped for the same reason.
   */
  static OidcIdToken withoutPersonalData(OidcIdToken token) {
    Map<String, Object> claims = new LinkedHashMap<>();
    for (String c : KEPT) {
      Object v = token.getClaims().get(c);
      if (v != null) {
        claims.put(c, v);
      }
    }
    return new OidcIdToken("(not kept)", token.getIssuedAt(), token.getExpiresAt(), claims);
  }
}
