package io.yinxin.sso.federation;

import java.util.Collection;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.core.oidc.OidcUserInfo;
import org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser;

/**
 * A person signed in through an upstream provider and linked to an account here: the upstream's ID
 * token and user info, but the name of the local account (the {@code sub} of the tokens this
 * provider issues), and the upstream's issuer (the {@code idp} of its ID tokens).
 */
public final class FederatedUser extends DefaultOidcUser {
  private static final long serialVersionUID = 1L;

  private final String username;

  public FederatedUser(
      Collection<? extends GrantedAuthority> authorities,
      OidcIdToken idToken,
      OidcUserInfo userInfo,
      String username) {
    super(authorities, idToken, userInfo);
    this.username = username;
  }

  @Override
  public String getName() {
    return username;
  }

  /** The upstream provider's issuer. */
  public String upstream() {
    return String.valueOf(getIssuer());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FederatedUser f && f.username.equals(username) && super.equals(o);
  }

  @Override
  public int hashCode() {
    return username.hashCode();
  }
}
