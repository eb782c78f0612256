package io.yinxin.sso;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The SSO's event metrics on Micrometer's global registry (a node's Prometheus registry joins it):
 * {@code yinxin_sso_tokens_issued_total{grant,type}} and {@code
 * yinxin_sso_logins_total{method,result}} (method pwd, otp, x509, passkey, fed; result ok or the
 * reason it failed), {@code yinxin_sso_sessions_refused_total} (requests answered 429 because their
 * address had opened its budget of new sessions, {@code io.yinxin.sso.spring.NewSessionBudget}). No
 * metric carries an account name: per-account figures are gauges over the throttle table ({@code
 * io.yinxin.sso.spring.SsoStateMetrics}).
 */
public final class SsoMetrics {
  private static final MeterRegistry REGISTRY = Metrics.globalRegistry;
  private static final Map<String, Counter> COUNTERS = new ConcurrentHashMap<>();

  private SsoMetrics() {}

  /**
   * The password sign-in series exist from the start, at 0, so the failed-login alert's ratio is
   * defined before the first attempt.
   */
  public static void init() {
    for (String r : new String[] {"ok", "bad_credentials"}) {
      counter("pwd", r);
    }
    SESSIONS_REFUSED.count();
    DEVICE_AUTHORIZATIONS_REFUSED.count();
    for (DeviceCodeGuess g : DeviceCodeGuess.values()) {
      deviceCodeGuessCounter(g);
    }
  }

  private static final Counter SESSIONS_REFUSED =
      Counter.builder("yinxin.sso.sessions.refused")
          .description("Requests refused because their address had opened its new sessions")
          .register(REGISTRY);

  public static void sessionRefused() {
    SESSIONS_REFUSED.increment();
  }

  private static final Counter DEVICE_AUTHORIZATIONS_REFUSED =
      Counter.builder("yinxin.sso.device.authorizations.refused")
          .description(
              "Device authorization requests refused because their address had asked its"
                  + " budget of device codes")
          .register(REGISTRY);

  public static void deviceAuthorizationRefused() {
    DEVICE_AUTHORIZATIONS_REFUSED.increment();
  }

  /** What became of a device code a signed-in person entered that was not looked up or found. */
  public enum DeviceCodeGuess {
    /** It named no waiting device, and was counted against the account. */
    WRONG,
    /** It named no waiting device, and was the one that blocked the account's device codes. */
    BLOCKED,
    /** The account's device codes were blocked, so it was not looked up. */
    REFUSED
  }

  /**
   * {@code yinxin_sso_device_code_guesses_total{result}}: device codes that named no waiting device
   * ({@code wrong}, {@code blocked}: the one that blocked its account) and codes not looked up
   * because their account was blocked ({@code refused}); {@code io.yinxin.sso.web
   * .DeviceCodeGuesses}.
   */
  public static void deviceCodeGuess(DeviceCodeGuess what) {
    deviceCodeGuessCounter(what).increment();
  }

  private static Counter deviceCodeGuessCounter(DeviceCodeGuess what) {
    String result = what.name().toLowerCase(java.util.Locale.ROOT);
    return COUNTERS.computeIfAbsent(
        "device code " + result,
        k ->
            Counter.builder("yinxin.sso.device.code.guesses")
                .description(
                    "Device codes a signed-in person entered that named no waiting device, or that"
                        + " were not looked up because the account was blocked")
                .tag("result", result)
                .register(REGISTRY));
  }

  public static void tokenIssued(String grant, String type) {
    COUNTERS
        .computeIfAbsent(
            "token " + grant + ' ' + type,
            k ->
                Counter.builder("yinxin.sso.tokens.issued")
                    .description("Tokens issued, by grant and token type")
                    .tag("grant", grant)
                    .tag("type", type)
                    .register(REGISTRY))
        .increment();
  }

  public static void login(String method, String result) {
    String m = method == null ? "-" : method;
    String r = result == null || result.length() > 40 ? "failed" : result;
    counter(m, r).increment();
  }

  private static Counter counter(String m, String r) {
    return COUNTERS.computeIfAbsent(
        "login " + m + ' ' + r,
        k ->
            Counter.builder("yinxin.sso.logins")
                .description("Sign-in attempts, by method and result")
                .tag("method", m)
                .tag("result", r)
                .register(REGISTRY));
  }
}
