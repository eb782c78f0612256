package io.yinxin.hsm;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The TLS server key of a web port a module opens itself (the SSO's certificate sign-in port), as a
 * web server holds one: a PKCS#12 file the web server reads. An operator supplies it in production;
 * on the embedded default this class makes a self-signed P-256 one for 127.0.0.1 and localhost —
 * here, because only this module creates private keys. Callers get the file, its password and the
 * key's alias, never the key.
 */
public final class TlsServerKeys {
  private TlsServerKeys() {}

  /** A PKCS#12 file with a server key: where, its password, the key's alias. */
  public record Pkcs12(Path file, String password, String alias) {
    @Override
    public String toString() {
      return "Pkcs12[" + file + ", alias=" + alias + "]";
    }
  }

  /** An operator's PKCS#12 file, checked to hold a private key. */
  public static Pkcs12 existing(Path file, String password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password.toCharArray());
      for (String alias : Collections.list(ks.aliases())) {
        if (ks.isKeyEntry(alias)) {
          return new Pkcs12(file, password, alias);
        }
      }
      throw new KeyException(KeyException.Code.INVALID_REQUEST, file + " holds no private key");
    } catch (IOException | GeneralSecurityException e) {
      throw new KeyException(
          KeyException.Code.BACKEND_UNAVAILABLE, "cannot read the TLS key store " + file, e);
    }
  }

  /** The embedded default's self-signed key in {@code dir} (made once, owner-only). */
  public static Pkcs12 development(Path dir) {
    Path store = dir.resolve("sso-tls.p12");
    Path pw = dir.resolve("sso-tls.password");
    try {
      if (!Files.exists(store)) {
        Files.createDirectories(dir);
        byte[] raw = new byte[24];
        Randomness.current().nextBytes(raw);
        // The first node to make the password wins, and every node makes the store under it.
        OwnerOnlyFiles.createIfAbsent(
            pw,
            Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(raw)
                .getBytes(StandardCharsets.US_ASCII));
        String secret = Files.readString(pw, StandardCharsets.US_ASCII).strip();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=Yinxin development TLS");
        var builder =
            new JcaX509v3CertificateBuilder(
                name,
                new BigInteger(64, Randomness.current()),
                Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(825))),
                name,
                pair.getPublic());
        builder.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(
                new GeneralName[] {
                  new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                  new GeneralName(GeneralName.dNSName, "localhost")
                }));
        X509Certificate cert =
            new JcaX509CertificateConverter()
                .getCertificate(
                    builder.build(
                        new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry(
            "tls", pair.getPrivate(), secret.toCharArray(), new X509Certificate[] {cert});
        var bytes = new java.io.ByteArrayOutputStream();
        ks.store(bytes, secret.toCharArray());
        OwnerOnlyFiles.createIfAbsent(store, bytes.toByteArray());
      }
      return existing(store, Files.readString(pw, StandardCharsets.US_ASCII).strip());
    } catch (IOException
        | GeneralSecurityException
        | org.bouncycastle.operator.OperatorException e) {
      throw new KeyException(
          KeyException.Code.BACKEND_UNAVAILABLE,
          "cannot prepare the development TLS key in " + dir,
          e);
    }
  }
}
