package io.yinxin.sign.validate;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.sign.SignException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.bouncycastle.asn1.ASN1InputStream;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;

/**
 * Validation of SM2/SM3 PDF signatures, which EU DSS does not support: written here because no
 * maintained library validates them (GM/T 0010 CMS inside a PDF signature). For each signature
 * whose digest is SM3 it checks, in the terms of ETSI EN 319 102-1: the SM3 of the signed byte
 * ranges against the message-digest attribute (else TOTAL_FAILED / HASH_FAILURE); the SM3withSM2
 * signature over the signed attributes with the default signer ID (else TOTAL_FAILED /
 * SIG_CRYPTO_FAILURE); the signing-certificate-v2 hash of the signer's certificate (else
 * TOTAL_FAILED / FORMAT_FAILURE); a chain from the signer's certificate to a trust anchor, every
 * certificate's signature verified and valid at the claimed signing time (else INDETERMINATE /
 * NO_CERTIFICATE_CHAIN_FOUND or OUT_OF_BOUNDS_NO_POE); and, as an offline validator (like the DSS
 * validation beside it, nothing is fetched), the revocation status of every certificate of the
 * chain below the trust anchor from the revocation data in the document's {@code /DSS}: CRLs and
 * OCSP responses that verify with the issuer's key (or an OCSP responder the issuer certified for
 * OCSP signing) and name the certificate. Revoked at or before the claimed signing time:
 * TOTAL_FAILED / REVOKED; revoked later, with nothing proving the signature existed before:
 * INDETERMINATE / REVOKED_NO_POE; no such data (a B-B or B-T seal): INDETERMINATE / TRY_LATER.
 *
 * <p>Before all of that, the checks that concern the PDF rather than the cryptography — the ETSI
 * format checking (FC) building block — are taken from EU DSS, which runs them on every signature,
 * SM2 included, with Yinxin's policy: the byte range is the whole revision but the signature's own
 * {@code /Contents}, and nothing written after the signed revision is a change the signature does
 * not allow (an unsigned incremental update that replaces a page's content, a DocMDP, FieldMDP or
 * field-lock violation). A signature those checks fail, or that DSS did not find, is TOTAL_FAILED /
 * FORMAT_FAILURE with DSS's messages under {@code errors}. (Until 2026-12-07 only the signed bytes
 * were checked, so an SM2 seal whose page was rewritten by an appended update passed.)
 */
public final class Sm2Verifier {
  private final TrustAnchors anchors;

  public Sm2Verifier(TrustAnchors anchors) {
    this.anchors = anchors;
  }

  /** The revocation data in a document's {@code /DSS}, DER. */
  record Revocations(List<byte[]> crls, List<byte[]> ocsps) {
    static Revocations of(PDDocument doc) {
      var dss =
          doc.getDocumentCatalog()
              .getCOSObject()
              .getCOSDictionary(org.apache.pdfbox.cos.COSName.getPDFName("DSS"));
      return new Revocations(streams(dss, "CRLs"), streams(dss, "OCSPs"));
    }

    private static List<byte[]> streams(org.apache.pdfbox.cos.COSDictionary dss, String key) {
      List<byte[]> out = new ArrayList<>();
      var array =
          dss == null ? null : dss.getCOSArray(org.apache.pdfbox.cos.COSName.getPDFName(key));
      if (array == null) {
        return out;
      }
      for (org.apache.pdfbox.cos.COSBase b : array) {
        org.apache.pdfbox.cos.COSBase v =
            b instanceof org.apache.pdfbox.cos.COSObject o ? o.getObject() : b;
        if (v instanceof org.apache.pdfbox.cos.COSStream stream && out.size() < 1000) {
          try (var in = stream.createInputStream()) {
            out.add(in.readNBytes(10 * 1024 * 1024));
          } catch (IOException e) {
            // unreadable: not revocation data
          }
        }
      }
      return out;
    }
  }

  /** What the revocation data says of one certificate. */
  private record Status(boolean known, Date revokedAt) {}

  /**
   * DSS's format checking (FC) of each signature, by its byte range: its conclusion, or none where
   * DSS found no signature with that byte range.
   */
  static final class FormatChecks {
    private final Map<List<Long>, eu.europa.esig.dss.detailedreport.jaxb.XmlConclusion> byRange =
        new java.util.HashMap<>();

    FormatChecks(eu.europa.esig.dss.validation.reports.Reports dss) {
      for (var w : dss.getDiagnosticData().getSignatures()) {
        var revision = w.getPDFRevision();
        var bbb = dss.getDetailedReport().getBasicBuildingBlockById(w.getId());
        if (revision == null || bbb == null || bbb.getFC() == null) {
          continue;
        }
        byRange.put(
            revision.getSignatureByteRange().stream()
                .map(java.math.BigInteger::longValueExact)
                .toList(),
            bbb.getFC().getConclusion());
      }
    }

    /** Null when the checks passed; else the messages saying why not. */
    List<String> failures(int[] byteRange) {
      List<Long> key = Arrays.stream(byteRange).asLongStream().boxed().toList();
      var c = byRange.get(key);
      if (c == null) {
        return List.of("the PDF format checks found no signature with this byte range");
      }
      if (c.getIndication() == eu.europa.esig.dss.enumerations.Indication.PASSED) {
        return null;
      }
      List<String> out = c.getErrors().stream().map(m -> m.getValue()).toList();
      return out.isEmpty() ? List.of("the PDF format checks failed") : out;
    }
  }

  /**
   * A report per SM2 signature of the document, in document order; empty if it has none. Runs EU
   * DSS for the format checks; {@link #verify(Path, eu.europa.esig.dss.validation.reports.Reports)}
   * takes a run already made.
   */
  public List<Map<String, Object>> verify(Path pdf) {
    return verify(pdf, new PadesValidator(anchors).validate(pdf));
  }

  /**
   * A report per SM2 signature of the document, in document order; empty if it has none.
   *
   * @param dss the reports of {@link PadesValidator#validate} on the same document, whose format
   *     checks each SM2 signature must pass
   */
  public List<Map<String, Object>> verify(
      Path pdf, eu.europa.esig.dss.validation.reports.Reports dss) {
    FormatChecks formatChecks = new FormatChecks(dss);
    List<Map<String, Object>> out = new ArrayList<>();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(pdf);
    } catch (IOException e) {
      throw new SignException(SignException.Code.NOT_PDF, "the document could not be read");
    }
    io.yinxin.sign.pades.DecodeBudget.Scope budget = io.yinxin.sign.pades.DecodeBudget.open();
    try (PDDocument doc = Loader.loadPDF(pdf.toFile())) {
      Revocations revocations = Revocations.of(doc);
      for (PDSignature sig : doc.getSignatureDictionaries()) {
        Optional<Map<String, Object>> r = verifyOne(sig, bytes, revocations, formatChecks);
        r.ifPresent(out::add);
      }
      budget.check();
    } catch (IOException e) {
      throw budget.orTooLarge(
          new SignException(SignException.Code.NOT_PDF, "the document could not be read"));
    } catch (SignException e) {
      throw budget.orTooLarge(e);
    } finally {
      budget.close();
    }
    return out;
  }

  private Optional<Map<String, Object>> verifyOne(
      PDSignature sig, byte[] pdf, Revocations revocations, FormatChecks formatChecks) {
    CMSSignedData cms;
    byte[] signed;
    try {
      byte[] contents = sig.getContents(pdf);
      byte[] der;
      try (ASN1InputStream in = new ASN1InputStream(contents)) {
        der = in.readObject().getEncoded("DER");
      }
      signed = sig.getSignedContent(pdf);
      cms = new CMSSignedData(new CMSProcessableByteArray(signed), der);
    } catch (Exception e) {
      return Optional.empty(); // not a CMS signature: not ours to judge
    }
    SignerInformation si = cms.getSignerInfos().getSigners().iterator().next();
    if (!GMObjectIdentifiers.sm3.getId().equals(si.getDigestAlgOID())) {
      return Optional.empty();
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("algorithm", "SM3withSM2");
    r.put("signedBy", sig.getName());
    Date when = sig.getSignDate() == null ? new Date() : sig.getSignDate().getTime();
    r.put("claimedSigningTime", when.toInstant().toString());
    // ETSI EN 319 102-1's order: format checking first, then the signing certificate.
    List<String> formatFailures = formatChecks.failures(sig.getByteRange());
    if (formatFailures != null) {
      r.put("errors", formatFailures);
      return Optional.of(result(r, "TOTAL_FAILED", "FORMAT_FAILURE"));
    }
    @SuppressWarnings("unchecked")
    var matches = cms.getCertificates().getMatches(si.getSID());
    if (matches.isEmpty()) {
      return Optional.of(result(r, "INDETERMINATE", "NO_SIGNING_CERTIFICATE_FOUND"));
    }
    X509CertificateHolder signer = (X509CertificateHolder) matches.iterator().next();
    r.put("signer", signer.getSubject().toString());
    try {
      byte[] digest =
          MessageDigest.getInstance(GMObjectIdentifiers.sm3.getId(), BouncyCastle.PROVIDER)
              .digest(signed);
      Attribute md = si.getSignedAttributes().get(PKCSObjectIdentifiers.pkcs_9_at_messageDigest);
      byte[] claimed =
          org.bouncycastle.asn1.ASN1OctetString.getInstance(md.getAttrValues().getObjectAt(0))
              .getOctets();
      if (!MessageDigest.isEqual(digest, claimed)) {
        return Optional.of(result(r, "TOTAL_FAILED", "HASH_FAILURE"));
      }
      boolean ok;
      try {
        ok =
            si.verify(
                new JcaSimpleSignerInfoVerifierBuilder()
                    .setProvider(BouncyCastle.PROVIDER)
                    .build(signer));
      } catch (Exception e) {
        ok = false;
      }
      if (!ok) {
        return Optional.of(result(r, "TOTAL_FAILED", "SIG_CRYPTO_FAILURE"));
      }
      Attribute scv2 =
          si.getSignedAttributes().get(PKCSObjectIdentifiers.id_aa_signingCertificateV2);
      if (scv2 != null) {
        ESSCertIDv2 id =
            SigningCertificateV2.getInstance(scv2.getAttrValues().getObjectAt(0)).getCerts()[0];
        byte[] expected =
            MessageDigest.getInstance(
                    id.getHashAlgorithm().getAlgorithm().getId(), BouncyCastle.PROVIDER)
                .digest(signer.getEncoded());
        if (!Arrays.equals(expected, id.getCertHash())) {
          return Optional.of(result(r, "TOTAL_FAILED", "FORMAT_FAILURE"));
        }
      }
      @SuppressWarnings("unchecked")
      List<X509CertificateHolder> pool =
          new ArrayList<>(
              (java.util.Collection<X509CertificateHolder>) cms.getCertificates().getMatches(null));
      List<X509CertificateHolder> trusted = anchors.current();
      Optional<List<X509CertificateHolder>> chain = chain(signer, pool, trusted);
      if (chain.isEmpty()) {
        return Optional.of(result(r, "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND"));
      }
      for (X509CertificateHolder c : chain.get()) {
        if (!c.isValidOn(when)) {
          return Optional.of(result(r, "INDETERMINATE", "OUT_OF_BOUNDS_NO_POE"));
        }
      }
      r.put("chain", chain.get().stream().map(c -> c.getSubject().toString()).toList());
      // Every certificate below the anchor (the last of the chain), with its issuer.
      List<X509CertificateHolder> c = chain.get();
      for (int i = 0; i + 1 < c.size(); i++) {
        Status st = status(c.get(i), c.get(i + 1), revocations);
        if (st.revokedAt() != null) {
          r.put("revoked", c.get(i).getSubject().toString());
          r.put("revocationTime", st.revokedAt().toInstant().toString());
          return Optional.of(
              st.revokedAt().after(when)
                  ? result(r, "INDETERMINATE", "REVOKED_NO_POE")
                  : result(r, "TOTAL_FAILED", "REVOKED"));
        }
        if (!st.known()) {
          r.put("noRevocationData", c.get(i).getSubject().toString());
          return Optional.of(result(r, "INDETERMINATE", "TRY_LATER"));
        }
      }
      return Optional.of(result(r, "TOTAL_PASSED", null));
    } catch (Exception e) {
      return Optional.of(result(r, "TOTAL_FAILED", "FORMAT_FAILURE"));
    }
  }

  /** Signer first, then issuers verified by signature, ending at a trust anchor. */
  static Optional<List<X509CertificateHolder>> chain(
      X509CertificateHolder signer,
      List<X509CertificateHolder> pool,
      List<X509CertificateHolder> trusted) {
    List<X509CertificateHolder> chain = new ArrayList<>();
    X509CertificateHolder cur = signer;
    chain.add(cur);
    for (int depth = 0; depth < 10; depth++) {
      for (X509CertificateHolder t : trusted) {
        if (t.equals(cur) || (t.getSubject().equals(cur.getIssuer()) && signedBy(cur, t))) {
          if (!t.equals(cur)) {
            chain.add(t);
          }
          return Optional.of(chain);
        }
      }
      X509CertificateHolder next = null;
      for (X509CertificateHolder c : pool) {
        if (!c.equals(cur) && c.getSubject().equals(cur.getIssuer()) && signedBy(cur, c)) {
          next = c;
          break;
        }
      }
      if (next == null) {
        return Optional.empty();
      }
      chain.add(next);
      cur = next;
    }
    return Optional.empty();
  }

  /**
   * The certificate's status in the CRLs and OCSP responses that verify with its issuer's key (or
   * that of a responder the issuer certified for OCSP signing): revoked (earliest time) if any says
   * so, known if any speaks of it, else unknown.
   */
  static Status status(
      X509CertificateHolder cert, X509CertificateHolder issuer, Revocations revocations) {
    Date revoked = null;
    boolean known = false;
    for (byte[] der : revocations.crls()) {
      try {
        var crl = new org.bouncycastle.cert.X509CRLHolder(der);
        if (!crl.getIssuer().equals(issuer.getSubject())
            || !crl.isSignatureValid(verifier(issuer))) {
          continue;
        }
        known = true;
        var entry = crl.getRevokedCertificate(cert.getSerialNumber());
        if (entry != null) {
          revoked = earliest(revoked, entry.getRevocationDate());
        }
      } catch (Exception e) {
        // not a CRL of this issuer
      }
    }
    for (byte[] der : revocations.ocsps()) {
      try {
        var resp = new org.bouncycastle.cert.ocsp.OCSPResp(der);
        if (resp.getStatus() != org.bouncycastle.cert.ocsp.OCSPResp.SUCCESSFUL
            || !(resp.getResponseObject() instanceof org.bouncycastle.cert.ocsp.BasicOCSPResp b)
            || !signedByIssuerOrResponder(b, issuer)) {
          continue;
        }
        var digests =
            new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder()
                .setProvider(BouncyCastle.PROVIDER)
                .build();
        for (var single : b.getResponses()) {
          if (!single.getCertID().getSerialNumber().equals(cert.getSerialNumber())
              || !single.getCertID().matchesIssuer(issuer, digests)) {
            continue;
          }
          var s = single.getCertStatus();
          if (s == null) {
            known = true; // good
          } else if (s instanceof org.bouncycastle.cert.ocsp.RevokedStatus rs) {
            known = true;
            revoked = earliest(revoked, rs.getRevocationTime());
          }
        }
      } catch (Exception e) {
        // not an OCSP response of this issuer
      }
    }
    return new Status(known, revoked);
  }

  private static boolean signedByIssuerOrResponder(
      org.bouncycastle.cert.ocsp.BasicOCSPResp b, X509CertificateHolder issuer) throws Exception {
    if (b.isSignatureValid(verifier(issuer))) {
      return true;
    }
    for (X509CertificateHolder responder : b.getCerts()) {
      var eku =
          org.bouncycastle.asn1.x509.ExtendedKeyUsage.fromExtensions(responder.getExtensions());
      if (responder.getIssuer().equals(issuer.getSubject())
          && signedBy(responder, issuer)
          && eku != null
          && eku.hasKeyPurposeId(org.bouncycastle.asn1.x509.KeyPurposeId.id_kp_OCSPSigning)
          && b.isSignatureValid(verifier(responder))) {
        return true;
      }
    }
    return false;
  }

  private static org.bouncycastle.operator.ContentVerifierProvider verifier(X509CertificateHolder c)
      throws Exception {
    return new JcaContentVerifierProviderBuilder().setProvider(BouncyCastle.PROVIDER).build(c);
  }

  private static Date earliest(Date a, Date b) {
    return a == null || b.before(a) ? b : a;
  }

  private static boolean signedBy(X509CertificateHolder cert, X509CertificateHolder issuer) {
    try {
      return cert.isSignatureValid(
          new JcaContentVerifierProviderBuilder().setProvider(BouncyCastle.PROVIDER).build(issuer));
    } catch (Exception e) {
      return false;
    }
  }

  private static Map<String, Object> result(Map<String, Object> r, String ind, String sub) {
    r.put("indication", ind);
    if (sub != null) {
      r.put("subIndication", sub);
    }
    return r;
  }
}
