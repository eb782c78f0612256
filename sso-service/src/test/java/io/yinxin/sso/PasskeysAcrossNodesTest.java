package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.yinxin.audit.store.PostgresDatabase;
import io.yinxin.hsm.testing.FreePorts;
import io.yinxin.sso.account.Accounts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A passkey ceremony begun on one node finishes on the other, as behind a load balancer without
 * sticky sessions: two nodes on one PostgreSQL database; headless Chromium with a virtual
 * authenticator asks node A for the options and answers them with the authenticator, and the answer
 * (exactly the JSON Spring's ceremony script sends) goes to node B in the same session. Both
 * ceremonies: adding a passkey after a password sign-in, and signing in with it alone.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class PasskeysAcrossNodesTest {
  private static final int PORT_A = FreePorts.next();
  private static final int PORT_B = FreePorts.next();
  private static final Path DATA = OpenIdProviderTest.tempDir("yinxin-sso-passkey-nodes-");
  private static final String DB = OpenIdProviderTest.postgresDatabase();
  private static ConfigurableApplicationContext second;

  private static final String[] PASSKEYS = {
    "yinxin.sso.passkeys-rp-id=localhost",
    "yinxin.sso.passkeys-origins[0]=http://localhost:" + PORT_A,
    "yinxin.sso.passkeys-origins[1]=http://localhost:" + PORT_B
  };

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.nodeProperties(r, DATA.toString(), DB, PostgresDatabase.USER);
    r.add("server.port", () -> PORT_A);
    for (String p : PASSKEYS) {
      String[] kv = p.split("=", 2);
      r.add(kv[0], () -> kv[1]);
    }
  }

  @AfterAll
  static void stopSecond() {
    if (second != null) {
      second.close();
    }
  }

  @Autowired Accounts accounts;

  private final HttpClient http = HttpClient.newHttpClient();

  private static String a() {
    return "http://localhost:" + PORT_A;
  }

  /** The CSRF header value on a page that runs Spring's ceremony script. */
  private static String csrf(WebDriver d) {
    return Browser.group("'X-CSRF-TOKEN': '([^']+)'", d.getPageSource());
  }

  /**
   * Posts {@code json} to node B's {@code path} in the browser's session (its cookie and CSRF
   * token), as the ceremony script would have posted it to node A.
   */
  private HttpResponse<String> postToB(String path, String session, String csrf, String json)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + PORT_B + path))
            .header("Content-Type", "application/json")
            .header("Cookie", "YINXIN_SSO=" + session)
            .header("X-CSRF-TOKEN", csrf)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String session(WebDriver d) {
    return d.manage().getCookieNamed("YINXIN_SSO").getValue();
  }

  /** Base64url without padding, as the ceremony script encodes the authenticator's bytes. */
  private static final String B64 =
      "const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))"
          + ".replace(/=/g, '').replace(/\\+/g, '-').replace(/\\//g, '_');"
          + "const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')),"
          + " c => c.charCodeAt(0)).buffer;";

  /** Asks node A for registration options and answers them with the authenticator. */
  private static final String CREATE =
      B64
          + "const [csrf, done] = arguments;"
          + "fetch('/webauthn/register/options', {method: 'POST', headers:"
          + " {'Content-Type': 'application/json', 'X-CSRF-TOKEN': csrf}})"
          + ".then(r => r.json()).then(o => navigator.credentials.create({publicKey: {...o,"
          + " user: {...o.user, id: unb64(o.user.id)}, challenge: unb64(o.challenge),"
          + " excludeCredentials: (o.excludeCredentials || []).map(c => ({...c, id:"
          + " unb64(c.id)}))}}))"
          + ".then(c => done(JSON.stringify({publicKey: {label: '另一个节点', credential: {id: c.id,"
          + " rawId: b64(c.rawId), response: {attestationObject:"
          + " b64(c.response.attestationObject), clientDataJSON: b64(c.response.clientDataJSON),"
          + " transports: c.response.getTransports()}, type: c.type, clientExtensionResults:"
          + " c.getClientExtensionResults(), authenticatorAttachment:"
          + " c.authenticatorAttachment}}})))"
          + ".catch(e => done('error: ' + e));";

  /** Asks node A for sign-in options and answers them with the authenticator. */
  private static final String GET =
      B64
          + "const [csrf, done] = arguments;"
          + "fetch('/webauthn/authenticate/options', {method: 'POST', headers:"
          + " {'Content-Type': 'application/json', 'X-CSRF-TOKEN': csrf}})"
          + ".then(r => r.json()).then(o => navigator.credentials.get({publicKey: {...o,"
          + " challenge: unb64(o.challenge), allowCredentials: (o.allowCredentials ||"
          + " []).map(c => ({...c, id: unb64(c.id)}))}}))"
          + ".then(c => done(JSON.stringify({id: c.id, rawId: b64(c.rawId), response:"
          + " {authenticatorData: b64(c.response.authenticatorData), clientDataJSON:"
          + " b64(c.response.clientDataJSON), signature: b64(c.response.signature), userHandle:"
          + " b64(c.response.userHandle)}, credType: c.type, clientExtensionResults:"
          + " c.getClientExtensionResults(), authenticatorAttachment:"
          + " c.authenticatorAttachment})))"
          + ".catch(e => done('error: ' + e));";

  @Test
  void aCeremonyBegunOnOneNodeFinishesOnTheOther() throws Exception {
    assumeTrue(Chromium.available());
    java.util.List<String> extra = new java.util.ArrayList<>(java.util.List.of(PASSKEYS));
    extra.add("server.port=" + PORT_B);
    second =
        OpenIdProviderTest.startNode(
            DATA.toString(), DB, PostgresDatabase.USER, extra.toArray(String[]::new));
    assertThat(OpenIdProviderTest.port(second)).isEqualTo(PORT_B);
    accounts.create("zhaojiu", "correct horse battery staple", "赵九");

    WebDriver d = Chromium.withAuthenticator("zh-CN,zh");
    try {
      d.manage().timeouts().scriptTimeout(Duration.ofSeconds(20));
      // A password sign-in on node A, then the registration ceremony: options from A, answer to B.
      d.get(a() + "/login");
      d.findElement(org.openqa.selenium.By.id("username")).sendKeys("zhaojiu");
      d.findElement(org.openqa.selenium.By.id("password")).sendKeys("correct horse battery staple");
      d.findElement(org.openqa.selenium.By.cssSelector("form[action='/login'] button[type=submit]"))
          .click();
      new WebDriverWait(d, Duration.ofSeconds(20))
          .until(x -> !x.getCurrentUrl().endsWith("/login"));
      d.get(a() + "/webauthn/register");
      String csrf = csrf(d);
      String created = (String) ((JavascriptExecutor) d).executeAsyncScript(CREATE, csrf);
      assertThat(created).doesNotStartWith("error");
      HttpResponse<String> registered = postToB("/webauthn/register", session(d), csrf, created);
      assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
      assertThat(registered.body()).contains("\"success\":true");
      // The same answer again: the ceremony was taken by its first answer.
      assertThat(postToB("/webauthn/register", session(d), csrf, created).statusCode())
          .isNotEqualTo(200);

      // A new browser session: sign-in options from A, the authenticator's answer to B.
      d.manage().deleteAllCookies();
      d.get(a() + "/login");
      csrf = csrf(d);
      String asserted = (String) ((JavascriptExecutor) d).executeAsyncScript(GET, csrf);
      assertThat(asserted).doesNotStartWith("error");
      HttpResponse<String> signedIn = postToB("/login/webauthn", session(d), csrf, asserted);
      assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(200);
      assertThat(signedIn.body()).contains("\"authenticated\":true");
      String cookie =
          signedIn.headers().allValues("Set-Cookie").stream()
              .filter(c -> c.startsWith("YINXIN_SSO="))
              .map(c -> c.substring("YINXIN_SSO=".length(), c.indexOf(';')))
              .findFirst()
              .orElse(session(d));
      HttpResponse<String> account =
          http.send(
              HttpRequest.newBuilder(URI.create("http://localhost:" + PORT_B + "/account"))
                  .header("Cookie", "YINXIN_SSO=" + cookie)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(account.statusCode()).isEqualTo(200);
      assertThat(account.body()).contains("zhaojiu", "赵九");
    } finally {
      d.quit();
    }
  }
}
