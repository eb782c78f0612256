package io.yinxin.sso.federation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;

/**
 * Other agencies' OpenID Providers this one trusts as upstreams (identity brokering): each known by
 * its issuer URL, read from its discovery document the first time a person picks it (so a node
 * starts while an upstream is down), then kept. We ask for {@code openid} and {@code id_number}:
 * the whole ID number, which the upstream releases only to clients its operator allowed and only
 * with the person's consent, is the verified claim that links the person to an account here.
 */
public final class Upstreams implements ClientRegistrationRepository {
  /** One upstream, as configured. */
  public record Upstream(String id, String name, String issuer, String clientId, String secret) {
    @Override
    public String toString() {
      return "Upstream[" + id + ", " + issuer + "]";
    }
  }

  private final Map<String, Upstream> configured = new LinkedHashMap<>();
  private final Map<String, ClientRegistration> resolved = new ConcurrentHashMap<>();

  public Upstreams(List<Upstream> upstreams) {
    for (Upstream u : upstreams) {
      if (u.id() == null || !u.id().matches("[a-z0-9][a-z0-9-]{0,40}")) {
        throw new IllegalStateException("yinxin.sso.upstreams[].id: a-z 0-9 -, at most 41");
      }
      if (configured.put(u.id(), u) != null) {
        throw new IllegalStateException("yinxin.sso.upstreams: two with id " + u.id());
      }
    }
  }

  /** The upstreams, for the sign-in page. */
  public List<Upstream> all() {
    return List.copyOf(configured.values());
  }

  public boolean isEmpty() {
    return configured.isEmpty();
  }

  @Override
  public ClientRegistration findByRegistrationId(String registrationId) {
    Upstream u = configured.get(registrationId);
    if (u == null) {
      return null;
    }
    return resolved.computeIfAbsent(
        registrationId,
        id ->
            ClientRegistrations.fromIssuerLocation(u.issuer())
                .registrationId(id)
                .clientName(u.name())
                .clientId(u.clientId())
                .clientSecret(u.secret())
                .scope("openid", "id_number")
                .redirectUri("{baseUrl}/login/oauth2/code/{registrationId}")
                .build());
  }
}
