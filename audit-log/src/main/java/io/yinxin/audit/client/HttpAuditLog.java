package io.yinxin.audit.client;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.Receipt;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link AuditLog} for a node that does not host the log: appends over HTTP to {@code POST
 * <base>/audit/v1/entries} with the writer bearer token, and returns the remote receipt, which the
 * remote log hands out only after its commit.
 */
public final class HttpAuditLog implements AuditLog {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI entries;
  private final char[] token;

  /**
   * @param baseUrl the log node's base URL, e.g. {@code https://audit.city.example}
   * @param token the writer bearer token
   */
  public HttpAuditLog(String baseUrl, char[] token) {
    this.entries = URI.create(baseUrl.replaceAll("/+$", "") + "/audit/v1/entries");
    this.token = token.clone();
  }

  @Override
  public Receipt append(AuditEvent event) {
    return send(body(event), null);
  }

  /**
   * Appends an event given as its request body, at most once per key: the remote log answers a
   * repeated key with the first call's receipt, so a caller that lost the answer (timeout, crash)
   * sends again without a duplicate entry.
   */
  public Receipt appendOnce(String body, String idempotencyKey) {
    return send(body, idempotencyKey);
  }

  /** The JSON request body of {@code POST /audit/v1/entries} for an event. */
  public static String body(AuditEvent event) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", event.type().name());
    m.put("time", event.time().toString());
    m.put("actor", event.actor());
    m.put("subject", event.subject());
    m.put("attributes", event.attributes());
    event.objectDigest().ifPresent(d -> m.put("objectDigest", d));
    return JSON.writeValueAsString(m);
  }

  private Receipt send(String body, String idempotencyKey) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(entries)
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + new String(token))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AuditException(
          Code.UNAVAILABLE, "audit log at " + entries.getHost() + " unreachable");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AuditException(Code.UNAVAILABLE, "interrupted while appending");
    }
    if (r.statusCode() != 201) {
      Code code =
          switch (r.statusCode()) {
            case 400 -> Code.INVALID_EVENT;
            case 401, 403 -> Code.UNAUTHORIZED;
            default -> Code.UNAVAILABLE;
          };
      throw new AuditException(code, "remote audit log answered " + r.statusCode());
    }
    try {
      JsonNode m = JSON.readTree(r.body());
      if (!m.path("index").canConvertToLong() || !m.path("leafHash").isString()) {
        throw new IllegalArgumentException("no index or leafHash");
      }
      return new Receipt(
          m.get("index").longValue(), Base64.getDecoder().decode(m.get("leafHash").stringValue()));
    } catch (RuntimeException e) {
      throw new AuditException(Code.UNAVAILABLE, "remote audit log sent an unreadable receipt");
    }
  }

  @Override
  public String toString() {
    return "HttpAuditLog[" + entries + "]";
  }
}
