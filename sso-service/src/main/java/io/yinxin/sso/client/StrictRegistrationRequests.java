package io.yinxin.sso.client;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.web.authentication.AuthenticationConverter;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A dynamic registration request's JSON ({@code POST /connect/register}), read before Spring's
 * converter reads it, as the admin API reads its own: at most {@link #MAX_BODY} bytes, one object,
 * each member once, text members as JSON strings and list members as arrays of strings. Spring's
 * converter keeps the last of two {@code redirect_uris} (a reviewer or a proxy reading the first
 * sees another client than the one stored) and turns {@code "client_name": 5} into {@code "5"}; its
 * parse errors also told the caller the parser's internals. What passes goes on to Spring's
 * converter unchanged, and then to {@link DynamicRegistration}, which refuses unknown members.
 */
public final class StrictRegistrationRequests implements AuthenticationConverter {
  /** Largest registration request, as for the admin API. */
  public static final int MAX_BODY = 64 * 1024;

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private final AuthenticationConverter spring;

  public StrictRegistrationRequests(AuthenticationConverter spring) {
    this.spring = spring;
  }

  @Override
  public Authentication convert(HttpServletRequest request) {
    if (!"POST".equals(request.getMethod())) {
      return spring.convert(request); // reading a registration: client_id in the query
    }
    byte[] body;
    try {
      body =
          io.yinxin.sso.web.BodyBytes.read(request, MAX_BODY)
              .orElseThrow(
                  () ->
                      invalid("invalid_request", "the body is larger than " + MAX_BODY + " bytes"));
    } catch (IOException e) {
      throw invalid("invalid_request", "the body could not be read");
    }
    Object parsed;
    try {
      parsed = JSON.readValue(body, Object.class);
    } catch (JacksonException e) {
      throw invalid(
          "invalid_request",
          String.valueOf(e.getOriginalMessage()).startsWith("Duplicate")
              ? "a member appears twice"
              : "the body is not JSON");
    }
    if (!(parsed instanceof Map<?, ?> members)) {
      throw invalid("invalid_request", "the body is not a JSON object");
    }
    for (Map.Entry<?, ?> m : members.entrySet()) {
      String name = String.valueOf(m.getKey());
      Object value = m.getValue();
      if (DynamicRegistration.TEXT.contains(name) && !(value instanceof String)) {
        throw invalid("invalid_client_metadata", name + ": a string");
      }
      if (DynamicRegistration.LISTS.contains(name)
          && !(value instanceof List<?> list && list.stream().allMatch(String.class::isInstance))) {
        throw invalid("invalid_client_metadata", name + ": an array of strings");
      }
    }
    return spring.convert(io.yinxin.sso.web.BodyBytes.replay(request, body));
  }

  private static OAuth2AuthenticationException invalid(String code, String why) {
    return new OAuth2AuthenticationException(new OAuth2Error(code, why, null));
  }
}
