package io.yinxin.ca.issue;

import io.yinxin.ca.CaException;
import io.yinxin.ca.profile.KeyType;
import io.yinxin.ca.profile.Profile;
import java.math.BigInteger;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;

/** Which public keys the CA certifies. Pure functions over the SubjectPublicKeyInfo. */
public final class KeyPolicy {
  private static final String FIELD = "csr.publicKey";

  /** Products of small primes, to refuse RSA moduli with a trivial factor cheaply. */
  private static final BigInteger SMALL_PRIMES;

  static {
    BigInteger p = BigInteger.ONE;
    for (int i = 3; i < 1000; i += 2) {
      if (BigInteger.valueOf(i).isProbablePrime(30)) {
        p = p.multiply(BigInteger.valueOf(i));
      }
    }
    SMALL_PRIMES = p;
  }

  // The custom curves (fixed-size field arithmetic), not the generic BigInteger ones of
  // NISTNamedCurves: the request's signature is verified on these points.
  private static final ECDomainParameters P256 =
      new ECNamedDomainParameters(
          SECObjectIdentifiers.secp256r1,
          CustomNamedCurves.getByOID(SECObjectIdentifiers.secp256r1));
  private static final ECDomainParameters P384 =
      new ECNamedDomainParameters(
          SECObjectIdentifiers.secp384r1,
          CustomNamedCurves.getByOID(SECObjectIdentifiers.secp384r1));
  private static final ECDomainParameters SM2 =
      new ECNamedDomainParameters(
          GMObjectIdentifiers.sm2p256v1, CustomNamedCurves.getByOID(GMObjectIdentifiers.sm2p256v1));

  private KeyPolicy() {}

  /**
   * A public key as the CA sees it.
   *
   * @param type key type
   * @param bits modulus or field size
   * @param sha256 SHA-256 of the DER SubjectPublicKeyInfo, to find the same key again
   */
  public record KeyDescription(KeyType type, int bits, byte[] sha256) {}

  /**
   * A key that passed {@link #parse}: its description, its decoded form (so that the request's
   * signature is checked with the point already validated instead of decoding it again) and its one
   * canonical encoding.
   *
   * @param description what the CA records about the key; its hash is over {@code canonical}
   * @param parameters the decoded key ({@link ECPublicKeyParameters} or {@link RSAKeyParameters})
   * @param canonical the key as certificates carry it and as revoked keys are remembered: an
   *     uncompressed EC point with the named curve, or an RSA key with NULL parameters, in DER. The
   *     same key sent in another encoding (a compressed point, absent parameters, BER) is the same
   *     key: hashing what was sent would let a revoked key be certified again.
   */
  public record ParsedKey(
      KeyDescription description,
      AsymmetricKeyParameter parameters,
      SubjectPublicKeyInfo canonical) {}

  /**
   * Identifies the key type and checks the key is well formed (EC point on the curve, RSA modulus
   * odd with no small factor and a sane exponent).
   *
   * @throws CaException {@code BAD_KEY} for a key type Yinxin never certifies or a broken key
   */
  public static KeyDescription describe(SubjectPublicKeyInfo spki) {
    return parse(spki).description();
  }

  /**
   * As {@link #describe}, also returning the decoded key.
   *
   * @throws CaException {@code BAD_KEY} for a key type Yinxin never certifies or a broken key
   */
  public static ParsedKey parse(SubjectPublicKeyInfo spki) {
    ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
    try {
      if (alg.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
        if (!(spki.getAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve)) {
          throw bad("EC keys must name their curve (explicit parameters are refused)");
        }
        KeyType type;
        ECDomainParameters params;
        if (curve.equals(SECObjectIdentifiers.secp256r1)) {
          type = KeyType.EC_P256;
          params = P256;
        } else if (curve.equals(SECObjectIdentifiers.secp384r1)) {
          type = KeyType.EC_P384;
          params = P384;
        } else if (curve.equals(GMObjectIdentifiers.sm2p256v1)) {
          type = KeyType.SM2;
          params = SM2;
        } else {
          throw bad("only the curves P-256, P-384 and SM2 are accepted");
        }
        // decodePoint checks the encoding and that the point lies on the curve.
        var point = params.getCurve().decodePoint(spki.getPublicKeyData().getOctets());
        if (point.isInfinity() || !point.isValid()) {
          throw bad("the EC point is not valid");
        }
        SubjectPublicKeyInfo canonical =
            new SubjectPublicKeyInfo(
                new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve),
                point.getEncoded(false));
        return new ParsedKey(
            new KeyDescription(type, params.getCurve().getFieldSize(), sha256(canonical)),
            new ECPublicKeyParameters(point, params),
            canonical);
      }
      if (alg.equals(PKCSObjectIdentifiers.rsaEncryption)) {
        var rsaParams = spki.getAlgorithm().getParameters();
        if (rsaParams != null && !DERNull.INSTANCE.equals(rsaParams)) {
          throw bad("rsaEncryption keys carry NULL parameters (RFC 3279 §2.3.1)");
        }
        RSAPublicKey rsa = RSAPublicKey.getInstance(spki.parsePublicKey());
        BigInteger n = rsa.getModulus();
        BigInteger e = rsa.getPublicExponent();
        if (n.signum() <= 0 || !n.testBit(0)) {
          throw bad("the RSA modulus is not valid");
        }
        if (e.compareTo(BigInteger.valueOf(3)) < 0 || !e.testBit(0) || e.bitLength() > 256) {
          throw bad("the RSA public exponent is not valid");
        }
        if (!n.gcd(SMALL_PRIMES).equals(BigInteger.ONE)) {
          throw bad("the RSA modulus has a small factor");
        }
        SubjectPublicKeyInfo canonical =
            new SubjectPublicKeyInfo(
                new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                new RSAPublicKey(n, e));
        return new ParsedKey(
            new KeyDescription(KeyType.RSA, n.bitLength(), sha256(canonical)),
            new RSAKeyParameters(false, n, e),
            canonical);
      }
    } catch (CaException ce) {
      throw ce;
    } catch (Exception ex) {
      throw bad("the public key does not parse");
    }
    throw bad("key algorithm " + alg.getId() + " is not accepted (EC P-256, P-384, SM2 or RSA)");
  }

  /**
   * Checks a key against a profile.
   *
   * @throws CaException {@code BAD_KEY} naming why
   */
  public static KeyDescription check(Profile profile, SubjectPublicKeyInfo spki) {
    return check(profile, describe(spki));
  }

  /**
   * Checks an already described key against a profile.
   *
   * @throws CaException {@code BAD_KEY} naming why
   */
  public static KeyDescription check(Profile profile, KeyDescription d) {
    if (!profile.keyTypes().contains(d.type())) {
      throw bad(
          "profile " + profile.name() + " accepts " + profile.keyTypes() + ", not " + d.type());
    }
    if (d.type() == KeyType.RSA && d.bits() < profile.rsaMinBits()) {
      throw bad(
          "RSA keys must have at least "
              + profile.rsaMinBits()
              + " bits; this one has "
              + d.bits());
    }
    return d;
  }

  private static byte[] sha256(SubjectPublicKeyInfo spki) throws java.io.IOException {
    return io.yinxin.ca.Sha256.digest(spki.getEncoded(ASN1Encoding.DER));
  }

  private static CaException bad(String why) {
    return new CaException(CaException.Code.BAD_KEY, FIELD, why);
  }
}
