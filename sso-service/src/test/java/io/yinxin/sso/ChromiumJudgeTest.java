package io.yinxin.sso;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import io.yinxin.sso.account.Accounts;
import io.yinxin.sso.http.SsoAdmins;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real browser — Debian's Chromium, headless, driven through its chromedriver — uses the pages as
 * a person would, once in Chinese and once in English (the browser's Accept-Language): turns on
 * two-step verification from the key on the page (codes from oathtool), signs in to a portal with
 * password and code, gives consent by the button, and signs out once so that both portals it used
 * hear of it: by the browser loading their front-channel logout URIs, and by back-channel logout
 * tokens. Two portals are small HTTP servers here.
 */
@SpringBootTest(
    classes = OpenIdProviderTest.App.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ChromiumJudgeTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    OpenIdProviderTest.h2Node(r, "sso-chromium");
  }

  @LocalServerPort int port;
  @Autowired SsoAdmins admins;
  @Autowired Accounts accounts;

  private String base() {
    return "http://127.0.0.1:" + port;
  }

  /** A relying party: its callback, and what its logout endpoints were told. */
  private static final class Portal implements AutoCloseable {
    final HttpServer server;
    final List<String> front = new CopyOnWriteArrayList<>();
    final List<String> back = new CopyOnWriteArrayList<>();

    Portal(String name) throws Exception {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext(
          "/callback",
          ex -> {
            byte[] body =
                ("<!DOCTYPE html><html><body><h1 id=\"rp\">"
                        + name
                        + " signed in</h1></body></html>")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/html; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
          });
      server.createContext(
          "/frontchannel",
          ex -> {
            front.add(ex.getRequestURI().getRawQuery());
            ex.sendResponseHeaders(200, -1);
            ex.close();
          });
      server.createContext(
          "/backchannel",
          ex -> {
            back.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
          });
      server.start();
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  private void register(String id, Portal p) throws Exception {
    var r =
        Browser.json(
            base(),
            "POST",
            "/sso/v1/clients",
            admins.devToken().orElseThrow(),
            JSON.writeValueAsString(
                Map.of(
                    "client_id",
                    id,
                    "client_name",
                    id.equals("tax") ? "税务门户 Tax portal" : "社保门户 Social security",
                    "redirect_uris",
                    List.of(p.url("/callback")),
                    "scope",
                    "openid profile",
                    "frontchannel_logout_uri",
                    p.url("/frontchannel"),
                    "backchannel_logout_uri",
                    p.url("/backchannel"))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  private static WebDriver chromium(String languages) throws Exception {
    return Chromium.start(languages);
  }

  private String authorize(String clientId, Portal p) throws Exception {
    String challenge = Browser.challenge(Browser.verifier());
    return base()
        + "/oauth2/authorize?response_type=code&client_id="
        + clientId
        + "&scope=openid%20profile&state=st&code_challenge_method=S256&code_challenge="
        + challenge
        + "&redirect_uri="
        + URLEncoder.encode(p.url("/callback"), StandardCharsets.UTF_8);
  }

  private static void type(WebDriver d, String id, String text) {
    d.findElement(By.id(id)).clear();
    d.findElement(By.id(id)).sendKeys(text);
  }

  /** Clicks what submits a form or follows a link, and waits until the next page is there. */
  private static void submit(WebDriver d, By by) {
    String before = d.getCurrentUrl();
    org.openqa.selenium.WebElement html = d.findElement(By.tagName("html"));
    d.findElement(by).click();
    // The old page is gone: the URL changed, or its root element no longer answers.
    new WebDriverWait(d, Duration.ofSeconds(15))
        .until(
            x -> {
              if (!x.getCurrentUrl().equals(before)) {
                return true;
              }
              try {
                html.getTagName();
                return false;
              } catch (org.openqa.selenium.WebDriverException e) {
                return true;
              }
            });
    new WebDriverWait(d, Duration.ofSeconds(15))
        .ignoring(org.openqa.selenium.WebDriverException.class)
        .until(
            x ->
                "complete"
                    .equals(
                        ((org.openqa.selenium.JavascriptExecutor) x)
                            .executeScript("return document.readyState")));
  }

  private static String lang(WebDriver d) {
    return d.findElement(By.tagName("html")).getAttribute("lang");
  }

  /** Signs in with the password and the next TOTP code; the page after. */
  private static void signIn(WebDriver d, String username, String password, String secret)
      throws Exception {
    type(d, "username", username);
    type(d, "password", password);
    submit(d, By.cssSelector("button[type=submit]"));
    waitFor(d, () -> d.getCurrentUrl().endsWith("/login/otp"));
    // The enrolment spent the current step's code; the next step's is good once.
    type(d, "code", SecondFactorTest.oathtool(secret, 30));
    submit(d, By.cssSelector("button[type=submit]"));
  }

  /** Turns on TOTP through /account/totp; the key as the page shows it. */
  private String enrol(WebDriver d, String username, String password) throws Exception {
    d.get(base() + "/login");
    type(d, "username", username);
    type(d, "password", password);
    submit(d, By.cssSelector("button[type=submit]"));
    d.get(base() + "/account/totp");
    String secret = d.findElement(By.id("totp-secret")).getText().replace(" ", "");
    assertThat(d.findElement(By.cssSelector("svg[role=img]")).getAttribute("aria-label"))
        .isNotBlank();
    type(d, "code", SecondFactorTest.oathtool(secret, 0));
    submit(d, By.cssSelector("button[type=submit]"));
    assertThat(d.findElements(By.cssSelector("#recovery-codes li"))).hasSize(10);
    // Sign out; with no portal used yet there is nothing to tell.
    d.get(base() + "/account");
    submit(d, By.xpath("//form[@action='/logout']/button"));
    waitFor(d, () -> d.getCurrentUrl().endsWith("/login?logout"));
    return secret;
  }

  private static void waitFor(WebDriver d, java.util.function.Supplier<Boolean> condition) {
    new WebDriverWait(d, Duration.ofSeconds(15)).until(x -> condition.get());
  }

  @Test
  void aPersonSignsInWithPasswordAndTotpInBothLanguagesAndSignsOutOfTwoPortalsAtOnce()
      throws Exception {
    assumeTrue(Chromium.available(), "chromium and chromium-driver are installed by ops/bin/test");
    try (Portal tax = new Portal("tax");
        Portal social = new Portal("social")) {
      register("tax", tax);
      register("social", social);

      // In Chinese: TOTP on, then the tax portal with consent, then sign out.
      String password = "correct horse battery staple";
      accounts.create("lihua", password, "李华");
      WebDriver zh = chromium("zh-CN,zh");
      try {
        String secret = enrol(zh, "lihua", password);
        zh.get(authorize("tax", tax));
        assertThat(zh.getCurrentUrl()).endsWith("/login");
        assertThat(lang(zh)).isEqualTo("zh-CN");
        assertThat(zh.findElement(By.cssSelector("label[for=username]")).getText())
            .isEqualTo("用户名");
        signIn(zh, "lihua", password, secret);
        assertThat(lang(zh)).isEqualTo("zh-CN");
        assertThat(zh.getPageSource()).contains("税务门户", "请求访问您的账户");
        submit(zh, By.id("allow"));
        assertThat(zh.findElement(By.id("rp")).getText()).isEqualTo("tax signed in");
        zh.get(base() + "/account");
        submit(zh, By.xpath("//form[@action='/logout']/button"));
        waitFor(zh, () -> !tax.front.isEmpty() && !tax.back.isEmpty());
      } finally {
        zh.quit();
      }

      // In English: TOTP on, two portals (one sign-in), then one sign-out reaches both.
      accounts.create("mike", password, "Mike");
      WebDriver en = chromium("en-US,en");
      try {
        String secret = enrol(en, "mike", password);
        en.get(authorize("tax", tax));
        assertThat(lang(en)).isEqualTo("en");
        assertThat(en.findElement(By.cssSelector("label[for=username]")).getText())
            .isEqualTo("Username");
        signIn(en, "mike", password, secret);
        assertThat(en.getPageSource()).contains("Allow");
        submit(en, By.id("allow"));
        assertThat(en.findElement(By.id("rp")).getText()).isEqualTo("tax signed in");
        // Single sign-on: the second portal asks only for consent.
        en.get(authorize("social", social));
        assertThat(lang(en)).isEqualTo("en");
        submit(en, By.id("allow"));
        assertThat(en.findElement(By.id("rp")).getText()).isEqualTo("social signed in");

        int taxFront = tax.front.size();
        int taxBack = tax.back.size();
        en.get(base() + "/account");
        assertThat(en.getPageSource()).contains("My account", "Recent sign-ins");
        submit(en, By.xpath("//form[@action='/logout']/button"));
        // The browser loaded both front-channel URIs (with iss) and went on to the login page.
        waitFor(
            en,
            () -> tax.front.size() > taxFront && !social.front.isEmpty() && !social.back.isEmpty());
        waitFor(en, () -> en.getCurrentUrl().endsWith("/login?logout"));
        assertThat(social.front.get(0))
            .isEqualTo("iss=" + URLEncoder.encode(base(), StandardCharsets.UTF_8));
        assertThat(tax.back.size()).isGreaterThan(taxBack);
        assertThat(social.back.get(0)).startsWith("logout_token=");
        // Signed out: the portal's next sign-in asks for the password again.
        en.get(authorize("social", social));
        assertThat(en.getCurrentUrl()).endsWith("/login");

        // A stranger's five guesses block an account for unknown browsers, not for this one:
        // Chromium keeps the device cookie (path /login, SameSite=Strict) and sends it with the
        // sign-in form.
        accounts.create("nina", password, "Nina");
        en.get(base() + "/login");
        type(en, "username", "nina");
        type(en, "password", password);
        submit(en, By.cssSelector("button[type=submit]"));
        assertThat(en.getCurrentUrl()).doesNotContain("/login");
        en.get(base() + "/account");
        submit(en, By.xpath("//form[@action='/logout']/button"));
        waitFor(en, () -> en.getCurrentUrl().endsWith("/login?logout"));
        Browser stranger = new Browser(base());
        for (int i = 0; i < 5; i++) {
          assertThat(Browser.location(stranger.signIn("nina", "guess " + i)))
              .endsWith("/login?error");
        }
        assertThat(Browser.location(new Browser(base()).signIn("nina", password)))
            .endsWith("/login?error");
        type(en, "username", "nina");
        type(en, "password", password);
        submit(en, By.cssSelector("button[type=submit]"));
        assertThat(en.getCurrentUrl()).doesNotContain("/login");
      } finally {
        en.quit();
      }
    }
  }

  /**
   * What a person sees when a portal's link is wrong, or an address does not exist: a page in the
   * browser's language saying what happened and which parameter is at fault (only its name), not
   * Spring's English "Whitelabel Error Page"; the link to the other language gives the same page in
   * it. A client that does not ask for HTML still gets JSON.
   */
  /** The sign-in page's "forgot your password?" link leads to what to do, in either language. */
  @Test
  void aPersonWhoForgotThePasswordFollowsTheLinkInBothLanguages() throws Exception {
    assumeTrue(Chromium.available(), "chromium and chromium-driver are installed by ops/bin/test");
    WebDriver zh = chromium("zh-CN,zh");
    try {
      zh.get(base() + "/login");
      zh.findElement(By.id("forgot")).click();
      waitFor(zh, () -> zh.getCurrentUrl().endsWith("/login/forgot"));
      assertThat(lang(zh)).isEqualTo("zh-CN");
      assertThat(zh.findElement(By.tagName("h1")).getText()).isEqualTo("忘记密码");
      // This node has neither certificate sign-in nor passkeys: the service desk is the way.
      assertThat(zh.findElement(By.tagName("main")).getText())
          .contains("请联系服务台", "一次性密码")
          .doesNotContain("否则", "通行密钥");
      zh.findElement(By.cssSelector("a[lang=en]")).click();
      assertThat(lang(zh)).isEqualTo("en");
      assertThat(zh.findElement(By.tagName("h1")).getText()).isEqualTo("Forgot your password");
      assertThat(zh.findElement(By.tagName("main")).getText())
          .contains("Ask the service desk", "one-time password");
    } finally {
      zh.quit();
    }
  }

  @Test
  void aBrowserSeesErrorsInItsLanguage() throws Exception {
    assumeTrue(Chromium.available(), "chromium and chromium-driver are installed by ops/bin/test");
    String unknownClient =
        base() + "/oauth2/authorize?response_type=code&client_id=nobody&scope=openid";
    WebDriver zh = chromium("zh-CN,zh");
    try {
      zh.get(unknownClient);
      assertThat(lang(zh)).isEqualTo("zh-CN");
      assertThat(zh.findElement(By.tagName("h1")).getText()).isEqualTo("请求无法处理");
      assertThat(zh.findElement(By.id("parameter")).getText())
          .isEqualTo("出错的参数：client_id (invalid_request)");
      assertThat(zh.findElement(By.id("status")).getText()).isEqualTo("错误代码：HTTP 400");
      assertThat(zh.getPageSource()).doesNotContain("Whitelabel", "nobody\"");
      // The same page in English, by its link.
      zh.findElement(By.cssSelector("a[lang=en]")).click();
      assertThat(lang(zh)).isEqualTo("en");
      assertThat(zh.findElement(By.tagName("h1")).getText())
          .isEqualTo("This request cannot be handled");
      assertThat(zh.findElement(By.id("parameter")).getText())
          .isEqualTo("Parameter at fault: client_id (invalid_request)");
    } finally {
      zh.quit();
    }
    WebDriver en = chromium("en-US,en");
    try {
      en.get(base() + "/no-such-page");
      assertThat(lang(en)).isEqualTo("en");
      assertThat(en.findElement(By.tagName("h1")).getText()).isEqualTo("Page not found");
      assertThat(en.findElement(By.id("status")).getText()).isEqualTo("Error code: HTTP 404");
    } finally {
      en.quit();
    }
    var api =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(base() + "/no-such-page"))
                    .header("Accept", "application/json")
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(api.statusCode()).isEqualTo(404);
    assertThat(api.headers().firstValue("Content-Type").orElse("")).contains("application/json");
  }
}
