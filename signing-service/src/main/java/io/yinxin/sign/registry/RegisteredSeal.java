package io.yinxin.sign.registry;

import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.SignatureAlgorithm;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * What the registry says about a seal apart from its appearance: a whole {@link Seal} (read to seal
 * with) and a {@link SealSummary} (read to list, without the uploaded image) both answer it.
 */
public interface RegisteredSeal {
  /** {@code seal-} and 20 hex characters. */
  String id();

  /** The organisation's name drawn on the seal. */
  String name();

  /** The line under the star, or empty. */
  String subLine();

  KeyRef key();

  SignatureAlgorithm algorithm();

  /** The seal certificate first, then its issuers. */
  List<X509CertificateHolder> chain();

  /** False once disabled: a disabled seal seals nothing. */
  boolean active();

  Instant createdAt();
}
