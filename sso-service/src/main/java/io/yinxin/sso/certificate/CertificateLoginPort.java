package io.yinxin.sso.certificate;

import io.yinxin.hsm.TlsServerKeys;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;

/**
 * The HTTPS port where citizens sign in with their certificates: a second Tomcat connector that
 * asks every client for a certificate and accepts any at the TLS layer ({@code optionalNoCA} with
 * {@link AnyClientCertificate}), so that the sign-in page, not the handshake, judges it and can say
 * why it is refused. Its server key is a PKCS#12 file ({@link TlsServerKeys}) Tomcat reads itself.
 */
public final class CertificateLoginPort {
  private CertificateLoginPort() {}

  /**
   * What the main connector is given by {@code server.tomcat.connection-timeout}, {@code
   * server.tomcat.keep-alive-timeout} and {@code server.max-http-request-header-size}; Spring Boot
   * applies those to its own connector only, and Tomcat's defaults for another are laxer (60 s to
   * send a request, 8 KB of headers). Empty: Tomcat's default.
   */
  public record Limits(
      java.util.Optional<java.time.Duration> connectionTimeout,
      java.util.Optional<java.time.Duration> keepAliveTimeout,
      java.util.OptionalLong maxHeaderBytes) {}

  /** The connector on {@code address:port} with the server key in {@code key}. */
  public static Connector connector(
      int port, String address, TlsServerKeys.Pkcs12 key, Limits limits) {
    Connector c = new Connector(Http11NioProtocol.class.getName());
    c.setPort(port);
    c.setScheme("https");
    c.setSecure(true);
    if (address != null && !address.isBlank()) {
      c.setProperty("address", address);
    }
    Http11NioProtocol protocol = (Http11NioProtocol) c.getProtocolHandler();
    protocol.setSSLEnabled(true);
    limits.connectionTimeout().ifPresent(t -> protocol.setConnectionTimeout(millis(t)));
    limits
        .keepAliveTimeout()
        .or(limits::connectionTimeout)
        .ifPresent(t -> protocol.setKeepAliveTimeout(millis(t)));
    limits.maxHeaderBytes().ifPresent(b -> protocol.setMaxHttpRequestHeaderSize(bytes(b)));
    SSLHostConfig host = new SSLHostConfig();
    host.setCertificateVerification("optionalNoCA");
    host.setTrustManagerClassName(AnyClientCertificate.class.getName());
    host.setProtocols("TLSv1.2+TLSv1.3");
    SSLHostConfigCertificate cert =
        new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
    cert.setCertificateKeystoreFile(key.file().toAbsolutePath().toString());
    cert.setCertificateKeystoreType("PKCS12");
    cert.setCertificateKeystorePassword(key.password());
    cert.setCertificateKeyAlias(key.alias());
    host.addCertificate(cert);
    c.addSslHostConfig(host);
    return c;
  }

  private static int millis(java.time.Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
  }

  private static int bytes(long n) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, n));
  }
}
