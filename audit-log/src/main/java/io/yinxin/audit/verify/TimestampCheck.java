package io.yinxin.audit.verify;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Checks an RFC 3161 time-stamp reply over some data with nothing but the JDK: the status grants a
 * token; the token is CMS SignedData over a TSTInfo whose message imprint is the data's hash; the
 * signed attributes carry that content type and the TSTInfo's digest; the signature verifies with
 * the signer's certificate from the token, which is valid at the token's time, has the critical
 * timeStamping extended key usage, and is the trusted TSA certificate or issued by it.
 */
final class TimestampCheck {
  private static final String TST_INFO = "1.2.840.113549.1.9.16.1.4";
  private static final String SIGNED_DATA = "1.2.840.113549.1.7.2";
  private static final String CONTENT_TYPE = "1.2.840.113549.1.9.3";
  private static final String MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
  private static final String TIME_STAMPING = "1.3.6.1.5.5.7.3.8";
  private static final String EKU = "2.5.29.37";

  private static final Map<String, String> DIGESTS =
      Map.of(
          "2.16.840.1.101.3.4.2.1", "SHA-256",
          "2.16.840.1.101.3.4.2.2", "SHA-384",
          "2.16.840.1.101.3.4.2.3", "SHA-512");

  private static final Map<String, String> SIGNATURES =
      Map.of(
          "1.2.840.10045.4.3.2", "SHA256withECDSA",
          "1.2.840.10045.4.3.3", "SHA384withECDSA",
          "1.2.840.10045.4.3.4", "SHA512withECDSA",
          "1.2.840.113549.1.1.11", "SHA256withRSA",
          "1.2.840.113549.1.1.12", "SHA384withRSA",
          "1.2.840.113549.1.1.13", "SHA512withRSA",
          "1.3.101.112", "Ed25519");

  /** What a verified token says. */
  record Verified(Instant time, String tsa) {}

  private TimestampCheck() {}

  /**
   * @throws IllegalArgumentException saying what does not hold
   */
  static Verified verify(byte[] reply, byte[] data, X509Certificate trusted) {
    try {
      return check(reply, data, trusted);
    } catch (IndexOutOfBoundsException | NumberFormatException e) {
      throw new IllegalArgumentException("malformed time-stamp reply");
    }
  }

  private static Verified check(byte[] reply, byte[] data, X509Certificate trusted) {
    List<Der> resp = Der.parse(reply).expect(0x30).children();
    if (resp.size() < 2) {
      throw new IllegalArgumentException("the reply holds no time-stamp token");
    }
    BigInteger status = resp.get(0).expect(0x30).child(0, 0x02).integer();
    if (status.signum() != 0 && !status.equals(BigInteger.ONE)) {
      throw new IllegalArgumentException("the TSA did not grant a token (status " + status + ")");
    }
    Der token = resp.get(1).expect(0x30);
    if (!token.child(0, 0x06).oid().equals(SIGNED_DATA)) {
      throw new IllegalArgumentException("the token is not CMS SignedData");
    }
    List<Der> signedData = token.child(1, 0xa0).child(0, 0x30).children();
    Der encap = signedData.get(2).expect(0x30);
    if (!encap.child(0, 0x06).oid().equals(TST_INFO)) {
      throw new IllegalArgumentException("the token does not sign a TSTInfo");
    }
    byte[] tstInfo = encap.child(1, 0xa0).child(0, 0x04).content();
    List<Der> tst = Der.parse(tstInfo).expect(0x30).children();
    Der imprint = tst.get(2).expect(0x30);
    String imprintDigest = digestName(imprint.child(0, 0x30).child(0, 0x06).oid());
    if (!MessageDigest.isEqual(imprint.child(1, 0x04).content(), digest(imprintDigest, data))) {
      throw new IllegalArgumentException("the token is over other data than this checkpoint");
    }
    Instant time = generalizedTime(tst.get(4).expect(0x18).content());

    List<X509Certificate> certs = new ArrayList<>();
    Der signerInfos = null;
    for (int i = 3; i < signedData.size(); i++) {
      Der d = signedData.get(i);
      if (d.tag == 0xa0) {
        for (Der c : d.children()) {
          if (c.tag == 0x30) {
            certs.add(certificate(c.encoded()));
          }
        }
      } else if (d.tag == 0x31) {
        signerInfos = d;
      }
    }
    if (signerInfos == null || signerInfos.children().size() != 1) {
      throw new IllegalArgumentException("the token must have exactly one signer");
    }
    List<Der> si = signerInfos.children().get(0).expect(0x30).children();
    X509Certificate signer = signerCertificate(si.get(1), certs);
    String attrsDigest = digestName(si.get(2).expect(0x30).child(0, 0x06).oid());
    Der signedAttrs = si.get(3).expect(0xa0);
    checkSignedAttributes(signedAttrs, digest(attrsDigest, tstInfo));
    String sigAlg = signatureName(si.get(4).expect(0x30).child(0, 0x06).oid(), attrsDigest);
    byte[] signature = si.get(5).expect(0x04).content();
    byte[] toVerify = signedAttrs.encoded();
    toVerify[0] = 0x31; // signed over as a SET OF, not as the [0] IMPLICIT it is stored as
    try {
      Signature s = Signature.getInstance(sigAlg);
      s.initVerify(signer.getPublicKey());
      s.update(toVerify);
      if (!s.verify(signature)) {
        throw new IllegalArgumentException("the token's signature does not verify");
      }
      signer.checkValidity(Date.from(time));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the token's signature or certificate is not usable (" + e.getMessage() + ")");
    }
    try {
      if (signer.getExtendedKeyUsage() == null
          || !signer.getExtendedKeyUsage().contains(TIME_STAMPING)
          || !signer.getCriticalExtensionOIDs().contains(EKU)) {
        throw new IllegalArgumentException(
            "the signer's certificate lacks the critical timeStamping extended key usage");
      }
    } catch (java.security.cert.CertificateParsingException e) {
      throw new IllegalArgumentException("the signer's certificate is unreadable");
    }
    if (!signer.equals(trusted) && !issuedBy(signer, trusted)) {
      throw new IllegalArgumentException(
          "the token is signed by "
              + signer.getSubjectX500Principal().getName()
              + ", not by the TSA certificate given with --tsa-cert");
    }
    return new Verified(time, signer.getSubjectX500Principal().getName());
  }

  private static void checkSignedAttributes(Der attrs, byte[] tstInfoDigest) {
    boolean type = false;
    boolean digest = false;
    for (Der a : attrs.children()) {
      String oid = a.expect(0x30).child(0, 0x06).oid();
      Der value = a.child(1, 0x31).children().get(0);
      if (oid.equals(CONTENT_TYPE)) {
        type = value.oid().equals(TST_INFO);
      } else if (oid.equals(MESSAGE_DIGEST)) {
        digest = MessageDigest.isEqual(value.expect(0x04).content(), tstInfoDigest);
      }
    }
    if (!type || !digest) {
      throw new IllegalArgumentException("the token's signed attributes do not match its TSTInfo");
    }
  }

  private static X509Certificate signerCertificate(Der sid, List<X509Certificate> certs) {
    for (X509Certificate c : certs) {
      if (sid.tag == 0x30) {
        List<Der> ias = sid.children();
        if (Arrays.equals(ias.get(0).encoded(), c.getIssuerX500Principal().getEncoded())
            && ias.get(1).integer().equals(c.getSerialNumber())) {
          return c;
        }
      } else if (sid.tag == 0x80) {
        byte[] ski = c.getExtensionValue("2.5.29.14");
        if (ski != null
            && Arrays.equals(Der.parse(Der.parse(ski).content()).content(), sid.content())) {
          return c;
        }
      }
    }
    throw new IllegalArgumentException("the token does not carry its signer's certificate");
  }

  private static boolean issuedBy(X509Certificate cert, X509Certificate ca) {
    if (!cert.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return false;
    }
    try {
      cert.verify(ca.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  static X509Certificate certificate(byte[] der) {
    try {
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("unreadable certificate");
    }
  }

  private static String digestName(String oid) {
    String name = DIGESTS.get(oid);
    if (name == null) {
      throw new IllegalArgumentException("unsupported digest " + oid);
    }
    return name;
  }

  private static String signatureName(String oid, String digest) {
    String name = SIGNATURES.get(oid);
    if (name != null) {
      return name;
    }
    String hash = digest.replace("-", "");
    if (oid.equals("1.2.840.113549.1.1.1")) {
      return hash + "withRSA";
    }
    if (oid.equals("1.2.840.10045.2.1")) {
      return hash + "withECDSA";
    }
    throw new IllegalArgumentException("unsupported signature algorithm " + oid);
  }

  private static byte[] digest(String name, byte[] data) {
    try {
      return MessageDigest.getInstance(name).digest(data);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** GeneralizedTime as RFC 3161 requires it: UTC, {@code YYYYMMDDhhmmss[.fff]Z}. */
  private static Instant generalizedTime(byte[] ascii) {
    String s = new String(ascii, java.nio.charset.StandardCharsets.US_ASCII);
    if (!s.matches("\\d{14}(\\.\\d{1,9})?Z")) {
      throw new IllegalArgumentException("malformed genTime");
    }
    Instant whole =
        LocalDateTime.parse(s.substring(0, 14), DateTimeFormatter.ofPattern("yyyyMMddHHmmss"))
            .toInstant(ZoneOffset.UTC);
    if (s.length() == 15) {
      return whole;
    }
    String fraction = s.substring(15, s.length() - 1);
    long nanos = Long.parseLong((fraction + "000000000").substring(0, 9));
    return whole.plusNanos(nanos);
  }
}
