package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.sso.client.DemoClient;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * More concurrent requests than pooled connections: the provider must never need two connections
 * for one request. With the upstream services the registered-client lookup inside a result-set row
 * mapper took a second connection, and 64 concurrent introspections deadlocked a pool of 10 until
 * its timeout; here the pool has 2 connections, a 3-second timeout, and 24 clients.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ConcurrentRequestsTest {
  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) throws Exception {
    OpenIdProviderTest.h2Node(r, "sso-load");
    r.add("spring.datasource.hikari.maximum-pool-size", () -> "2");
    r.add("spring.datasource.hikari.connection-timeout", () -> "3000");
  }

  @LocalServerPort int port;
  @Autowired DemoClient demo;

  @Test
  void tokensAndIntrospectionsFromManyClientsAtOnceAllSucceed() throws Exception {
    String base = "http://127.0.0.1:" + port;
    String basic = Browser.basic(demo.clientId(), demo.secret().orElseThrow());
    HttpResponse<String> first =
        new Browser(base).post("/oauth2/token", Map.of("grant_type", "client_credentials"), basic);
    String token = Browser.group("\"access_token\":\"([^\"]+)\"", first.body());
    ExecutorService pool = Executors.newFixedThreadPool(24);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 240; i++) {
        boolean introspect = i % 2 == 0;
        results.add(
            pool.submit(
                () -> {
                  Browser b = new Browser(base);
                  HttpResponse<String> r =
                      introspect
                          ? b.post("/oauth2/introspect", Map.of("token", token), basic)
                          : b.post(
                              "/oauth2/token", Map.of("grant_type", "client_credentials"), basic);
                  return r.statusCode() == 200
                          && (!introspect || r.body().contains("\"active\":true"))
                      ? 1
                      : 0;
                }));
      }
      int ok = 0;
      for (Future<Integer> f : results) {
        ok += f.get();
      }
      assertThat(ok).isEqualTo(240);
    } finally {
      pool.shutdownNow();
    }
  }
}
