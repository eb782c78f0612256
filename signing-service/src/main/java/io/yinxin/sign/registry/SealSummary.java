package io.yinxin.sign.registry;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * A seal as a listing shows it: everything but the uploaded image, which is up to {@link
 * SealRegistry#MAX_IMAGE_BYTES} per seal and is read only to seal with.
 *
 * @param uploadedImage whether the seal has an uploaded appearance (otherwise it is drawn)
 * @param grantees who may use the seal, in order
 */
public record SealSummary(
    String id,
    String name,
    String subLine,
    KeyRef key,
    SignatureAlgorithm algorithm,
    List<X509CertificateHolder> chain,
    boolean uploadedImage,
    boolean active,
    Instant createdAt,
    List<String> grantees)
    implements RegisteredSeal {
  public SealSummary {
    chain = List.copyOf(chain);
    grantees = List.copyOf(grantees);
  }
}
