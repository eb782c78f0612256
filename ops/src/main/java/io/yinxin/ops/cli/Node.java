package io.yinxin.ops.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Where a command finds the node and its credentials: {@code --url} (else {@code YINXIN_URL}, else
 * {@code baseUrl} of {@code ./data/dev.json}, else {@code http://127.0.0.1:8080}); each API's token
 * from its environment variable, else from {@code dev.json} (the embedded default's development
 * tokens). Tokens are never taken from the command line, where {@code ps} would show them.
 */
public final class Node {
  static final JsonMapper JSON = JsonMapper.builder().build();

  @Option(
      names = "--url",
      paramLabel = "URL",
      description = "The node, e.g. https://ca.example.gov.cn (default: $YINXIN_URL, dev.json)")
  String url;

  @Option(
      names = "--dev-json",
      paramLabel = "FILE",
      description = "The embedded default's dev.json (default: ${DEFAULT-VALUE})",
      defaultValue = "data/dev.json")
  Path devJson;

  @Option(names = "--json", description = "Print the node's JSON answer instead of text")
  boolean json;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** A node answered with an error status. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    Refused(int status, String body) {
      super("the node answered " + status + (body.isBlank() ? "" : ": " + abbreviate(body)));
      this.status = status;
    }

    private static String abbreviate(String s) {
      String one = s.replaceAll("\\s+", " ").trim();
      return one.length() > 400 ? one.substring(0, 400) + "…" : one;
    }
  }

  /** The node cannot be reached. */
  static final class Unreachable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreachable(String message) {
      super(message);
    }
  }

  String base() {
    String u = url;
    if (u == null) {
      u = System.getenv("YINXIN_URL");
    }
    if (u == null) {
      u = dev().map(d -> d.path("baseUrl").asString()).filter(x -> !x.isBlank()).orElse(null);
    }
    if (u == null) {
      u = "http://127.0.0.1:8080";
    }
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  Optional<JsonNode> dev() {
    try {
      return Files.isRegularFile(devJson)
          ? Optional.of(JSON.readTree(Files.readString(devJson)))
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The token from {@code env}, else {@code field} of dev.json. */
  String token(String env, String field) {
    String t = System.getenv(env);
    if (t == null || t.isBlank()) {
      t = dev().map(d -> d.path(field).asString()).filter(x -> !x.isBlank()).orElse(null);
    }
    if (t == null || t.isBlank()) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this), "set " + env + " (or run beside the dev node's dev.json)");
    }
    return t;
  }

  HttpResponse<byte[]> send(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (ConnectException e) {
      throw new Unreachable("cannot reach " + base() + " (" + e.getClass().getSimpleName() + ")");
    } catch (IOException e) {
      throw new Unreachable("cannot reach " + base() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }

  /** Sends and returns the answer line by line as it arrives (streamed answers: NDJSON). */
  HttpResponse<java.util.stream.Stream<String>> lines(HttpRequest.Builder request) {
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
    } catch (ConnectException e) {
      throw new Unreachable("cannot reach " + base() + " (" + e.getClass().getSimpleName() + ")");
    } catch (IOException e) {
      throw new Unreachable("cannot reach " + base() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }

  HttpRequest.Builder request(String path, String token) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofMinutes(5));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  /** Sends and returns the JSON answer; a status of 400 or above is refused. */
  JsonNode call(HttpRequest.Builder request) {
    HttpResponse<byte[]> r = send(request);
    String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
    if (r.statusCode() >= 400) {
      throw new Refused(r.statusCode(), body);
    }
    return body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
  }

  static String pretty(JsonNode n) {
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
  }

  /**
   * A query string ({@code ?a=1&b=x}, or empty) of the name-value pairs given, leaving out those
   * whose value is null, each value URL-encoded.
   */
  static String query(Object... namesAndValues) {
    StringBuilder q = new StringBuilder();
    for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] != null) {
        q.append(q.length() == 0 ? '?' : '&')
            .append(namesAndValues[i])
            .append('=')
            .append(
                java.net.URLEncoder.encode(
                    String.valueOf(namesAndValues[i + 1]),
                    java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return q.toString();
  }

  /** The line that tells how to get the next page of a listing, when there is one. */
  static void printNext(picocli.CommandLine.Model.CommandSpec spec, JsonNode page) {
    if (page.path("next").isString()) {
      spec.commandLine().getOut().println("more: --after " + page.path("next").asString());
    }
  }
}
