package io.yinxin.sso.certificate;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS layer of the certificate sign-in port takes whatever client certificate is presented, so
 * that the sign-in page can judge it ({@link CitizenCertificates}: chain, validity, OCSP, account)
 * and tell the person why it is refused, instead of a handshake failing with no explanation. It is
 * never used to trust a server. Tomcat makes it by its class name (the JSSE connector's {@code
 * optionalNoCA}).
 */
public final class AnyClientCertificate implements X509TrustManager {
  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("no certificate");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("this trust manager judges no server");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
