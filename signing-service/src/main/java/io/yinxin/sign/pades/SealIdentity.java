package io.yinxin.sign.pades;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Who seals: a key in the key backend, its certificate chain (signer first) and its appearance.
 *
 * @param name the organisation's name as drawn on the seal and written as the signature's /Name
 * @param subLine the line under the star (e.g. 合同专用章), or empty
 * @param image an uploaded PNG used instead of the drawn seal
 */
public record SealIdentity(
    String id,
    KeyRef key,
    SignatureAlgorithm algorithm,
    List<X509CertificateHolder> chain,
    String name,
    String subLine,
    Optional<byte[]> image) {
  public SealIdentity {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a seal needs its certificate");
    }
  }

  public X509CertificateHolder certificate() {
    return chain.get(0);
  }
}
