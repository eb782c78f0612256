package io.yinxin.ca.crl;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.ca.testing.TestCsr;
import io.yinxin.hsm.BouncyCastle;
import java.math.BigInteger;
import java.security.KeyPair;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CRLEntryHolder;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.Test;

class CrlEncoderTest {
  static final KeyPair KEY = TestCsr.ec("secp256r1");
  static final X500Name ISSUER = new X500Name("CN=测试 CA,O=Yinxin,C=CN");

  @Test
  void entriesRoundTripThroughBouncyCastleAndTheSignatureVerifies() throws Exception {
    SplittableRandom rnd = new SplittableRandom(42);
    Map<BigInteger, int[]> expected = new HashMap<>();
    CrlEncoder enc = new CrlEncoder();
    long base = Instant.parse("2026-11-27T00:00:00Z").toEpochMilli();
    for (int i = 0; i < 2000; i++) {
      byte[] b = new byte[1 + rnd.nextInt(20)];
      rnd.nextBytes(b);
      BigInteger serial = new BigInteger(1, b);
      if (serial.signum() == 0 || expected.containsKey(serial)) {
        continue;
      }
      int reason = new int[] {0, 1, 4, 5, 6, 9}[rnd.nextInt(6)];
      long at = base + rnd.nextInt(1_000_000) * 1000L;
      // upper and lower case hex, with and without leading zeros
      String hex = (i % 2 == 0 ? "00" : "") + serial.toString(16);
      enc.add(i % 3 == 0 ? hex.toUpperCase(java.util.Locale.ROOT) : hex, at, reason);
      expected.put(serial, new int[] {reason, (int) (at / 1000 - base / 1000)});
    }
    byte[] der = sign(enc, 7);
    X509CRLHolder crl = new X509CRLHolder(der);
    assertThat(
            crl.isSignatureValid(
                new JcaContentVerifierProviderBuilder()
                    .setProvider(BouncyCastle.PROVIDER)
                    .build(KEY.getPublic())))
        .isTrue();
    assertThat(crl.getIssuer()).isEqualTo(ISSUER);
    assertThat(
            CRLNumber.getInstance(crl.getExtension(Extension.cRLNumber).getParsedValue())
                .getCRLNumber())
        .isEqualTo(BigInteger.valueOf(7));
    assertThat(crl.getRevokedCertificates()).hasSize(expected.size());
    for (Object o : crl.getRevokedCertificates()) {
      X509CRLEntryHolder e = (X509CRLEntryHolder) o;
      int[] want = expected.get(e.getSerialNumber());
      assertThat(want).as(e.getSerialNumber().toString(16)).isNotNull();
      Extension r = e.getExtension(Extension.reasonCode);
      if (want[0] == 0) {
        assertThat(r).isNull();
      } else {
        assertThat(CRLReason.getInstance(r.getParsedValue()).getValue().intValue())
            .isEqualTo(want[0]);
      }
      assertThat(e.getRevocationDate().getTime() / 1000 - base / 1000).isEqualTo(want[1]);
    }
    // Java's own parser agrees too.
    java.security.cert.X509CRL jca =
        (java.security.cert.X509CRL)
            java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCRL(new java.io.ByteArrayInputStream(der));
    assertThat(jca.getRevokedCertificates()).hasSize(expected.size());
  }

  @Test
  void anEmptyCrlOmitsTheListAndLateDatesUseGeneralizedTime() throws Exception {
    X509CRLHolder empty = new X509CRLHolder(sign(new CrlEncoder(), 1));
    assertThat(empty.getRevokedCertificates()).isEmpty();
    CrlEncoder late = new CrlEncoder();
    late.add("ff", Instant.parse("2051-01-02T03:04:05Z").toEpochMilli(), 1);
    X509CRLHolder crl = new X509CRLHolder(sign(late, 2));
    X509CRLEntryHolder e = (X509CRLEntryHolder) crl.getRevokedCertificates().iterator().next();
    assertThat(e.getSerialNumber()).isEqualTo(BigInteger.valueOf(255));
    assertThat(e.getRevocationDate().toInstant()).isEqualTo(Instant.parse("2051-01-02T03:04:05Z"));
    assertThat(CrlEncoder.time(Instant.parse("2051-01-02T03:04:05Z").toEpochMilli())[0])
        .isEqualTo((byte) 0x18);
    assertThat(CrlEncoder.time(Instant.parse("2049-01-02T03:04:05Z").toEpochMilli())[0])
        .isEqualTo((byte) 0x17);
  }

  @Test
  void derLengthHeadersAreMinimal() {
    for (int n : new int[] {0, 1, 127, 128, 255, 256, 65535, 65536, 16_777_215, 16_777_216}) {
      byte[] out = new byte[8];
      int end = CrlEncoder.writeHeader(out, 0, 0x30, n);
      assertThat(end).isEqualTo(CrlEncoder.headerLength(n));
      byte[] bc = new byte[0];
      try {
        bc = new org.bouncycastle.asn1.DEROctetString(new byte[n]).getEncoded();
      } catch (java.io.IOException ex) {
        throw new AssertionError(ex);
      }
      assertThat(java.util.Arrays.copyOfRange(out, 1, end))
          .isEqualTo(java.util.Arrays.copyOfRange(bc, 1, end));
    }
  }

  private static byte[] sign(CrlEncoder enc, long number) throws Exception {
    Instant now = Instant.parse("2026-11-27T12:00:00Z");
    return enc.sign(
        ISSUER,
        now,
        now.plusSeconds(86400),
        new Extensions(
            new Extension(
                Extension.cRLNumber,
                false,
                new CRLNumber(BigInteger.valueOf(number)).getEncoded())),
        new JcaContentSignerBuilder("SHA256withECDSA")
            .setProvider(BouncyCastle.PROVIDER)
            .build(KEY.getPrivate()));
  }
}
