package io.yinxin.hsm.testing;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.SignatureAlgorithm;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;

/** Verifies signatures with plain JCA providers, independent of any key backend. */
public final class JcaVerify {
  private JcaVerify() {}

  public static boolean verify(
      SignatureAlgorithm alg, PublicKey key, byte[] data, byte[] signature) {
    try {
      Signature v =
          alg == SignatureAlgorithm.SM3_WITH_SM2
              ? Signature.getInstance(alg.jcaName(), BouncyCastle.PROVIDER)
              : Signature.getInstance(alg.genericJcaName());
      if (alg.parameters().isPresent()) {
        v.setParameter(alg.parameters().get());
      }
      v.initVerify(key);
      v.update(data);
      return v.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
