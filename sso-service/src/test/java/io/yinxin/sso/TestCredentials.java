package io.yinxin.sso;

import com.sun.net.httpserver.HttpServer;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * What the tests hand to outside tools and play as a client: keys made while the test runs (none is
 * kept in the repository), written as PEM by Bouncy Castle for curl, and a client's JWK set served
 * over HTTP as its {@code jwks_uri}.
 */
final class TestCredentials {
  private TestCredentials() {}

  /** PEM of a certificate or other object Bouncy Castle writes. */
  static String pem(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }

  /**
   * The certificate and its unencrypted PKCS#8 key (as OpenSSL, curl's TLS library, reads it) in
   * two owner-only files under {@code dir}: the curl arguments {@code --cert} and {@code --key}.
   */
  static java.util.List<String> curlArguments(Path dir, X509Certificate cert, KeyPair key)
      throws Exception {
    Path c = Files.createTempFile(dir, "cert", ".pem");
    Path k = Files.createTempFile(dir, "key", ".pem");
    Files.writeString(c, pem(cert));
    Files.writeString(k, pem(new JcaPKCS8Generator(key.getPrivate(), null).generate()));
    return java.util.List.of("--cert", c.toString(), "--key", k.toString());
  }

  /** An HTTP server on 127.0.0.1 answering {@code /jwks} with {@code jwkSet} (started). */
  static HttpServer jwksServer(String jwkSet) throws Exception {
    byte[] body = jwkSet.getBytes(StandardCharsets.UTF_8);
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext(
        "/jwks",
        ex -> {
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    s.start();
    return s;
  }
}
