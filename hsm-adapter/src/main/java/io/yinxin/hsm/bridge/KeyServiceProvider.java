package io.yinxin.hsm.bridge;

import io.yinxin.hsm.SignatureAlgorithm;
import java.io.ByteArrayOutputStream;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.SignatureSpi;
import java.util.List;
import java.util.Map;

/**
 * A JCA provider whose Signature services sign with {@link KeyHandle}s. Use it by reference ({@code
 * Signature.getInstance("SHA256withECDSA", provider)}); it is not meant to be installed globally.
 * Verification is left to ordinary providers.
 */
public final class KeyServiceProvider extends Provider {
  private static final long serialVersionUID = 1L;

  public KeyServiceProvider() {
    super("YinxinKeyService", "1.0", "Signatures with keys held by the Yinxin KeyService");
    for (SignatureAlgorithm alg : SignatureAlgorithm.values()) {
      List<String> aliases =
          alg == SignatureAlgorithm.RSA_PSS_SHA256 ? List.of("SHA256withRSA/PSS") : List.of();
      putService(
          new Service(
              this,
              "Signature",
              alg.jcaName(),
              HandleSignature.class.getName(),
              aliases,
              Map.of("SupportedKeyClasses", KeyHandle.class.getName())) {
            @Override
            public Object newInstance(Object ctrParam) {
              return new HandleSignature(alg);
            }
          });
    }
  }

  /** Buffers the message and signs it through the KeyService in {@code engineSign}. */
  static final class HandleSignature extends SignatureSpi {
    private final SignatureAlgorithm alg;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private KeyHandle key;

    HandleSignature(SignatureAlgorithm alg) {
      this.alg = alg;
    }

    @Override
    protected void engineInitSign(PrivateKey privateKey) throws InvalidKeyException {
      if (!(privateKey instanceof KeyHandle h)) {
        throw new InvalidKeyException("YinxinKeyService signs only with KeyHandle keys");
      }
      if (!h.spec().allows(alg)) {
        throw new InvalidKeyException(alg + " cannot sign with a " + h.spec() + " key");
      }
      key = h;
      buffer.reset();
    }

    @Override
    protected void engineInitVerify(PublicKey publicKey) throws InvalidKeyException {
      throw new InvalidKeyException("verify with an ordinary provider");
    }

    @Override
    protected void engineUpdate(byte b) {
      buffer.write(b);
    }

    @Override
    protected void engineUpdate(byte[] b, int off, int len) {
      buffer.write(b, off, len);
    }

    @Override
    protected byte[] engineSign() throws SignatureException {
      if (key == null) {
        throw new SignatureException("not initialised for signing");
      }
      try {
        return key.keys().sign(key.ref(), alg, buffer.toByteArray(), key.purpose());
      } catch (RuntimeException e) {
        throw new SignatureException(e.getMessage(), e);
      } finally {
        buffer.reset();
      }
    }

    @Override
    protected boolean engineVerify(byte[] sigBytes) throws SignatureException {
      throw new SignatureException("verify with an ordinary provider");
    }

    @Override
    @Deprecated
    protected void engineSetParameter(String param, Object value) {
      throw new InvalidParameterException("no parameters");
    }

    @Override
    @Deprecated
    protected Object engineGetParameter(String param) {
      throw new InvalidParameterException("no parameters");
    }

    @Override
    protected void engineSetParameter(java.security.spec.AlgorithmParameterSpec params)
        throws java.security.InvalidAlgorithmParameterException {
      if (alg.parameters().isEmpty() || !alg.parameters().get().equals(params)) {
        if (!(params instanceof java.security.spec.PSSParameterSpec p)
            || alg != SignatureAlgorithm.RSA_PSS_SHA256
            || p.getSaltLength() != 32
            || !p.getDigestAlgorithm().equals("SHA-256")) {
          throw new java.security.InvalidAlgorithmParameterException(
              "only the parameters built into " + alg + " are accepted");
        }
      }
    }
  }
}
