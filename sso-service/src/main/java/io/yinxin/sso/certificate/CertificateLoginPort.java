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

  /** The connector on {@code address:port} with the server key in {@code key}. */
  public static Connector connector(int port, String address, TlsServerKeys.Pkcs12 key) {
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
    cert.setCertificateKeystoreFile(key.file().toAbsolutePath().toString());
    cert.setCertificateKeystoreType("PKCS12");
    cert.setCertificateKeystorePassword(key.password());
    cert.setCertificateKeyAlias(key.alias());
    host.addCertificate(cert);
    c.addSslHostConfig(host);
    return c;
  }
}
