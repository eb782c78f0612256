package io.yinxin.hsm.testing;

import io.yinxin.hsm.SignatureAlgorithm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The openssl command line as an outside judge of what Yinxin produces. */
public final class OpenSsl {
  private OpenSsl() {}

  /** Result of one openssl run. */
  public record Result(int exitCode, String output) {}

  public static Result run(Path workDir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      return new Result(p.waitFor(), out);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * A self-signed P-256 certificate and its key, written by openssl into {@code workDir}; {@code
   * extra} arguments go to {@code openssl req} after the others (validity, {@code -addext}).
   */
  public static Result selfSignedP256(
      Path workDir, String keyFile, String certFile, String subject, String... extra)
      throws IOException {
    return req(workDir, "-x509", keyFile, subject, certFile, extra);
  }

  /** A new P-256 key and a CSR for it, written by openssl into {@code workDir}. */
  public static Result p256Csr(Path workDir, String keyFile, String subject, String csrFile)
      throws IOException {
    return req(workDir, "-new", keyFile, subject, csrFile);
  }

  /** {@code openssl req} in this mode with a new P-256 key, this subject, this output. */
  private static Result req(
      Path workDir, String mode, String keyFile, String subject, String out, String... extra)
      throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                "req",
                mode,
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                keyFile,
                "-subj",
                subject,
                "-out",
                out));
    args.addAll(List.of(extra));
    return run(workDir, args.toArray(String[]::new));
  }

  public static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /**
   * Asks openssl whether {@code signature} over {@code data} verifies with {@code key}.
   *
   * @return openssl's result; exit code 0 and "Verified" / "Signature Verified Successfully" mean
   *     valid
   */
  public static Result verify(
      Path dir, SignatureAlgorithm alg, PublicKey key, byte[] data, byte[] signature)
      throws IOException {
    Files.writeString(dir.resolve("pub.pem"), pem("PUBLIC KEY", key.getEncoded()));
    Files.write(dir.resolve("data.bin"), data);
    Files.write(dir.resolve("sig.bin"), signature);
    switch (alg) {
      case ECDSA_SHA256:
      case RSA_PKCS1_SHA256:
        return run(
            dir, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin", "data.bin");
      case ECDSA_SHA384:
        return run(
            dir, "dgst", "-sha384", "-verify", "pub.pem", "-signature", "sig.bin", "data.bin");
      case RSA_PSS_SHA256:
        return run(
            dir,
            "dgst",
            "-sha256",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-verify",
            "pub.pem",
            "-signature",
            "sig.bin",
            "data.bin");
      case ED25519:
        return run(
            dir,
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-in",
            "data.bin",
            "-sigfile",
            "sig.bin");
      default:
        return run(
            dir,
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-in",
            "data.bin",
            "-sigfile",
            "sig.bin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678");
    }
  }
}
