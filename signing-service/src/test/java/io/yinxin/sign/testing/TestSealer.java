package io.yinxin.sign.testing;

import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.pades.PadesSealer;
import io.yinxin.sign.pades.RevocationFetcher;
import io.yinxin.sign.pades.SealIdentity;
import io.yinxin.sign.seal.SealFont;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * A sealer without a TSA and one P-256 seal in a fresh soft key store, certified by a fresh test
 * root: what most sealing tests start from.
 */
public record TestSealer(
    KeyServices keys,
    TestPki pki,
    KeyInfo key,
    X509CertificateHolder certificate,
    SealIdentity seal,
    PadesSealer sealer) {

  /**
   * @param name the seal id and the CN of its root and certificate
   * @param organisation the name drawn on the seal
   */
  public static TestSealer create(
      Path dir, String name, String subject, String organisation, String subLine) throws Exception {
    return create(dir, name, subject, organisation, subLine, List.of());
  }

  /** As {@link #create}, with these listeners told of every key use (an audit listener). */
  public static TestSealer create(
      Path dir,
      String name,
      String subject,
      String organisation,
      String subLine,
      List<io.yinxin.hsm.KeyUseListener> listeners)
      throws Exception {
    KeyServices keys =
        new KeyServices(List.of(SoftKeyBackend.open(dir.resolve("keys"))), listeners);
    TestPki pki = new TestPki("C=CN,O=Test,CN=" + name + " Root");
    KeyInfo key = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "seal");
    X509CertificateHolder cert = pki.seal(key, subject);
    SealIdentity seal =
        new SealIdentity(
            name,
            key.ref(),
            SignatureAlgorithm.ECDSA_SHA256,
            List.of(cert, pki.root),
            organisation,
            subLine,
            Optional.empty());
    PadesSealer sealer = sealerWithoutTsa(keys);
    return new TestSealer(keys, pki, key, cert, seal, sealer);
  }

  /** An invisible B-B seal signed now: the options of tests that only need a seal. */
  public static io.yinxin.sign.pades.SealOptions invisibleBasic() {
    return new io.yinxin.sign.pades.SealOptions(
        io.yinxin.sign.pades.SealOptions.Level.B_B,
        new io.yinxin.sign.pades.SealOptions.Placement.Invisible(),
        java.util.Optional.empty(),
        java.util.Optional.empty(),
        0,
        java.time.Instant.now());
  }

  /** A sealer without a TSA, over {@code keys}. */
  public static PadesSealer sealerWithoutTsa(KeyServices keys) throws Exception {
    return new PadesSealer(
        keys,
        SealFont.installed(),
        Optional.empty(),
        new RevocationFetcher(Duration.ofSeconds(1), Clock.systemUTC()));
  }

  /**
   * Seals {@code in} into {@code out} invisibly at B-B with an SM2 key whose certificate is {@code
   * cert} (the whole chain), as the SM2 validation tests do.
   */
  public static void sealSm2(
      KeyServices keys, KeyInfo key, X509CertificateHolder cert, Path in, Path out)
      throws Exception {
    sealerWithoutTsa(keys)
        .seal(
            in,
            out,
            new SealIdentity(
                "sm2",
                key.ref(),
                SignatureAlgorithm.SM3_WITH_SM2,
                List.of(cert),
                "某某局",
                "",
                Optional.empty()),
            invisibleBasic());
  }
}
