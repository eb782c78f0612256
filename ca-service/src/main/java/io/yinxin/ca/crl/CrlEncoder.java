package io.yinxin.ca.crl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.operator.ContentSigner;

/**
 * Writes an X.509 v2 CRL (RFC 5280 §5) straight to DER. The revoked-certificate list is encoded by
 * hand into one growing buffer, which keeps a list of a million entries to a fraction of a second
 * and a few tens of MB; everything else goes through Bouncy Castle's ASN.1 classes.
 *
 * <p>Use: {@link #add} every entry, then {@link #sign}. Not thread-safe.
 */
public final class CrlEncoder {
  /**
   * reasonCode entry extension prefix: SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING {
   * ENUMERATED
   */
  private static final byte[] REASON_PREFIX = {
    0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01
  };

  /** invalidityDate entry extension: SEQUENCE { OID 2.5.29.24, OCTET STRING { GeneralizedTime */
  private static final byte[] INVALIDITY_PREFIX = {
    0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11, 0x18, 0x0f
  };

  private byte[] buf = new byte[1 << 16];
  private int len;
  private int count;
  private final byte[] serialScratch = new byte[64];

  /** Entries added so far. */
  public int count() {
    return count;
  }

  /**
   * Adds one revoked certificate.
   *
   * @param serialHex lower- or upper-case hex serial (positive)
   * @param revokedAtMillis revocation time
   * @param reason CRLReason code; 0 (unspecified) is omitted as RFC 5280 §5.3.1 recommends
   */
  public void add(String serialHex, long revokedAtMillis, int reason) {
    add(serialHex, revokedAtMillis, reason, -1);
  }

  /**
   * Adds one revoked certificate with an invalidity date (RFC 5280 §5.3.2, GeneralizedTime).
   *
   * @param invalidityMillis when the key is known or suspected to have been compromised; -1 for
   *     none
   */
  public void add(String serialHex, long revokedAtMillis, int reason, long invalidityMillis) {
    int serialLen = serialBytes(serialHex);
    byte[] time = time(revokedAtMillis);
    boolean invalidity = invalidityMillis >= 0;
    int extensions = (reason == 0 ? 0 : 12) + (invalidity ? 26 : 0);
    int content = 2 + serialLen + time.length + (extensions == 0 ? 0 : 2 + extensions);
    ensure(content + 6);
    len = writeHeader(buf, len, 0x30, content);
    buf[len++] = 0x02;
    buf[len++] = (byte) serialLen;
    System.arraycopy(serialScratch, 0, buf, len, serialLen);
    len += serialLen;
    System.arraycopy(time, 0, buf, len, time.length);
    len += time.length;
    if (extensions != 0) {
      buf[len++] = 0x30;
      buf[len++] = (byte) extensions;
    }
    if (reason != 0) {
      // the reasonCode extension without REASON_PREFIX's outer SEQUENCE header
      System.arraycopy(REASON_PREFIX, 2, buf, len, REASON_PREFIX.length - 2);
      len += REASON_PREFIX.length - 2;
      buf[len++] = (byte) reason;
    }
    if (invalidity) {
      System.arraycopy(INVALIDITY_PREFIX, 0, buf, len, INVALIDITY_PREFIX.length);
      len += INVALIDITY_PREFIX.length;
      byte[] g = generalizedTime(invalidityMillis);
      System.arraycopy(g, 0, buf, len, g.length);
      len += g.length;
    }
    count++;
  }

  /** Writes the serial's minimal two's-complement bytes into the scratch buffer. */
  private int serialBytes(String hex) {
    int n = hex.length();
    if (n == 0 || n > 120) {
      throw new IllegalArgumentException("serial");
    }
    // digits -> bytes, right-aligned
    int bytes = (n + 1) / 2;
    byte[] tmp = new byte[bytes];
    for (int i = n - 1, b = bytes - 1; i >= 0; i -= 2, b--) {
      int lo = Character.digit(hex.charAt(i), 16);
      int hi = i > 0 ? Character.digit(hex.charAt(i - 1), 16) : 0;
      if (lo < 0 || hi < 0) {
        throw new IllegalArgumentException("serial is not hex");
      }
      tmp[b] = (byte) (hi << 4 | lo);
    }
    int start = 0;
    while (start < bytes - 1 && tmp[start] == 0) {
      start++;
    }
    int out = 0;
    if ((tmp[start] & 0x80) != 0) {
      serialScratch[out++] = 0;
    }
    int l = bytes - start;
    System.arraycopy(tmp, start, serialScratch, out, l);
    return out + l;
  }

  /** The 15 content bytes of a GeneralizedTime YYYYMMDDHHMMSSZ (whole seconds). */
  static byte[] generalizedTime(long millis) {
    LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(millis, 1000), 0, ZoneOffset.UTC);
    byte[] out = new byte[15];
    int p = two(out, 0, t.getYear() / 100);
    p = two(out, p, t.getYear() % 100);
    p = two(out, p, t.getMonthValue());
    p = two(out, p, t.getDayOfMonth());
    p = two(out, p, t.getHour());
    p = two(out, p, t.getMinute());
    p = two(out, p, t.getSecond());
    out[p] = 'Z';
    return out;
  }

  /** UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §5.1.2.4), whole seconds. */
  static byte[] time(long millis) {
    LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(millis, 1000), 0, ZoneOffset.UTC);
    int y = t.getYear();
    boolean utc = y >= 1950 && y < 2050;
    byte[] out = new byte[utc ? 15 : 17];
    int p = 0;
    out[p++] = (byte) (utc ? 0x17 : 0x18);
    out[p++] = (byte) (utc ? 13 : 15);
    if (!utc) {
      p = two(out, p, y / 100);
    }
    p = two(out, p, y % 100);
    p = two(out, p, t.getMonthValue());
    p = two(out, p, t.getDayOfMonth());
    p = two(out, p, t.getHour());
    p = two(out, p, t.getMinute());
    p = two(out, p, t.getSecond());
    out[p] = 'Z';
    return out;
  }

  private static int two(byte[] out, int p, int v) {
    out[p] = (byte) ('0' + v / 10);
    out[p + 1] = (byte) ('0' + v % 10);
    return p + 2;
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      long want = Math.max((long) buf.length * 2, (long) len + more);
      if (want > Integer.MAX_VALUE - 64) {
        throw new IllegalStateException("CRL too large");
      }
      buf = Arrays.copyOf(buf, (int) want);
    }
  }

  /**
   * Builds the TBSCertList around the entries and signs it.
   *
   * @param extensions crlExtensions (CRL number, AKI, IDP, delta indicator ...)
   * @return the DER CertificateList
   */
  public byte[] sign(
      X500Name issuer,
      Instant thisUpdate,
      Instant nextUpdate,
      Extensions extensions,
      ContentSigner signer) {
    try {
      AlgorithmIdentifier alg = signer.getAlgorithmIdentifier();
      byte[] head =
          concat(
              new ASN1Integer(1).getEncoded(ASN1Encoding.DER),
              alg.getEncoded(ASN1Encoding.DER),
              issuer.getEncoded(ASN1Encoding.DER),
              new Time(java.util.Date.from(thisUpdate)).getEncoded(ASN1Encoding.DER),
              new Time(java.util.Date.from(nextUpdate)).getEncoded(ASN1Encoding.DER));
      byte[] tail = new DERTaggedObject(true, 0, extensions).getEncoded(ASN1Encoding.DER);
      int listLen = count == 0 ? 0 : headerLength(len) + len;
      int tbsContent = head.length + listLen + tail.length;
      byte[] tbs = new byte[headerLength(tbsContent) + tbsContent];
      int p = writeHeader(tbs, 0, 0x30, tbsContent);
      System.arraycopy(head, 0, tbs, p, head.length);
      p += head.length;
      if (count > 0) {
        p = writeHeader(tbs, p, 0x30, len);
        System.arraycopy(buf, 0, tbs, p, len);
        p += len;
      }
      System.arraycopy(tail, 0, tbs, p, tail.length);
      buf = new byte[0];
      try (var out = signer.getOutputStream()) {
        out.write(tbs);
      }
      byte[] sig = signer.getSignature();
      byte[] algSig =
          concat(
              alg.getEncoded(ASN1Encoding.DER), new DERBitString(sig).getEncoded(ASN1Encoding.DER));
      int total = tbs.length + algSig.length;
      byte[] crl = new byte[headerLength(total) + total];
      int q = writeHeader(crl, 0, 0x30, total);
      System.arraycopy(tbs, 0, crl, q, tbs.length);
      System.arraycopy(algSig, 0, crl, q + tbs.length, algSig.length);
      return crl;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  static int headerLength(int contentLength) {
    if (contentLength < 0x80) {
      return 2;
    }
    if (contentLength < 0x100) {
      return 3;
    }
    if (contentLength < 0x10000) {
      return 4;
    }
    if (contentLength < 0x1000000) {
      return 5;
    }
    return 6;
  }

  static int writeHeader(byte[] out, int p, int tag, int contentLength) {
    out[p++] = (byte) tag;
    int h = headerLength(contentLength);
    if (h == 2) {
      out[p++] = (byte) contentLength;
      return p;
    }
    int n = h - 2;
    out[p++] = (byte) (0x80 | n);
    for (int i = n - 1; i >= 0; i--) {
      out[p++] = (byte) (contentLength >>> (8 * i));
    }
    return p;
  }
}
