package io.yinxin.ops;

import io.yinxin.ca.hierarchy.Hierarchy;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.sign.tsa.TsaCredential;
import io.yinxin.sign.tsa.TsaCredentials;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * On a node that runs both the CA and the signing service, validation trusts the CA's roots and the
 * TSA signs with the CA hierarchy's {@code tsa} service certificate and its key, looked up on every
 * token so that the CA's renewal of that certificate takes effect at once. The modules never import
 * each other; this executable joins them.
 */
@Configuration(proxyBeanMethods = false)
class CaTsaCredentials {

  @Bean
  TsaCredentials hierarchyTsaCredentials(ObjectProvider<Hierarchy> ca) {
    return new TsaCredentials() {
      @Override
      public Optional<TsaCredential> current() {
        return service("tsa");
      }

      /** The SM2 hierarchy's TSA: SM3 imprints, the time-stamps of SM2 seals. */
      @Override
      public Optional<TsaCredential> sm2() {
        return service("tsa-sm2");
      }

      /** The last credential per service, rebuilt only when the CA has renewed the certificate. */
      private final java.util.Map<String, TsaCredential> last =
          new java.util.concurrent.ConcurrentHashMap<>();

      /** The hierarchy once it exists (a bean lookup per token cost 4% of a time stamp). */
      private volatile Hierarchy hierarchy;

      private Optional<TsaCredential> service(String name) {
        Hierarchy known = hierarchy;
        if (known == null) {
          known = ca.getIfAvailable();
          if (known == null) {
            return Optional.empty();
          }
          hierarchy = known;
        }
        Hierarchy h = known;
        return h.service(name)
            .map(
                s -> {
                  TsaCredential c = last.get(name);
                  if (c != null && c.certificate() == s.certificate() && c.key().equals(s.key())) {
                    return c;
                  }
                  c = new TsaCredential(s.key(), s.algorithm(), chain(h, s.certificate()));
                  last.put(name, c);
                  return c;
                });
      }
    };
  }

  /** Validation trusts the CA hierarchy's roots (the ECDSA and the SM2 one). */
  @Bean
  io.yinxin.sign.validate.TrustAnchors hierarchyTrustAnchors(ObjectProvider<Hierarchy> ca) {
    return () -> {
      Hierarchy h = ca.getIfAvailable();
      return h == null
          ? List.of()
          : h.issuers().stream()
              .map(Issuer::certificate)
              .filter(c -> c.getSubject().equals(c.getIssuer()))
              .toList();
    };
  }

  /** The certificate and then its issuers up to the root, by issuer name. */
  static List<X509CertificateHolder> chain(Hierarchy h, X509CertificateHolder cert) {
    List<X509CertificateHolder> out = new ArrayList<>();
    out.add(cert);
    X509CertificateHolder cur = cert;
    while (!cur.getIssuer().equals(cur.getSubject())) {
      X509CertificateHolder c = cur;
      Optional<Issuer> up =
          h.issuers().stream().filter(i -> i.subject().equals(c.getIssuer())).findFirst();
      if (up.isEmpty()) {
        break;
      }
      cur = up.get().certificate();
      out.add(cur);
    }
    return out;
  }
}
