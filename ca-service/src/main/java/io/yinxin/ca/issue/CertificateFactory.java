package io.yinxin.ca.issue;

import io.yinxin.ca.profile.Profile;
import io.yinxin.hsm.Randomness;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.CertificatePolicies;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.PolicyInformation;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.X509ObjectIdentifiers;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;

/**
 * Builds certificates: CA certificates for the hierarchy and end-entity certificates under a
 * profile. The caller supplies the checked names and key and a signer whose key stays in its
 * backend.
 */
public final class CertificateFactory {
  /** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1). */
  public static final ASN1ObjectIdentifier OCSP_NOCHECK =
      new ASN1ObjectIdentifier("1.3.6.1.5.5.7.48.1.5");

  /** Certificates start a little in the past so relying parties with slow clocks accept them. */
  static final Duration BACKDATE = Duration.ofMinutes(1);

  private static final BcX509ExtensionUtils EXT = new BcX509ExtensionUtils();

  private CertificateFactory() {}

  /** A new serial number: 126 bits from a CSPRNG, positive, never zero (RFC 5280 §4.1.2.2). */
  public static BigInteger newSerial() {
    byte[] b = new byte[16];
    Randomness.current().nextBytes(b);
    b[0] = (byte) (0x40 | (b[0] & 0x3f));
    return new BigInteger(1, b);
  }

  /**
   * A self-signed root or a subordinate CA certificate.
   *
   * @param issuer the parent, or empty for a self-signed root (then {@code selfSigner} signs)
   */
  public static X509CertificateHolder caCertificate(
      X500Name subject,
      SubjectPublicKeyInfo key,
      int validityDays,
      int pathLength,
      List<String> policies,
      List<String> extendedKeyUsage,
      Optional<Issuer> issuer,
      ContentSigner signer,
      Urls urls,
      Instant now) {
    Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS).minus(BACKDATE);
    Instant notAfter = notBefore.plus(Duration.ofDays(validityDays));
    if (issuer.isPresent()) {
      notAfter = min(notAfter, issuer.get().certificate().getNotAfter().toInstant());
    }
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            issuer.map(Issuer::subject).orElse(subject),
            newSerial(),
            Date.from(notBefore),
            Date.from(notAfter),
            subject,
            key);
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLength));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(key));
      if (issuer.isPresent()) {
        Issuer parent = issuer.get();
        b.addExtension(Extension.authorityKeyIdentifier, false, parent.authorityKeyIdentifier());
        b.addExtension(Extension.cRLDistributionPoints, false, crlDp(urls.crl(parent.name(), 0)));
        // OCSP too: relying parties that check every level can ask about this CA (its row is
        // stored like any certificate's, and the parent's responder answers for it).
        b.addExtension(
            Extension.authorityInfoAccess,
            false,
            AuthorityInformationAccess.getInstance(
                new DERSequence(
                    new AccessDescription[] {
                      new AccessDescription(X509ObjectIdentifiers.id_ad_ocsp, uri(urls.ocsp())),
                      new AccessDescription(
                          X509ObjectIdentifiers.id_ad_caIssuers,
                          uri(urls.caCertificate(parent.name())))
                    })));
        if (!policies.isEmpty()) {
          b.addExtension(
              Extension.certificatePolicies,
              false,
              new CertificatePolicies(
                  policies.stream()
                      .map(o -> new PolicyInformation(new ASN1ObjectIdentifier(o)))
                      .toArray(PolicyInformation[]::new)));
        }
        if (!extendedKeyUsage.isEmpty()) {
          b.addExtension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(
                  extendedKeyUsage.stream()
                      .map(o -> KeyPurposeId.getInstance(new ASN1ObjectIdentifier(o)))
                      .toArray(KeyPurposeId[]::new)));
        }
      }
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    return b.build(signer);
  }

  /**
   * An end-entity certificate under a profile.
   *
   * @param partition the CRL partition the certificate points at
   */
  public static X509CertificateHolder endEntity(
      Profile profile,
      Issuer issuer,
      BigInteger serial,
      Names.Checked names,
      SubjectPublicKeyInfo key,
      int partition,
      Urls urls,
      Instant now,
      ContentSigner signer) {
    return endEntity(
        profile, issuer, serial, names, key, partition, urls, now, Instant.MAX, signer);
  }

  /**
   * An end-entity certificate under a profile that ends no later than {@code latest} (a re-issued
   * certificate keeps the end of the one it replaces).
   */
  public static X509CertificateHolder endEntity(
      Profile profile,
      Issuer issuer,
      BigInteger serial,
      Names.Checked names,
      SubjectPublicKeyInfo key,
      int partition,
      Urls urls,
      Instant now,
      Instant latest,
      ContentSigner signer) {
    Instant notBefore = now.truncatedTo(ChronoUnit.SECONDS).minus(BACKDATE);
    Instant notAfter =
        min(
            min(
                notBefore.plus(Duration.ofDays(profile.validityDays())),
                issuer.certificate().getNotAfter().toInstant()),
            latest);
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            issuer.subject(),
            serial,
            Date.from(notBefore),
            Date.from(notAfter),
            names.subject(),
            key);
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage(profile)));
      if (!profile.extendedKeyUsage().isEmpty()) {
        KeyPurposeId[] ids =
            profile.extendedKeyUsage().stream()
                .map(o -> KeyPurposeId.getInstance(new ASN1ObjectIdentifier(o)))
                .toArray(KeyPurposeId[]::new);
        b.addExtension(
            Extension.extendedKeyUsage,
            profile.extendedKeyUsageCritical(),
            new ExtendedKeyUsage(ids));
      }
      b.addExtension(Extension.subjectKeyIdentifier, false, EXT.createSubjectKeyIdentifier(key));
      b.addExtension(Extension.authorityKeyIdentifier, false, issuer.authorityKeyIdentifier());
      if (!profile.policies().isEmpty()) {
        PolicyInformation[] pis =
            profile.policies().stream()
                .map(o -> new PolicyInformation(new ASN1ObjectIdentifier(o)))
                .toArray(PolicyInformation[]::new);
        b.addExtension(Extension.certificatePolicies, false, new CertificatePolicies(pis));
      }
      if (names.san().isPresent()) {
        // RFC 5280 §4.2.1.6: with an empty subject the SAN carries the identity and is critical.
        boolean emptySubject = names.subject().getRDNs().length == 0;
        b.addExtension(Extension.subjectAlternativeName, emptySubject, names.san().get());
      }
      List<AccessDescription> aia = new ArrayList<>();
      if (profile.ocspNoCheck()) {
        // A delegated OCSP signer is not itself checked by OCSP (RFC 6960 §4.2.2.2.1).
        b.addExtension(OCSP_NOCHECK, false, DERNull.INSTANCE);
      } else {
        aia.add(new AccessDescription(X509ObjectIdentifiers.id_ad_ocsp, uri(urls.ocsp())));
        b.addExtension(
            Extension.cRLDistributionPoints, false, crlDp(urls.crl(issuer.name(), partition)));
        b.addExtension(
            Extension.freshestCRL, false, crlDp(urls.deltaCrl(issuer.name(), partition)));
      }
      aia.add(
          new AccessDescription(
              X509ObjectIdentifiers.id_ad_caIssuers, uri(urls.caCertificate(issuer.name()))));
      b.addExtension(
          Extension.authorityInfoAccess,
          false,
          AuthorityInformationAccess.getInstance(
              new DERSequence(aia.toArray(AccessDescription[]::new))));
    } catch (CertIOException e) {
      throw new IllegalStateException(e);
    }
    return b.build(signer);
  }

  static int keyUsage(Profile p) {
    int bits = 0;
    for (String k : p.keyUsage()) {
      bits |=
          switch (k) {
            case "digitalSignature" -> KeyUsage.digitalSignature;
            case "nonRepudiation" -> KeyUsage.nonRepudiation;
            case "keyEncipherment" -> KeyUsage.keyEncipherment;
            case "dataEncipherment" -> KeyUsage.dataEncipherment;
            case "keyAgreement" -> KeyUsage.keyAgreement;
            default -> throw new IllegalArgumentException("key usage " + k);
          };
    }
    return bits;
  }

  static CRLDistPoint crlDp(String url) {
    return new CRLDistPoint(
        new DistributionPoint[] {
          new DistributionPoint(new DistributionPointName(new GeneralNames(uri(url))), null, null)
        });
  }

  static GeneralName uri(String url) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, url);
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }
}
