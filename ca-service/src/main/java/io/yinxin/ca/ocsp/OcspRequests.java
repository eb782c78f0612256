package io.yinxin.ca.ocsp;

import java.io.IOException;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.Req;

/** Parses OCSP requests (RFC 6960 §4.1) into what the responder needs; a pure function. */
final class OcspRequests {
  /** Most certificates one request may ask about. */
  static final int MAX_CERTIFICATES = 16;

  private OcspRequests() {}

  /**
   * A well-formed request.
   *
   * @param ids the certificates asked about, 1 to {@link #MAX_CERTIFICATES}
   * @param nonce the nonce extension's value exactly as sent, to echo (RFC 8954), if any
   */
  record Parsed(CertificateID[] ids, Optional<byte[]> nonce) {
    boolean single() {
      return ids.length == 1 && nonce.isEmpty();
    }
  }

  /**
   * @return empty for anything RFC 6960 and RFC 8954 call a malformed request: bytes that are not
   *     exactly one DER OCSPRequest (BER length forms, a DEFAULT written out, trailing bytes), a
   *     version other than v1, no or too many certificates, a CertID whose hash algorithm has
   *     parameters other than absent or NULL, an extensions field with no extension, a critical
   *     extension other than the nonce (RFC 6960 §4.4: not understood), a nonce that is not an
   *     OCTET STRING of 1 to 32 octets
   */
  static Optional<Parsed> parse(byte[] der) {
    OCSPReq req;
    Req[] list;
    org.bouncycastle.asn1.ASN1Sequence tbs;
    try {
      // One object, nothing after it (OCSPReq's own constructor reads the first and ignores the
      // rest).
      org.bouncycastle.asn1.ASN1Primitive parsed =
          org.bouncycastle.asn1.ASN1Primitive.fromByteArray(der);
      org.bouncycastle.asn1.ocsp.OCSPRequest typed =
          org.bouncycastle.asn1.ocsp.OCSPRequest.getInstance(parsed);
      // One encoding per request: what Bouncy Castle reads from BER, or with a DEFAULT written
      // out, is answered only as DER (the typed object writes its DEFAULTs the DER way).
      if (!java.util.Arrays.equals(typed.getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER), der)) {
        return Optional.empty();
      }
      req = new OCSPReq(typed);
      tbs =
          org.bouncycastle.asn1.ASN1Sequence.getInstance(
              org.bouncycastle.asn1.ASN1Sequence.getInstance(parsed).getObjectAt(0));
      list = req.getRequestList();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    if (list.length == 0 || list.length > MAX_CERTIFICATES || !versionOne(tbs)) {
      return Optional.empty();
    }
    if (!understood(req.hasExtensions(), req.getExtensionOIDs(), req.getCriticalExtensionOIDs())) {
      return Optional.empty();
    }
    for (Req r : list) {
      org.bouncycastle.asn1.x509.Extensions single = r.getSingleRequestExtensions();
      if ((single != null
              && !understood(
                  true,
                  java.util.List.of(single.getExtensionOIDs()),
                  java.util.Set.of(single.getCriticalExtensionOIDs())))
          || !hashWithoutParameters(r.getCertID())) {
        return Optional.empty();
      }
    }
    Optional<byte[]> nonce = Optional.empty();
    Extension ext = req.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
    if (ext != null) {
      byte[] inner = nonceOctets(ext);
      // RFC 8954: a nonce is 1 to 32 octets; anything else is a malformed request.
      if (inner == null || inner.length < 1 || inner.length > 32) {
        return Optional.empty();
      }
      nonce = Optional.of(ext.getExtnValue().getOctets());
    }
    CertificateID[] ids = new CertificateID[list.length];
    for (int i = 0; i < list.length; i++) {
      ids[i] = list[i].getCertID();
    }
    return Optional.of(new Parsed(ids, nonce));
  }

  /**
   * RFC 6960 knows version v1 only, the DEFAULT, which DER leaves out: a request whose TBSRequest
   * carries a version field at all ([0]: v2, or v1 written out) is malformed. Bouncy Castle reads
   * any. A requestor name ([1]) may come first.
   */
  private static boolean versionOne(org.bouncycastle.asn1.ASN1Sequence tbs) {
    return tbs.size() > 0
        && !(tbs.getObjectAt(0) instanceof org.bouncycastle.asn1.ASN1TaggedObject t
            && t.hasContextTag(0));
  }

  /**
   * Extensions hold at least one (SIZE (1..MAX)), and none the responder does not understand is
   * critical: the nonce is the one request extension it reads (RFC 6960 §4.4; Bouncy Castle ignores
   * the flag).
   */
  private static boolean understood(
      boolean present, java.util.Collection<?> oids, java.util.Set<?> critical) {
    if (present && oids.isEmpty()) {
      return false;
    }
    for (Object oid : critical) {
      if (!OCSPObjectIdentifiers.id_pkix_ocsp_nonce.equals(oid)) {
        return false;
      }
    }
    return true;
  }

  /**
   * A CertID's hash algorithm with its parameters absent or NULL (RFC 5754 §2; SHA-1 the same): the
   * response echoes the CertID, so any other value would be signed into it.
   */
  private static boolean hashWithoutParameters(CertificateID id) {
    org.bouncycastle.asn1.ASN1Encodable p = id.toASN1Primitive().getHashAlgorithm().getParameters();
    return p == null || org.bouncycastle.asn1.DERNull.INSTANCE.equals(p);
  }

  /** The nonce octets (RFC 8954: the extension value is an OCTET STRING), or null if malformed. */
  private static byte[] nonceOctets(Extension nonce) {
    try {
      return ASN1OctetString.getInstance(nonce.getParsedValue()).getOctets();
    } catch (RuntimeException e) {
      return null;
    }
  }
}
