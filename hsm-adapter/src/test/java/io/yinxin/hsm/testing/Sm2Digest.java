package io.yinxin.hsm.testing;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.SM3Digest;

/**
 * What an SM2 signer signs, written out from the standard for tests: {@code e = SM3(Z ‖ M)} with
 * {@code Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)} (GB/T 32918.2-2016 §5.5 and §6.1), the
 * curve constants as GB/T 32918.5 publishes them and the default ID {@code 1234567812345678}. Only
 * the SM3 compression function is Bouncy Castle's.
 */
public final class Sm2Digest {
  private static final byte[] ID =
      "1234567812345678".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final String A =
      "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
  private static final String B =
      "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
  private static final String XG =
      "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
  private static final String YG =
      "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

  private Sm2Digest() {}

  /** {@code e} for {@code message} signed by the SM2 key {@code publicKey} with the default ID. */
  public static byte[] e(PublicKey publicKey, byte[] message) {
    ECPublicKey key = (ECPublicKey) publicKey;
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    int bits = ID.length * 8;
    z.write(bits >> 8);
    z.write(bits);
    z.writeBytes(ID);
    for (String constant : new String[] {A, B, XG, YG}) {
      z.writeBytes(HexFormat.of().parseHex(constant));
    }
    z.writeBytes(fixed32(key.getW().getAffineX()));
    z.writeBytes(fixed32(key.getW().getAffineY()));
    byte[] zHash = sm3(z.toByteArray());
    ByteArrayOutputStream m = new ByteArrayOutputStream();
    m.writeBytes(zHash);
    m.writeBytes(message);
    return sm3(m.toByteArray());
  }

  private static byte[] fixed32(BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[32];
    int n = Math.min(b.length, 32);
    System.arraycopy(b, b.length - n, out, 32 - n, n);
    return out;
  }

  private static byte[] sm3(byte[] data) {
    SM3Digest d = new SM3Digest();
    d.update(data, 0, data.length);
    byte[] out = new byte[32];
    d.doFinal(out, 0);
    return out;
  }
}
