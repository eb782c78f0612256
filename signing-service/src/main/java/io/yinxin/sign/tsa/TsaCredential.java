package io.yinxin.sign.tsa;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * What the time-stamping authority signs with: a key in the key backend and its certificate chain,
 * the TSA certificate first (RFC 3161 §2.3: extended key usage timeStamping only, critical).
 */
public record TsaCredential(
    KeyRef key, SignatureAlgorithm algorithm, List<X509CertificateHolder> chain) {
  public TsaCredential {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a TSA credential needs its certificate");
    }
  }

  public X509CertificateHolder certificate() {
    return chain.get(0);
  }
}
