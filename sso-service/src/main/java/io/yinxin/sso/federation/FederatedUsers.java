package io.yinxin.sso.federation;

import io.yinxin.sso.realname.IdNumber;
import io.yinxin.sso.realname.RealNames;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.FactorGrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.userinfo.OAuth2UserService;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
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
  private final Clock clock;

  public FederatedUsers(RealNames realNames, Clock clock) {
    this.realNames = realNames;
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
    List<GrantedAuthority> authorities = new ArrayList<>();
    authorities.add(new SimpleGrantedAuthority("ROLE_USER"));
    authorities.add(
        FactorGrantedAuthority.withAuthority(FEDERATED_AUTHORITY)
            .issuedAt(clock.instant())
            .build());
    return new FederatedUser(authorities, user.getIdToken(), user.getUserInfo(), account.get());
  }
}
