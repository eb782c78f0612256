package io.yinxin.sign.tsa;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMParser;

/**
 * A TSA key named by URI and its chain from a PEM file, checked once at start-up: the first
 * certificate must hold the key's public key. The signature algorithm is the key type's default
 * (ECDSA with SHA-256 for P-256, SM3withSM2 for SM2, ...).
 */
public final class PemTsaCredentials implements TsaCredentials {
  private final TsaCredential credential;
  private final Optional<TsaCredential> sm2;

  public PemTsaCredentials(KeyService keys, String keyUri, Path chainFile) {
    this(keys, keyUri, chainFile, Optional.empty());
  }

  /**
   * @param sm2 an SM2 key URI and its PEM chain that stamp SM3 imprints, beside the first
   */
  public PemTsaCredentials(
      KeyService keys, String keyUri, Path chainFile, Optional<Map.Entry<String, Path>> sm2) {
    this.credential = read(keys, keyUri, chainFile);
    this.sm2 = sm2.map(e -> read(keys, e.getKey(), e.getValue()));
    if (this.sm2.isPresent() && this.sm2.get().algorithm() != SignatureAlgorithm.SM3_WITH_SM2) {
      throw new IllegalStateException("the SM2 TSA key " + sm2.get().getKey() + " is not SM2");
    }
  }

  private static TsaCredential read(KeyService keys, String keyUri, Path chainFile) {
    KeyRef ref = KeyRef.parse(keyUri);
    List<X509CertificateHolder> chain = readChain(chainFile);
    if (chain.isEmpty()) {
      throw new IllegalStateException("no certificate in " + chainFile);
    }
    var info = keys.describe(ref);
    if (!Arrays.equals(info.publicKey().getEncoded(), spki(chain.get(0)))) {
      throw new IllegalStateException(
          "the first certificate in " + chainFile + " is not for key " + ref);
    }
    SignatureAlgorithm alg = info.spec().defaultAlgorithm();
    return new TsaCredential(ref, alg, chain);
  }

  @Override
  public Optional<TsaCredential> current() {
    return Optional.of(credential);
  }

  @Override
  public Optional<TsaCredential> sm2() {
    return sm2;
  }

  private static byte[] spki(X509CertificateHolder cert) {
    try {
      return cert.getSubjectPublicKeyInfo().getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
    } catch (IOException e) {
      throw new IllegalStateException("unreadable certificate", e);
    }
  }

  /** The certificates of a PEM file, in order. */
  public static List<X509CertificateHolder> readChain(Path file) {
    List<X509CertificateHolder> out = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser p = new PEMParser(r)) {
      for (Object o; (o = p.readObject()) != null; ) {
        if (o instanceof X509CertificateHolder h) {
          out.add(h);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    return out;
  }
}
