package io.yinxin.sso.federation;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizedClientRepository;

/**
 * Where Spring's OpenID Connect client would keep the upstream's tokens after a sign-in: nowhere.
 * This node asks an upstream only who the person is; it never calls the upstream on their behalf
 * afterwards. Spring's default keeps every signed-in person's upstream access and refresh tokens in
 * the node's memory, one entry per person and upstream, never removed: bearer tokens nothing here
 * uses, and a map that grows with everyone who ever signed in through an upstream.
 */
public final class UpstreamTokensNotKept implements OAuth2AuthorizedClientRepository {
  @Override
  @SuppressWarnings("TypeParameterUnusedInFormals") // Spring's signature
  public <T extends OAuth2AuthorizedClient> T loadAuthorizedClient(
      String clientRegistrationId, Authentication principal, HttpServletRequest request) {
    return null;
  }

  @Override
  public void saveAuthorizedClient(
      OAuth2AuthorizedClient authorizedClient,
      Authentication principal,
      HttpServletRequest request,
      HttpServletResponse response) {
    // Deliberately nothing: see the class comment.
  }

  @Override
  public void removeAuthorizedClient(
      String clientRegistrationId,
      Authentication principal,
      HttpServletRequest request,
      HttpServletResponse response) {
    // Nothing was kept.
  }
}
