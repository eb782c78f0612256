package io.yinxin.hsm.testing;

import io.yinxin.hsm.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real PKCS#11 token for tests: SoftHSM2 with its token directory in a fresh temporary folder.
 * SoftHSM2 reads {@code SOFTHSM2_CONF} when the module loads, so the build sets that variable for
 * the test JVM and this class writes the file before anything loads the module.
 */
public final class SoftHsm {
  private static final List<String> MODULES =
      List.of(
          "/usr/lib/softhsm/libsofthsm2.so",
          "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
          "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
          "/usr/local/lib/softhsm/libsofthsm2.so");

  private static final Object LOCK = new Object();
  private static final Map<String, char[]> PINS = new ConcurrentHashMap<>();
  private static Path conf;

  private SoftHsm() {}

  /** The SoftHSM2 module on this machine. */
  public static Path module() {
    for (String m : MODULES) {
      if (Files.isReadable(Path.of(m))) {
        return Path.of(m);
      }
    }
    throw new IllegalStateException(
        "SoftHSM2 is not installed (apt-get install softhsm2); ops/bin/test installs it");
  }

  private static Path conf() throws IOException {
    synchronized (LOCK) {
      if (conf == null) {
        String env = System.getenv("SOFTHSM2_CONF");
        if (env == null) {
          throw new IllegalStateException(
              "SOFTHSM2_CONF is not set; run tests through Maven, which sets it");
        }
        Path tokens = Files.createTempDirectory("yinxin-softhsm-");
        Path c = Path.of(env);
        Files.createDirectories(c.toAbsolutePath().getParent());
        Files.writeString(
            c,
            "directories.tokendir = "
                + tokens
                + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            StandardCharsets.UTF_8);
        conf = c;
      }
      return conf;
    }
  }

  /**
   * Tokens created together on first use: SoftHSM2 reads its slot list when a process loads it, so
   * a token initialised later would stay invisible to this JVM.
   */
  public static final List<String> TOKENS =
      List.of("yinxin-test", "yinxin-contract", "yinxin-wrong-pin", "yinxin-reset", "yinxin-bench");

  /** The user PIN of test token {@code label}, one of {@link #TOKENS}; a fresh random value. */
  public static Secret token(String label) {
    if (!TOKENS.contains(label)) {
      throw new IllegalArgumentException("test tokens are " + TOKENS);
    }
    synchronized (LOCK) {
      if (PINS.isEmpty()) {
        for (String l : TOKENS) {
          PINS.put(l, initToken(l));
        }
      }
    }
    return Secret.of(PINS.get(label), "test:" + label);
  }

  private static char[] initToken(String label) {
    try {
      byte[] r = new byte[8];
      new SecureRandom().nextBytes(r);
      String p = HexFormat.of().formatHex(r);
      run(
          "softhsm2-util",
          "--init-token",
          "--free",
          "--label",
          label,
          "--pin",
          p,
          "--so-pin",
          p + "so");
      return p.toCharArray();
    } catch (IOException e) {
      throw new IllegalStateException("cannot initialise SoftHSM2 token " + label, e);
    }
  }

  /**
   * Puts a known AES key on a test token with OpenSC's {@code pkcs11-tool}, an outside writer, so a
   * test can check what the backend does with a key it knows the value of.
   */
  public static void writeAesKey(String token, String label, byte[] key) {
    try {
      Path file = Files.createTempFile("yinxin-aes-", ".bin");
      try {
        Files.write(file, key);
        run(
            "pkcs11-tool",
            "--module",
            module().toString(),
            "--token-label",
            token,
            "--login",
            "--pin",
            new String(token(token).value()),
            "--write-object",
            file.toString(),
            "--type",
            "secrkey",
            "--key-type",
            "AES:" + key.length,
            "--label",
            label,
            "--usage-decrypt");
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a key to token " + token, e);
    }
  }

  private static void run(String... command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", conf().toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException(command[0] + " failed: " + out.replaceAll("[0-9a-f]{16}", "****"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
