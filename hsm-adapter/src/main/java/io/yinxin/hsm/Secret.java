package io.yinxin.hsm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A PIN, token or password. Read from an environment variable or a file, never from configuration
 * checked into a repository; {@link #toString()} never shows it.
 */
public final class Secret {
  private final char[] value;
  private final String source;

  private Secret(char[] value, String source) {
    this.value = value;
    this.source = source;
  }

  /** A secret given directly (tests and programmatic use). */
  public static Secret of(char[] value, String source) {
    return new Secret(value.clone(), source);
  }

  /** The value of environment variable {@code name}. */
  public static Secret fromEnv(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      throw new KeyException(
          KeyException.Code.AUTH_FAILED, "environment variable " + name + " is not set");
    }
    return new Secret(v.toCharArray(), "env:" + name);
  }

  /** The first line of {@code file}. */
  public static Secret fromFile(Path file) {
    try {
      String v = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (v.isEmpty()) {
        throw new KeyException(KeyException.Code.AUTH_FAILED, "secret file " + file + " is empty");
      }
      return new Secret(v.toCharArray(), "file:" + file);
    } catch (IOException e) {
      throw new KeyException(
          KeyException.Code.AUTH_FAILED, "cannot read secret file " + file + ": " + e.getClass());
    }
  }

  /** A copy of the value; the caller clears it when done. */
  public char[] value() {
    return value.clone();
  }

  /** Where the secret came from ({@code env:NAME} or {@code file:PATH}), safe to log. */
  public String source() {
    return source;
  }

  /** Overwrites the value in memory. */
  public void destroy() {
    Arrays.fill(value, '\0');
  }

  @Override
  public String toString() {
    return "Secret[" + source + ", value hidden]";
  }
}
