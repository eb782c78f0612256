package io.yinxin.ca.ocsp;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.testing.OpenSsl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.ocsp.CertID;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPRequest;
import org.bouncycastle.asn1.ocsp.Request;
import org.bouncycastle.asn1.ocsp.TBSRequest;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the responder takes as a request (RFC 6960 §4.1): one DER encoding per request, extensions
 * it understands, CertIDs as clients write them. openssl's requests are the reference that must
 * pass; each refused variant is one Bouncy Castle reads (and the responder answered before).
 */
class OcspRequestsTest {
  @TempDir static Path dir;
  private static byte[] openssl;
  private static byte[] opensslWithNonce;
  private static CertID id;

  @BeforeAll
  static void opensslWritesRequests() throws Exception {
    OpenSsl.Result ca = OpenSsl.selfSignedP256(dir, "ca.key", "ca.pem", "/C=CN/O=Test/CN=Test CA");
    assertThat(ca.exitCode()).as(ca.output()).isZero();
    OpenSsl.Result q =
        OpenSsl.run(
            dir, "ocsp", "-issuer", "ca.pem", "-serial", "0x1234", "-no_nonce", "-reqout", "q.der");
    assertThat(q.exitCode()).as(q.output()).isZero();
    OpenSsl.Result n =
        OpenSsl.run(dir, "ocsp", "-issuer", "ca.pem", "-serial", "0x1234", "-reqout", "n.der");
    assertThat(n.exitCode()).as(n.output()).isZero();
    openssl = Files.readAllBytes(dir.resolve("q.der"));
    opensslWithNonce = Files.readAllBytes(dir.resolve("n.der"));
    id = new OCSPReq(openssl).getRequestList()[0].getCertID().toASN1Primitive();
  }

  @Test
  void opensslsRequestsAreTaken() {
    assertThat(OcspRequests.parse(openssl)).isPresent();
    var withNonce = OcspRequests.parse(opensslWithNonce);
    assertThat(withNonce).isPresent();
    assertThat(withNonce.get().nonce()).isPresent();
  }

  @Test
  void aRequestorNameIsAllowed() throws Exception {
    byte[] named =
        der(
            new TBSRequest(
                new GeneralName(GeneralName.dNSName, "portal.example"),
                new DERSequence(new Request(id, null)),
                (Extensions) null));
    assertThat(OcspRequests.parse(named)).as("RFC 6960's requestorName [1]").isPresent();
  }

  @Test
  void otherEncodingsOfTheSameRequestAreMalformed() {
    assertThat(openssl[1] & 0xff).isLessThan(0x80);
    byte[] longForm = new byte[openssl.length + 1];
    longForm[0] = 0x30;
    longForm[1] = (byte) 0x81;
    System.arraycopy(openssl, 1, longForm, 2, openssl.length - 1);
    assertThat(new OCSPReq(parseable(longForm)).getRequestList()).hasSize(1);
    assertThat(OcspRequests.parse(longForm)).isEmpty();

    byte[] indefinite = new byte[openssl.length + 2];
    indefinite[0] = 0x30;
    indefinite[1] = (byte) 0x80;
    System.arraycopy(openssl, 2, indefinite, 2, openssl.length - 2);
    assertThat(new OCSPReq(parseable(indefinite)).getRequestList()).hasSize(1);
    assertThat(OcspRequests.parse(indefinite)).isEmpty();

    // An extension's critical flag written out as FALSE, its DEFAULT.
    byte[] explicitFalse =
        der(
            new DERSequence(
                new ASN1Encodable[] {
                  new DERSequence(new Request(id, null)),
                  new DERTaggedObject(
                      true,
                      2,
                      new DERSequence(
                          new DERSequence(
                              new ASN1Encodable[] {
                                new ASN1ObjectIdentifier("1.2.3.4"),
                                ASN1Boolean.FALSE,
                                new DEROctetString(new byte[] {5, 0})
                              })))
                }));
    assertThat(new OCSPReq(parseable(explicitFalse)).getRequestList()).hasSize(1);
    assertThat(OcspRequests.parse(explicitFalse)).isEmpty();
  }

  @Test
  void aCriticalExtensionOtherThanTheNonceOrAnEmptyExtensionsFieldIsMalformed() throws Exception {
    Extension unknown = new Extension(new ASN1ObjectIdentifier("1.2.3.4"), true, new byte[] {5, 0});
    assertThat(OcspRequests.parse(request(new Extensions(unknown), null))).isEmpty();
    assertThat(OcspRequests.parse(request(null, new Extensions(unknown))))
        .as("in a single request")
        .isEmpty();
    Extension notCritical =
        new Extension(new ASN1ObjectIdentifier("1.2.3.4"), false, new byte[] {5, 0});
    assertThat(OcspRequests.parse(request(new Extensions(notCritical), null))).isPresent();
    assertThat(OcspRequests.parse(request(null, new Extensions(notCritical)))).isPresent();
    Extension criticalNonce =
        new Extension(
            OCSPObjectIdentifiers.id_pkix_ocsp_nonce,
            true,
            new DEROctetString(new byte[16]).getEncoded());
    assertThat(OcspRequests.parse(request(new Extensions(criticalNonce), null)))
        .as("the nonce is understood")
        .isPresent();

    byte[] empty =
        der(
            new DERSequence(
                new ASN1Encodable[] {
                  new DERSequence(new Request(id, null)),
                  new DERTaggedObject(true, 2, new DERSequence())
                }));
    assertThat(new OCSPReq(parseable(empty)).getRequestList()).hasSize(1);
    assertThat(OcspRequests.parse(empty)).isEmpty();
  }

  @Test
  void aCertIdHashWithParametersIsMalformed() throws Exception {
    for (ASN1Encodable params : Arrays.asList(null, DERNull.INSTANCE)) {
      assertThat(OcspRequests.parse(withHashParameters(params))).as("%s", params).isPresent();
    }
    assertThat(OcspRequests.parse(withHashParameters(new ASN1Integer(5)))).isEmpty();
    assertThat(OcspRequests.parse(withHashParameters(new DERSequence()))).isEmpty();
  }

  private static byte[] withHashParameters(ASN1Encodable params) throws Exception {
    CertID changed =
        new CertID(
            new AlgorithmIdentifier(OIWObjectIdentifiers.idSHA1, params),
            id.getIssuerNameHash(),
            id.getIssuerKeyHash(),
            id.getSerialNumber());
    return der(
        new TBSRequest(null, new DERSequence(new Request(changed, null)), (Extensions) null));
  }

  private static byte[] request(Extensions requestExtensions, Extensions singleExtensions)
      throws Exception {
    return der(
        new TBSRequest(
            null, new DERSequence(new Request(id, singleExtensions)), requestExtensions));
  }

  /** An unsigned OCSPRequest around this TBSRequest (or the sequence standing for one). */
  private static byte[] der(ASN1Encodable tbs) {
    try {
      return new DERSequence(tbs).getEncoded(ASN1Encoding.DER);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Bouncy Castle reads it: the responder's refusal is its own. */
  private static OCSPRequest parseable(byte[] der) {
    try {
      return OCSPRequest.getInstance(ASN1Sequence.fromByteArray(der));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
