package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialCreationOptions;
import org.springframework.security.web.webauthn.api.PublicKeyCredentialRequestOptions;
import org.springframework.security.web.webauthn.authentication.PublicKeyCredentialRequestOptionsRepository;
import org.springframework.security.web.webauthn.registration.PublicKeyCredentialCreationOptionsRepository;

/**
 * The options of a passkey ceremony between its two requests (the challenge the authenticator
 * signs). Spring keeps them as session attributes, but they are not serializable, so sessions
 * stored in the database or Redis could not hold them; here they wait in this node's memory, by
 * session id, for at most five minutes and at most 10,000 at once (the oldest go first). A ceremony
 * therefore finishes on the node it began on (a load balancer keeps a session's requests together,
 * or the person tries again).
 */
public final class PasskeyCeremonies {
  private static final Duration LIFETIME = Duration.ofMinutes(5);
  private static final int MAX = 10_000;

  private record Waiting(Object options, Instant until) {}

  private final Clock clock;
  private final Map<String, Waiting> waiting = new LinkedHashMap<>();

  public PasskeyCeremonies(Clock clock) {
    this.clock = clock;
  }

  private synchronized void put(String key, Object options) {
    if (options == null) {
      waiting.remove(key);
      return;
    }
    waiting.remove(key);
    waiting.put(key, new Waiting(options, clock.instant().plus(LIFETIME)));
    while (waiting.size() > MAX) {
      waiting.remove(waiting.keySet().iterator().next());
    }
  }

  private synchronized Object get(String key) {
    Waiting w = waiting.get(key);
    if (w == null || w.until().isBefore(clock.instant())) {
      waiting.remove(key);
      return null;
    }
    return w.options();
  }

  private static String key(HttpServletRequest request, String kind) {
    return kind + ":" + request.getSession().getId();
  }

  /** Where registration ceremonies wait. */
  public PublicKeyCredentialCreationOptionsRepository creations() {
    return new PublicKeyCredentialCreationOptionsRepository() {
      @Override
      public void save(
          HttpServletRequest request,
          HttpServletResponse response,
          PublicKeyCredentialCreationOptions options) {
        put(key(request, "create"), options);
      }

      @Override
      public PublicKeyCredentialCreationOptions load(HttpServletRequest request) {
        return (PublicKeyCredentialCreationOptions) get(key(request, "create"));
      }
    };
  }

  /** Where sign-in ceremonies wait. */
  public PublicKeyCredentialRequestOptionsRepository requests() {
    return new PublicKeyCredentialRequestOptionsRepository() {
      @Override
      public void save(
          HttpServletRequest request,
          HttpServletResponse response,
          PublicKeyCredentialRequestOptions options) {
        put(key(request, "request"), options);
      }

      @Override
      public PublicKeyCredentialRequestOptions load(HttpServletRequest request) {
        return (PublicKeyCredentialRequestOptions) get(key(request, "request"));
      }
    };
  }
}
