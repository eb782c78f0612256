package io.yinxin.sso;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.virtualauthenticator.HasVirtualAuthenticator;
import org.openqa.selenium.virtualauthenticator.VirtualAuthenticatorOptions;

/** Headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) for the page tests. */
final class Chromium {
  private static final Path BINARY = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  private Chromium() {}

  /** Whether both are installed here. */
  static boolean available() {
    return Files.isExecutable(BINARY) && Files.isExecutable(DRIVER);
  }

  /** A fresh browser whose preferred languages are {@code languages} ("zh-CN,zh"). */
  static WebDriver start(String languages) throws Exception {
    ChromeOptions o = new ChromeOptions();
    o.setBinary(BINARY.toFile());
    o.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--lang=" + languages.split(",")[0],
        "--user-data-dir=" + Files.createTempDirectory("yinxin-chromium-"));
    o.setExperimentalOption("prefs", Map.of("intl.accept_languages", languages));
    return new ChromeDriver(
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(DRIVER.toString()))
            .usingAnyFreePort()
            .build(),
        o);
  }

  /**
   * A fresh browser with a virtual WebAuthn authenticator (the DevTools one: CTAP2, built in,
   * resident keys, user verification on).
   */
  static WebDriver withAuthenticator(String languages) throws Exception {
    WebDriver d = start(languages);
    ((HasVirtualAuthenticator) d)
        .addVirtualAuthenticator(
            new VirtualAuthenticatorOptions()
                .setProtocol(VirtualAuthenticatorOptions.Protocol.CTAP2)
                .setTransport(VirtualAuthenticatorOptions.Transport.INTERNAL)
                .setHasResidentKey(true)
                .setHasUserVerification(true)
                .setIsUserVerified(true));
    return d;
  }
}
