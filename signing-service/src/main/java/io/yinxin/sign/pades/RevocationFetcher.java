package io.yinxin.sign.pades;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * Revocation data for B-LT: the OCSP response and CRL of each certificate, fetched from the URLs
 * the certificate names (AIA OCSP, CRL distribution points), checked (signed by the issuer or its
 * delegated OCSP signer, about this certificate) and cached until their nextUpdate, so a batch of
 * seals fetches each once. A certificate found revoked stops the seal ({@code
 * CERTIFICATE_REVOKED}): a B-LT seal by a revoked certificate would be invalid on arrival.
 */
public final class RevocationFetcher {
  private static final int MAX_OCSP_BYTES = 64 * 1024;
  private static final int MAX_CRL_BYTES = 32 * 1024 * 1024;
  private static final int CACHE_ENTRIES = 4096;

  /**
   * A response or CRL as fetched, until when it may be used, and what checking it found: the parsed
   * {@link OCSPResp} (signed by the issuer or its responder, this certificate good) or {@link
   * X509CRLHolder} (signed by the issuer). Only checked answers are kept, so a cache hit is not
   * checked again: verifying the responder's signature on every seal cost a B-LT seal a quarter of
   * its CPU time.
   */
  private record Cached(byte[] der, Instant until, Object checked) {}

  private static final org.bouncycastle.operator.DigestCalculatorProvider DIGESTS = digests();

  private static org.bouncycastle.operator.DigestCalculatorProvider digests() {
    try {
      return new JcaDigestCalculatorProviderBuilder().setProvider(BouncyCastle.PROVIDER).build();
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private final HttpClient http;
  private final Duration timeout;
  private final Clock clock;
  private final Map<String, Cached> cache =
      new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
          return size() > CACHE_ENTRIES;
        }
      };

  public RevocationFetcher(Duration timeout, Clock clock) {
    this.timeout = timeout;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** What B-LT embeds for a chain. */
  public record Data(List<byte[]> ocsps, List<byte[]> crls, List<X509CertificateHolder> certs) {}

  /**
   * OCSP responses (else CRLs) for every certificate of {@code chain} but a self-signed root; the
   * certificates that came with them (delegated OCSP signers).
   */
  public Data forChain(List<X509CertificateHolder> chain) {
    List<byte[]> ocsps = new ArrayList<>();
    List<byte[]> crls = new ArrayList<>();
    List<X509CertificateHolder> certs = new ArrayList<>();
    for (int i = 0; i < chain.size(); i++) {
      X509CertificateHolder cert = chain.get(i);
      if (cert.getSubject().equals(cert.getIssuer())) {
        continue;
      }
      Optional<X509CertificateHolder> issuer = issuerOf(cert, chain);
      if (issuer.isEmpty()) {
        continue;
      }
      if (cert.getExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck)
          != null) {
        continue; // an OCSP signer: RFC 6960 §4.2.2.2.1, no status to check
      }
      Optional<OCSPResp> ocsp = ocsp(cert, issuer.get());
      if (ocsp.isPresent()) {
        try {
          ocsps.add(ocsp.get().getEncoded());
          BasicOCSPResp basic = (BasicOCSPResp) ocsp.get().getResponseObject();
          certs.addAll(List.of(basic.getCerts()));
        } catch (IOException | org.bouncycastle.cert.ocsp.OCSPException e) {
          throw new IllegalStateException(e);
        }
        continue;
      }
      crl(cert, issuer.get()).ifPresent(crls::add);
    }
    return new Data(ocsps, crls, certs);
  }

  private static Optional<X509CertificateHolder> issuerOf(
      X509CertificateHolder cert, List<X509CertificateHolder> chain) {
    return chain.stream().filter(c -> c.getSubject().equals(cert.getIssuer())).findFirst();
  }

  Optional<OCSPResp> ocsp(X509CertificateHolder cert, X509CertificateHolder issuer) {
    Optional<String> url = accessLocation(cert);
    if (url.isEmpty()) {
      return Optional.empty();
    }
    try {
      CertificateID id =
          new CertificateID(DIGESTS.get(CertificateID.HASH_SHA1), issuer, cert.getSerialNumber());
      // The certificate and its issuer (name and key), as the response must name them.
      String key =
          "ocsp "
              + url.get()
              + " "
              + cert.getSerialNumber().toString(16)
              + " "
              + java.util.HexFormat.of().formatHex(id.getIssuerNameHash())
              + " "
              + java.util.HexFormat.of().formatHex(id.getIssuerKeyHash());
      Cached hit = cached(key);
      if (hit != null) {
        return Optional.of((OCSPResp) hit.checked());
      }
      byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
      Optional<byte[]> body =
          send(
              HttpRequest.newBuilder(URI.create(url.get()))
                  .header("Content-Type", "application/ocsp-request")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(request)),
              MAX_OCSP_BYTES);
      if (body.isEmpty()) {
        return Optional.empty();
      }
      byte[] der = body.get();
      OCSPResp resp = new OCSPResp(der);
      if (resp.getStatus() != OCSPResp.SUCCESSFUL) {
        return Optional.empty();
      }
      BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
      if (!signedByIssuerOrItsResponder(basic, issuer)) {
        return Optional.empty();
      }
      for (SingleResp single : basic.getResponses()) {
        if (!single.getCertID().equals(id)) {
          continue;
        }
        if (single.getCertStatus() instanceof RevokedStatus) {
          throw new SignException(
              Code.CERTIFICATE_REVOKED, "certificate " + serial(cert) + " is revoked");
        }
        if (single.getCertStatus() != org.bouncycastle.cert.ocsp.CertificateStatus.GOOD) {
          return Optional.empty();
        }
        Instant until =
            single.getNextUpdate() == null
                ? clock.instant().plus(Duration.ofMinutes(5))
                : single.getNextUpdate().toInstant();
        remember(key, der, until, resp);
        return Optional.of(resp);
      }
      return Optional.empty();
    } catch (SignException e) {
      throw e;
    } catch (Exception e) {
      return Optional.empty(); // unreachable or unusable responder: the CRL is tried next
    }
  }

  Optional<byte[]> crl(X509CertificateHolder cert, X509CertificateHolder issuer) {
    for (String url : distributionPoints(cert)) {
      try {
        // Checked against this issuer (name and key): another issuer naming the same URL has the
        // CRL it finds there checked against its own key.
        String key =
            "crl "
                + url
                + " "
                + java.util.HexFormat.of()
                    .formatHex(
                        java.security.MessageDigest.getInstance("SHA-256")
                            .digest(issuer.getSubjectPublicKeyInfo().getEncoded()))
                + " "
                + issuer.getSubject();
        Cached hit = cached(key);
        X509CRLHolder crl;
        byte[] der;
        if (hit != null) {
          crl = (X509CRLHolder) hit.checked();
          der = hit.der();
        } else {
          Optional<byte[]> body =
              send(HttpRequest.newBuilder(URI.create(url)).GET(), MAX_CRL_BYTES);
          if (body.isEmpty()) {
            continue;
          }
          der = body.get();
          crl = new X509CRLHolder(der);
          if (!crl.getIssuer().equals(issuer.getSubject())
              || !crl.isSignatureValid(
                  new JcaContentVerifierProviderBuilder()
                      .setProvider(BouncyCastle.PROVIDER)
                      .build(issuer))) {
            continue;
          }
          Instant until =
              crl.getNextUpdate() == null
                  ? clock.instant().plus(Duration.ofMinutes(5))
                  : crl.getNextUpdate().toInstant();
          remember(key, der, until, crl);
        }
        // Every certificate is looked up, on a cached CRL too: one CRL serves many certificates.
        if (crl.getRevokedCertificate(cert.getSerialNumber()) != null) {
          throw new SignException(
              Code.CERTIFICATE_REVOKED, "certificate " + serial(cert) + " is revoked");
        }
        return Optional.of(der);
      } catch (SignException e) {
        throw e;
      } catch (Exception e) {
        // try the next distribution point
      }
    }
    return Optional.empty();
  }

  private static boolean signedByIssuerOrItsResponder(
      BasicOCSPResp basic, X509CertificateHolder issuer) throws Exception {
    var verifier = new JcaContentVerifierProviderBuilder().setProvider(BouncyCastle.PROVIDER);
    if (basic.isSignatureValid(verifier.build(issuer))) {
      return true;
    }
    for (X509CertificateHolder responder : basic.getCerts()) {
      boolean delegated =
          responder.getIssuer().equals(issuer.getSubject())
              && responder.isSignatureValid(verifier.build(issuer))
              && responder.getExtension(Extension.extendedKeyUsage) != null
              && org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(
                      responder.getExtensions())
                  .hasKeyPurposeId(KeyPurposeId.id_kp_OCSPSigning);
      if (delegated && basic.isSignatureValid(verifier.build(responder))) {
        return true;
      }
    }
    return false;
  }

  private Optional<byte[]> send(HttpRequest.Builder request, int maxBytes) {
    try {
      HttpResponse<InputStream> r =
          http.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          return Optional.empty();
        }
        byte[] body = in.readNBytes(maxBytes + 1);
        return body.length > maxBytes ? Optional.empty() : Optional.of(body);
      }
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** The checked answer kept under {@code key}, or {@code null} if none or past its time. */
  private synchronized Cached cached(String key) {
    Cached c = cache.get(key);
    return c != null && clock.instant().isBefore(c.until()) ? c : null;
  }

  private synchronized void remember(String key, byte[] der, Instant until, Object checked) {
    cache.put(key, new Cached(der, until, checked));
  }

  static Optional<String> accessLocation(X509CertificateHolder cert) {
    AuthorityInformationAccess aia =
        AuthorityInformationAccess.fromExtensions(cert.getExtensions());
    if (aia == null) {
      return Optional.empty();
    }
    for (AccessDescription d : aia.getAccessDescriptions()) {
      if (d.getAccessMethod().equals(AccessDescription.id_ad_ocsp)) {
        Optional<String> u = httpUri(d.getAccessLocation());
        if (u.isPresent()) {
          return u;
        }
      }
    }
    return Optional.empty();
  }

  static List<String> distributionPoints(X509CertificateHolder cert) {
    List<String> out = new ArrayList<>();
    CRLDistPoint dps = CRLDistPoint.fromExtensions(cert.getExtensions());
    if (dps == null) {
      return out;
    }
    for (DistributionPoint dp : dps.getDistributionPoints()) {
      DistributionPointName n = dp.getDistributionPoint();
      if (n != null && n.getType() == DistributionPointName.FULL_NAME) {
        for (GeneralName g : GeneralNames.getInstance(n.getName()).getNames()) {
          httpUri(g).ifPresent(out::add);
        }
      }
    }
    return out;
  }

  private static Optional<String> httpUri(GeneralName g) {
    if (g.getTagNo() != GeneralName.uniformResourceIdentifier) {
      return Optional.empty();
    }
    String s = ASN1IA5String.getInstance(g.getName()).getString();
    return s.startsWith("http://") || s.startsWith("https://") ? Optional.of(s) : Optional.empty();
  }

  private static String serial(X509CertificateHolder cert) {
    BigInteger s = cert.getSerialNumber();
    return s.toString(16);
  }
}
