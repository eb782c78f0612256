package io.yinxin.bench;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.PlaceholderCertificate;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The soft backend's key files, written and read, against the files Bouncy Castle's {@code PKCS12}
 * key store writes (what the backend wrote until 2026-12-07), in the same run: {@code
 * ops/bench/run-keyfiles}. Each round makes {@code BENCH_KEYS} (16, an embedded node's first start
 * makes about that many) P-256 keys both ways, each key with its placeholder certificate, its own
 * file, synced and renamed into place; then opens each directory with {@link
 * SoftKeyBackend#open(Path)}, which reads both formats on all processors. The two sides take turns
 * within each round, after one untimed round each. Prints milliseconds per key and the ratio
 * (baseline time over Yinxin's).
 */
public final class KeyFileBench {
  private KeyFileBench() {}

  public static void main(String[] args) throws Exception {
    int keys = Integer.parseInt(System.getenv().getOrDefault("BENCH_KEYS", "16"));
    int rounds = Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "5"));
    Path work = Files.createTempDirectory("yinxin-bench-keyfiles-");
    double[] ours = new double[2];
    double[] theirs = new double[2];
    for (int round = 0; round <= rounds; round++) {
      double[] o = round(work.resolve("ours-" + round), keys, false);
      double[] t = round(work.resolve("bc-" + round), keys, true);
      if (round > 0) { // round 0 warms both up
        for (int i = 0; i < 2; i++) {
          ours[i] += o[i] / rounds;
          theirs[i] += t[i] / rounds;
        }
      }
    }
    List<String> rows = new ArrayList<>();
    rows.add(
        "| key files (P-256, " + keys + " per round) | Yinxin ms/key | baseline ms/key | ratio |");
    rows.add("|---|---|---|---|");
    rows.add(row("write: generate, certificate, file synced", ours[0], theirs[0]));
    rows.add(row("read: open the directory (all processors)", ours[1], theirs[1]));
    rows.forEach(System.out::println);
  }

  private static String row(String what, double ours, double theirs) {
    return String.format(
        Locale.ROOT, "| %s | %.1f | %.1f | %.1f× |", what, ours, theirs, theirs / ours);
  }

  /** Milliseconds per key to write {@code keys} keys into {@code dir}, then to open it. */
  private static double[] round(Path dir, int keys, boolean bouncyCastleKeyStore) throws Exception {
    long start = System.nanoTime();
    try (SoftKeyBackend backend = SoftKeyBackend.open(dir)) {
      for (int i = 0; i < keys; i++) {
        if (bouncyCastleKeyStore) {
          char[] password =
              Files.readString(dir.resolve("keystore.password")).strip().toCharArray();
          writeBouncyCastleFile(dir, "key-" + i, password);
        } else {
          backend.generate(KeySpec.EC_P256, "key-" + i);
        }
      }
    }
    long written = System.nanoTime();
    try (SoftKeyBackend backend = SoftKeyBackend.open(dir)) {
      if (backend.list().size() != keys) {
        throw new IllegalStateException("expected " + keys + " keys in " + dir);
      }
    }
    long read = System.nanoTime();
    return new double[] {(written - start) / 1e6 / keys, (read - written) / 1e6 / keys};
  }

  /** As the backend wrote a key until 2026-12-07: Bouncy Castle's key store, synced, renamed. */
  private static void writeBouncyCastleFile(Path dir, String label, char[] password)
      throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BouncyCastle.PROVIDER);
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = g.generateKeyPair();
    var cert =
        PlaceholderCertificate.create(
            pair.getPublic(),
            label,
            new JcaContentSignerBuilder("SHA256withECDSA")
                .setProvider(BouncyCastle.PROVIDER)
                .build(pair.getPrivate()));
    KeyStore ks = KeyStore.getInstance("PKCS12", BouncyCastle.PROVIDER);
    ks.load(null, password);
    ks.setKeyEntry(label, pair.getPrivate(), password, new Certificate[] {cert});
    Path tmp = dir.resolve(label + ".p12.tmp");
    try (FileChannel ch =
            FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        OutputStream out = Channels.newOutputStream(ch)) {
      ks.store(out, password);
      out.flush();
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(label + ".p12"), StandardCopyOption.ATOMIC_MOVE);
  }
}
