package io.yinxin.hsm.soft;

import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.Signer;
import org.bouncycastle.crypto.digests.NullDigest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.DSADigestSigner;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.math.ec.ECMultiplier;

/**
 * ECDSA with one P-256 or P-384 key, or SM2 with one SM2 key, of the soft backend: Bouncy Castle's
 * ECDSA and SM2 signers (random nonce, DER output, exactly what its JCA {@code SHA256withECDSA} and
 * {@code SM3withSM2} with the default user ID give) with the nonce point {@code k·G} taken from a
 * {@link FixedBaseMultiplier} table, which makes a P-256 signature about a third cheaper than
 * Bouncy Castle's comb method on this kind of machine.
 */
final class EcSigner {
  static final int WINDOW = 5;

  /** One table per curve, built when the curve is first used and never changed. */
  private static final class P256 {
    static final Curve CURVE = new Curve("P-256");
  }

  private static final class P384 {
    static final Curve CURVE = new Curve("P-384");
  }

  private static final class Sm2 {
    static final Curve CURVE = new Curve("sm2p256v1");
  }

  private record Curve(ECDomainParameters domain, FixedBaseMultiplier multiplier) {
    Curve(String name) {
      this(domainOf(name));
    }

    private Curve(ECDomainParameters domain) {
      this(domain, new FixedBaseMultiplier(domain.getG(), WINDOW));
    }

    private static ECDomainParameters domainOf(String name) {
      X9ECParameters x9 = CustomNamedCurves.getByName(name);
      return new ECDomainParameters(x9.getCurve(), x9.getG(), x9.getN(), x9.getH(), x9.getSeed());
    }
  }

  private final Curve curve;
  private final ECPrivateKeyParameters key;

  private EcSigner(Curve curve, ECPrivateKey key) {
    this.curve = curve;
    this.key = new ECPrivateKeyParameters(key.getS(), curve.domain());
  }

  /** A signer for {@code key} when it is a P-256, P-384 or SM2 key, otherwise {@code null}. */
  static EcSigner forKey(KeySpec spec, java.security.PrivateKey key) {
    if (!(key instanceof ECPrivateKey ec)) {
      return null;
    }
    switch (spec) {
      case EC_P256:
        return new EcSigner(P256.CURVE, ec);
      case EC_P384:
        return new EcSigner(P384.CURVE, ec);
      case SM2:
        return new EcSigner(Sm2.CURVE, ec);
      default:
        return null;
    }
  }

  /** Whether this signer makes {@code alg} signatures (the key's spec has already allowed it). */
  static boolean handles(SignatureAlgorithm alg) {
    return alg == SignatureAlgorithm.ECDSA_SHA256
        || alg == SignatureAlgorithm.ECDSA_SHA384
        || alg == SignatureAlgorithm.SM3_WITH_SM2;
  }

  /** A DER-encoded signature over {@code data}: ECDSA with {@code alg}'s digest, or SM2/SM3. */
  byte[] sign(SignatureAlgorithm alg, byte[] data, SecureRandom random) throws CryptoException {
    Signer signer = signerFor(alg, curve.multiplier());
    signer.init(true, new ParametersWithRandom(key, random));
    signer.update(data, 0, data.length);
    return signer.generateSignature();
  }

  /**
   * A DER-encoded signature over a digest the caller computed: ECDSA over {@code alg}'s hash of the
   * message, or SM2 over {@code e = SM3(Z ‖ M)} (GB/T 32918.2 §6.1 A1–A2: {@code Z} from the
   * signer's ID and public key), which is what an SM2 signer signs. For SM2 Bouncy Castle's signer
   * makes the signature (steps A3–A7, its nonce and arithmetic) with {@code e} as given instead of
   * the one it would hash itself.
   */
  byte[] signDigest(SignatureAlgorithm alg, byte[] digest, SecureRandom random)
      throws CryptoException {
    ECMultiplier multiplier = curve.multiplier();
    if (alg == SignatureAlgorithm.SM3_WITH_SM2) {
      BigInteger e = new BigInteger(1, digest);
      SM2Signer sm2 =
          new SM2Signer(StandardDSAEncoding.INSTANCE, new SM3Digest()) {
            @Override
            protected ECMultiplier createBasePointMultiplier() {
              return multiplier;
            }

            @Override
            protected BigInteger calculateE(BigInteger n, byte[] ownHashOfZOnly) {
              return e;
            }
          };
      sm2.init(true, new ParametersWithRandom(key, random));
      return sm2.generateSignature();
    }
    ECDSASigner ecdsa =
        new ECDSASigner() {
          @Override
          protected ECMultiplier createBasePointMultiplier() {
            return multiplier;
          }
        };
    Signer signer = new DSADigestSigner(ecdsa, new NullDigest(), StandardDSAEncoding.INSTANCE);
    signer.init(true, new ParametersWithRandom(key, random));
    signer.update(digest, 0, digest.length);
    return signer.generateSignature();
  }

  private static Signer signerFor(SignatureAlgorithm alg, ECMultiplier multiplier) {
    if (alg == SignatureAlgorithm.SM3_WITH_SM2) {
      return new SM2Signer(StandardDSAEncoding.INSTANCE, new SM3Digest()) {
        @Override
        protected ECMultiplier createBasePointMultiplier() {
          return multiplier;
        }
      };
    }
    Digest digest =
        alg == SignatureAlgorithm.ECDSA_SHA384 ? new SHA384Digest() : new SHA256Digest();
    ECDSASigner ecdsa =
        new ECDSASigner() {
          @Override
          protected ECMultiplier createBasePointMultiplier() {
            return multiplier;
          }
        };
    return new DSADigestSigner(ecdsa, digest, StandardDSAEncoding.INSTANCE);
  }
}
