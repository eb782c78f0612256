package io.yinxin.sso.certificate;

import io.yinxin.hsm.Randomness;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The HTTPS port where citizens sign in with their certificates: a second Tomcat connector that
 * asks every client for a certificate and accepts any (Tomcat's {@code optionalNoCA}), so that the
 * sign-in page, not the TLS handshake, judges it and can say why it is refused. Its server key is
 * an operator's TLS key in a PKCS#12 file (like any web server's), or on the embedded default a
 * self-signed P-256 one generated into the data directory.
 */
public final class CertificateLoginPort {
  private CertificateLoginPort() {}

  /** The connector on {@code address:port} with the server key in {@code keyStore}. */
  public static Connector connector(
      int port, String address, KeyStore keyStore, String keyStorePassword) {
    Connector c = new Connector(Http11NioProtocol.class.getName());
    c.setPort(port);
    c.setScheme("https");
    c.setSecure(true);
    if (address != null && !address.isBlank()) {
      c.setProperty("address", address);
    }
    Http11NioProtocol protocol = (Http11NioProtocol) c.getProtocolHandler();
    protocol.setSSLEnabled(true);
    SSLHostConfig host = new SSLHostConfig();
    host.setCertificateVerification("optionalNoCA");
    host.setTrustManagerClassName(AnyClientCertificate.class.getName());
    host.setProtocols("TLSv1.2+TLSv1.3");
    SSLHostConfigCertificate cert =
        new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
    cert.setCertificateKeystore(keyStore);
    cert.setCertificateKeystorePassword(keyStorePassword);
    cert.setCertificateKeyAlias(keyAlias(keyStore));
    host.addCertificate(cert);
    c.addSslHostConfig(host);
    return c;
  }

  /** The key store's (first) private key entry: Tomcat would otherwise look for "tomcat". */
  private static String keyAlias(KeyStore keyStore) {
    try {
      for (String alias : java.util.Collections.list(keyStore.aliases())) {
        if (keyStore.isKeyEntry(alias)) {
          return alias;
        }
      }
    } catch (java.security.KeyStoreException e) {
      throw new IllegalStateException("unreadable TLS key store", e);
    }
    throw new IllegalStateException("the TLS key store holds no private key");
  }

  /** A PKCS#12 key store from a file. */
  public static KeyStore load(Path file, String password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password.toCharArray());
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the TLS key store " + file, e);
    }
  }

  /**
   * The embedded default's self-signed TLS key for 127.0.0.1 and localhost, in {@code dir} (made
   * once, owner-only); its password beside it.
   */
  public static KeyStore development(Path dir, String[] password) {
    Path store = dir.resolve("sso-tls.p12");
    Path pw = dir.resolve("sso-tls.password");
    try {
      if (!Files.exists(store)) {
        Files.createDirectories(dir);
        byte[] raw = new byte[24];
        Randomness.current().nextBytes(raw);
        String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = g.generateKeyPair();
        Instant now = Instant.now();
        X500Name name = new X500Name("CN=Yinxin SSO development TLS");
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
        Files.writeString(
            Files.createFile(
                pw,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
            secret,
            StandardCharsets.US_ASCII);
        try (OutputStream out =
            Files.newOutputStream(
                Files.createFile(
                    store,
                    PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------"))))) {
          ks.store(out, secret.toCharArray());
        }
      }
      password[0] = Files.readString(pw, StandardCharsets.US_ASCII).strip();
      return load(store, password[0]);
    } catch (IOException
        | GeneralSecurityException
        | org.bouncycastle.operator.OperatorException e) {
      throw new IllegalStateException("cannot prepare the development TLS key in " + dir, e);
    }
  }
}
