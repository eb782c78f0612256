package io.yinxin.sign.registry;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.sign.pades.SealIdentity;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * A registered seal.
 *
 * @param id stable identifier ({@code seal-} and 20 hex characters)
 * @param name the organisation's name drawn on the seal
 * @param subLine the line under the star, or empty
 * @param chain the seal certificate first, then its issuers
 * @param image an uploaded PNG appearance, or empty for the drawn one
 * @param active false once disabled: a disabled seal seals nothing
 * @param identity what the sealer needs (the same seal), computed when {@code null}
 */
public record Seal(
    String id,
    String name,
    String subLine,
    KeyRef key,
    SignatureAlgorithm algorithm,
    List<X509CertificateHolder> chain,
    Optional<byte[]> image,
    boolean active,
    Instant createdAt,
    SealIdentity identity)
    implements RegisteredSeal {
  public Seal {
    chain = List.copyOf(chain);
    if (identity == null) {
      identity = new SealIdentity(id, key, algorithm, chain, name, subLine, image);
    }
  }

  /** A seal whose {@link #identity()} (what the sealer needs) is computed from the other fields. */
  public Seal(
      String id,
      String name,
      String subLine,
      KeyRef key,
      SignatureAlgorithm algorithm,
      List<X509CertificateHolder> chain,
      Optional<byte[]> image,
      boolean active,
      Instant createdAt) {
    this(id, name, subLine, key, algorithm, chain, image, active, createdAt, null);
  }
}
