package io.yinxin.sso.spring;

import java.util.List;
import org.springframework.security.core.session.SessionInformation;
import org.springframework.security.core.session.SessionRegistry;

/**
 * The session registry the authorization server asks for an ID token's {@code sid}: one that keeps
 * nothing, so ID tokens carry no session id, as discovery says ({@code
 * backchannel_logout_session_supported} and {@code frontchannel_logout_session_supported} false;
 * signing out ends every session of the person). Sessions themselves live in Spring Session ({@link
 * SsoSessions}).
 *
 * <p>Without a registry bean upstream makes an in-memory {@code SessionRegistryImpl}, adds the
 * session at every authorization and removes it only on a servlet session-destroyed event, which
 * Spring Session's JDBC and Redis repositories never publish. So it grew by one entry per sign-in
 * without end, on each node apart; its {@code sid} was the person's most recently used session on
 * that node (another browser's, or none when the code was redeemed on another node); and every code
 * redemption walked and sorted all of the person's entries (in the sign-in benchmark, one account
 * signing in tens of thousands of times, that walk and the copy-on-write set behind it cost more
 * than the access token's signature). {@code auth_time} is added by {@code AuthenticationMethods},
 * from the sign-in itself.
 */
final class UntrackedSessions implements SessionRegistry {
  @Override
  public List<Object> getAllPrincipals() {
    return List.of();
  }

  @Override
  public List<SessionInformation> getAllSessions(Object principal, boolean includeExpired) {
    return List.of();
  }

  @Override
  public SessionInformation getSessionInformation(String sessionId) {
    return null;
  }

  @Override
  public void refreshLastRequest(String sessionId) {
    // nothing is kept
  }

  @Override
  public void registerNewSession(String sessionId, Object principal) {
    // nothing is kept
  }

  @Override
  public void removeSessionInformation(String sessionId) {
    // nothing is kept
  }
}
