package io.yinxin.hsm;

import java.security.Provider;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * One Bouncy Castle provider instance for the process, used by reference rather than registered
 * globally, so nothing depends on provider order.
 */
public final class BouncyCastle {
  /** Shared, stateless provider instance. */
  public static final Provider PROVIDER = new BouncyCastleProvider();

  private BouncyCastle() {}
}
