package io.yinxin.sign.pades;

import io.yinxin.sign.SignException;
import java.io.IOException;
import java.math.BigInteger;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;

/**
 * Gets RFC 3161 tokens for signatures (B-T) and documents (B-LTA) from a TSA given as a function
 * from a DER request to a DER reply: this node's TSA called directly, or any TSA over HTTP. Every
 * reply is checked against its request (granted, same imprint, same nonce) before it is embedded.
 */
public final class TimeStamps {
  private final UnaryOperator<byte[]> tsa;

  public TimeStamps(UnaryOperator<byte[]> tsa) {
    this.tsa = tsa;
  }

  /** A token over {@code digest} (made with {@code digestAlg}), certificates included. */
  public TimeStampToken stamp(ASN1ObjectIdentifier digestAlg, byte[] digest) {
    TimeStampRequestGenerator g = new TimeStampRequestGenerator();
    g.setCertReq(true);
    BigInteger nonce = new BigInteger(63, io.yinxin.hsm.Randomness.current());
    TimeStampRequest request = g.generate(digestAlg, digest, nonce);
    try {
      TimeStampResponse response = new TimeStampResponse(tsa.apply(request.getEncoded()));
      response.validate(request);
      return response.getTimeStampToken();
    } catch (TSPException | IOException | RuntimeException e) {
      throw new SignException(
          SignException.Code.UNAVAILABLE, "the time-stamping authority did not grant a token", e);
    }
  }
}
