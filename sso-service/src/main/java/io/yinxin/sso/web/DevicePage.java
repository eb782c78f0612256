package io.yinxin.sso.web;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Where a signed-in person enters the code a device (a television, a kiosk, a command-line tool)
 * shows them (RFC 8628 §3.3), in Chinese and English: the code goes to the device verification
 * endpoint, which asks for consent on the usual page, and the person comes back here to read that
 * the device is signed in.
 */
@RestController
public class DevicePage {
  private static final java.time.format.DateTimeFormatter SHOWN =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")
          .withZone(java.time.ZoneId.of("Asia/Shanghai"));

  private final DeviceCodeGuesses guesses;

  public DevicePage(DeviceCodeGuesses guesses) {
    this.guesses = guesses;
  }

  @GetMapping(path = "/activate", produces = MediaType.TEXT_HTML_VALUE)
  public ResponseEntity<String> activate(
      HttpServletRequest request,
      @RequestParam(value = "user_code", required = false) String userCode,
      @RequestParam(value = "done", required = false) String done,
      @RequestParam(value = "error", required = false) String error,
      @RequestParam(value = "lang", required = false) String lang) {
    boolean zh = Pages.chinese(lang, request);
    java.util.Optional<java.time.Instant> blocked =
        request.getRemoteUser() == null
            ? java.util.Optional.empty()
            : guesses.blockedUntil(request.getRemoteUser());
    if (done == null && blocked.isPresent()) {
      String until = SHOWN.format(blocked.get());
      long seconds =
          Math.max(
              1, java.time.Duration.between(java.time.Instant.now(), blocked.get()).toSeconds());
      ResponseEntity<String> page =
          Pages.page(
              zh,
              "/activate",
              zh ? "设备登录" : "Sign in a device",
              zh
                  ? "输入错误代码的次数过多，请于 " + until + "（北京时间）后再输入设备代码。"
                  : "Too many wrong codes: enter a device code again after " + until + " (UTC+8).",
              "");
      return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS)
          .headers(page.getHeaders())
          .header("Retry-After", Long.toString(seconds))
          .body(page.getBody());
    }
    if (done != null) {
      return Pages.page(
          zh,
          "/activate?done",
          zh ? "设备已登录" : "Device signed in",
          null,
          "<p>"
              + (zh
                  ? "设备已获得授权，可以关闭此页并回到设备上继续。"
                  : "The device is signed in. You can close this page and go back to it.")
              + "</p>\n");
    }
    if (userCode != null && !userCode.isBlank()) {
      String code = userCode.strip().toUpperCase(java.util.Locale.ROOT);
      if (code.length() > 20 || !code.matches("[A-Z0-9-]+")) {
        return form(zh, zh ? "代码格式不正确。" : "That code is not in the right form.");
      }
      return ResponseEntity.status(HttpStatus.FOUND)
          .header(
              "Location",
              "/oauth2/device_verification?user_code="
                  + URLEncoder.encode(code, StandardCharsets.UTF_8))
          .build();
    }
    return form(
        zh,
        error == null
            ? null
            : zh
                ? "没有设备在等待这个代码。请核对设备上显示的代码后重试（代码在 5 分钟内有效）。"
                : "No device is waiting for that code. Check the code your device shows and try"
                    + " again (codes last 5 minutes).");
  }

  private static ResponseEntity<String> form(boolean zh, String message) {
    return Pages.page(
        zh,
        "/activate",
        zh ? "设备登录" : "Sign in a device",
        message,
        "<form method=\"get\" action=\"/activate\">\n<label for=\"user_code\">"
            + (zh ? "设备上显示的代码" : "The code your device shows")
            + "</label><input id=\"user_code\" name=\"user_code\" autocomplete=\"off\""
            + " autocapitalize=\"characters\" required autofocus maxlength=\"20\">\n"
            + "<button type=\"submit\">"
            + (zh ? "继续" : "Continue")
            + "</button>\n</form>\n");
  }
}
