package io.yinxin.sso.certificate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * A certificate's revocation status from its issuer's OCSP responder (RFC 6960): the URL from the
 * certificate's Authority Information Access, a POST of the request, and the answer checked — a
 * successful response, signed by the issuer or by a responder certificate the issuer gave {@code
 * id-kp-OCSPSigning}, about this very certificate, current ({@code thisUpdate} not in the future
 * beyond five minutes, {@code nextUpdate} not past). A good or revoked answer is cached until its
 * {@code nextUpdate} (bounded: the oldest entry goes first); anything else is {@link
 * Status#UNAVAILABLE} and is not cached, so the caller fails closed.
 */
public final class OcspStatus {
  /** What the responder said. */
  public enum Status {
    GOOD,
    REVOKED,
    UNKNOWN,
    UNAVAILABLE
  }

  private static final Duration SKEW = Duration.ofMinutes(5);
  private static final int MAX_RESPONSE = 64 * 1024;

  private record Cached(Status status, Instant until) {}

  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();
  private final Clock clock;
  private final int maxEntries;
  private final Map<String, Cached> cache;

  public OcspStatus(Clock clock, int maxEntries) {
    this.clock = clock;
    this.maxEntries = maxEntries;
    this.cache = new LinkedHashMap<>(16, 0.75f, true);
  }

  /** The status of {@code cert}, issued by {@code issuer}. */
  public Status of(X509Certificate cert, X509Certificate issuer) {
    String key = issuer.getSubjectX500Principal().getName() + "#" + cert.getSerialNumber();
    Instant now = clock.instant();
    synchronized (cache) {
      Cached c = cache.get(key);
      if (c != null && c.until().isAfter(now)) {
        return c.status();
      }
      cache.remove(key);
    }
    Optional<URI> url = responderUrl(cert);
    if (url.isEmpty()) {
      return Status.UNAVAILABLE;
    }
    try {
      DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
      CertificateID id =
          new CertificateID(
              digests.get(CertificateID.HASH_SHA1),
              new JcaX509CertificateHolder(issuer),
              cert.getSerialNumber());
      byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
      HttpResponse<java.io.InputStream> r =
          http.send(
              HttpRequest.newBuilder(url.get())
                  .timeout(Duration.ofSeconds(5))
                  .header("Content-Type", "application/ocsp-request")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(request))
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (var in = r.body()) {
        body = in.readNBytes(MAX_RESPONSE + 1);
      }
      if (r.statusCode() != 200 || body.length > MAX_RESPONSE) {
        return Status.UNAVAILABLE;
      }
      OCSPResp resp = new OCSPResp(body);
      if (resp.getStatus() != OCSPResp.SUCCESSFUL
          || !(resp.getResponseObject() instanceof BasicOCSPResp basic)
          || !signedByIssuerOrItsResponder(basic, issuer)) {
        return Status.UNAVAILABLE;
      }
      for (SingleResp single : basic.getResponses()) {
        if (!single.getCertID().equals(id)) {
          continue;
        }
        Instant thisUpdate = single.getThisUpdate().toInstant();
        Instant nextUpdate =
            single.getNextUpdate() == null ? now : single.getNextUpdate().toInstant();
        if (thisUpdate.isAfter(now.plus(SKEW)) || nextUpdate.isBefore(now)) {
          return Status.UNAVAILABLE;
        }
        CertificateStatus s = single.getCertStatus();
        Status status =
            s == CertificateStatus.GOOD
                ? Status.GOOD
                : s instanceof RevokedStatus ? Status.REVOKED : Status.UNKNOWN;
        if (status != Status.UNKNOWN) {
          remember(key, new Cached(status, nextUpdate));
        }
        return status;
      }
      return Status.UNAVAILABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Status.UNAVAILABLE;
    } catch (Exception e) {
      // Unreachable, malformed or unverifiable: no status, and the caller fails closed.
      return Status.UNAVAILABLE;
    }
  }

  private void remember(String key, Cached c) {
    synchronized (cache) {
      cache.put(key, c);
      if (cache.size() > maxEntries) {
        cache.remove(cache.keySet().iterator().next());
      }
    }
  }

  private boolean signedByIssuerOrItsResponder(BasicOCSPResp basic, X509Certificate issuer)
      throws Exception {
    var byIssuer = new JcaContentVerifierProviderBuilder().build(issuer.getPublicKey());
    if (basic.isSignatureValid(byIssuer)) {
      return true;
    }
    X509CertificateHolder issuerHolder = new JcaX509CertificateHolder(issuer);
    for (X509CertificateHolder responder : basic.getCerts()) {
      Extension eku = responder.getExtension(Extension.extendedKeyUsage);
      boolean ocspSigning =
          eku != null
              && org.bouncycastle.asn1.x509.ExtendedKeyUsage.getInstance(eku.getParsedValue())
                  .hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning);
      if (ocspSigning
          && responder.getIssuer().equals(issuerHolder.getSubject())
          && responder.isValidOn(java.util.Date.from(clock.instant()))
          && responder.isSignatureValid(
              new JcaContentVerifierProviderBuilder().build(issuer.getPublicKey()))
          && basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(responder))) {
        return true;
      }
    }
    return false;
  }

  /** The http(s) OCSP URL of the certificate's Authority Information Access. */
  static Optional<URI> responderUrl(X509Certificate cert) {
    byte[] ext = cert.getExtensionValue(Extension.authorityInfoAccess.getId());
    if (ext == null) {
      return Optional.empty();
    }
    try {
      AuthorityInformationAccess aia =
          AuthorityInformationAccess.getInstance(
              org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets());
      for (AccessDescription d : aia.getAccessDescriptions()) {
        if (d.getAccessMethod().equals(AccessDescription.id_ad_ocsp)
            && d.getAccessLocation().getTagNo() == GeneralName.uniformResourceIdentifier) {
          String u = ASN1IA5String.getInstance(d.getAccessLocation().getName()).getString();
          URI uri = URI.create(u);
          if ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) {
            return Optional.of(uri);
          }
        }
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
