package io.yinxin.sso.client;

import io.yinxin.hsm.Randomness;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.core.convert.converter.Converter;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.oidc.OidcClientRegistration;

/**
 * OpenID Connect Dynamic Client Registration ({@code POST /connect/register}), guarded as Spring's
 * endpoint guards it: by an initial access token, i.e. an access token of this provider with scope
 * {@code client.create} (an operator registers a registrar client with that scope through the admin
 * API). The request is checked by the same rules as the admin API ({@link ClientMetadata}:
 * canonical exact-match redirect URIs, known grants, scope syntax); the client id and its secret
 * are generated here; the client is stored with its {@code CONFIG_CHANGED} event in one transaction
 * ({@link ClientAdmin#saveRegistered}).
 */
public final class DynamicRegistration
    implements Converter<OidcClientRegistration, RegisteredClient> {
  /**
   * The members a registration may carry whose value is a string (RFC 7591 §2: {@code scope} is one
   * space-separated string).
   */
  static final java.util.Set<String> TEXT =
      java.util.Set.of(
          "client_name",
          "scope",
          "token_endpoint_auth_method",
          "jwks_uri",
          "token_endpoint_auth_signing_alg",
          "id_token_signed_response_alg");

  /** The members a registration may carry whose value is an array of strings. */
  static final java.util.Set<String> LISTS =
      java.util.Set.of(
          "redirect_uris",
          "post_logout_redirect_uris",
          "grant_types",
          "response_types",
          "default_acr_values");

  /** Passed on to the admin API's rules as they are; {@code response_types} is checked here. */
  private static final java.util.Set<String> PASSED_ON =
      java.util.stream.Stream.concat(TEXT.stream(), LISTS.stream())
          .filter(n -> !n.equals("response_types"))
          .collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final Clock clock;

  public DynamicRegistration(Clock clock) {
    this.clock = clock;
  }

  @Override
  public RegisteredClient convert(OidcClientRegistration request) {
    Map<String, Object> json = new LinkedHashMap<>();
    for (Map.Entry<String, Object> claim : request.getClaims().entrySet()) {
      String name = claim.getKey();
      Object value = claim.getValue();
      if (PASSED_ON.contains(name)) {
        json.put(
            name,
            name.equals("scope") && value instanceof Collection<?> c ? join(c) : plain(value));
      } else if (name.equals("response_types")) {
        if (!(value instanceof Collection<?> c) || !List.copyOf(c).equals(List.of("code"))) {
          throw invalid("invalid_client_metadata", "response_types: only [\"code\"]");
        }
      } else {
        throw invalid("invalid_client_metadata", "unsupported field " + name);
      }
    }
    if (json.get("scope") instanceof String scopes
        && List.of(scopes.split(" ")).contains("id_number")) {
      // Releasing whole ID numbers is an operator's decision (the admin API), never a self-service.
      throw invalid("invalid_client_metadata", "scope id_number is granted by an operator only");
    }
    ClientMetadata m;
    try {
      m = ClientMetadata.from(json);
    } catch (ClientMetadata.Invalid e) {
      throw invalid(e.error(), e.getMessage());
    }
    RegisteredClient.Builder b =
        RegisteredClient.withId(UUID.randomUUID().toString())
            .clientId("yx-" + HexFormat.of().formatHex(random(10)))
            .clientIdIssuedAt(clock.instant());
    if (m.hasSecret()) {
      // Spring encodes it with the provider's password encoder and returns it once.
      b.clientSecret(HexFormat.of().formatHex(random(32)));
    }
    return m.apply(b);
  }

  /** Stores registered clients through {@link ClientAdmin}, each with its audit event. */
  public static RegisteredClientRepository audited(
      RegisteredClientRepository repository, ClientAdmin admin) {
    return new RegisteredClientRepository() {
      @Override
      public void save(RegisteredClient client) {
        admin.saveRegistered("dynamic-registration", client);
      }

      @Override
      public RegisteredClient findById(String id) {
        return repository.findById(id);
      }

      @Override
      public RegisteredClient findByClientId(String clientId) {
        return repository.findByClientId(clientId);
      }
    };
  }

  private static Object plain(Object value) {
    if (value instanceof Collection<?> c) {
      List<Object> out = new ArrayList<>();
      c.forEach(v -> out.add(v instanceof java.net.URL u ? u.toExternalForm() : String.valueOf(v)));
      return out;
    }
    return value instanceof java.net.URL u ? u.toExternalForm() : value;
  }

  private static String join(Collection<?> c) {
    return String.join(" ", c.stream().map(String::valueOf).toList());
  }

  private static OAuth2AuthenticationException invalid(String error, String description) {
    return new OAuth2AuthenticationException(new OAuth2Error(error, description, null));
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    Randomness.current().nextBytes(b);
    return b;
  }
}
