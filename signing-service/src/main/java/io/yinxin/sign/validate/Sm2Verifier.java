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
 * NO_CERTIFICATE_CHAIN_FOUND or OUT_OF_BOUNDS_NO_POE). Revocation of SM2 certificates is not
 * checked yet.
 */
public final class Sm2Verifier {
  private final TrustAnchors anchors;

  public Sm2Verifier(TrustAnchors anchors) {
    this.anchors = anchors;
  }

  /** A report per SM2 signature of the document, in document order; empty if it has none. */
  public List<Map<String, Object>> verify(Path pdf) {
    List<Map<String, Object>> out = new ArrayList<>();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(pdf);
    } catch (IOException e) {
      throw new SignException(SignException.Code.NOT_PDF, "the document could not be read");
    }
    try (PDDocument doc = Loader.loadPDF(pdf.toFile())) {
      for (PDSignature sig : doc.getSignatureDictionaries()) {
        Optional<Map<String, Object>> r = verifyOne(sig, bytes);
        r.ifPresent(out::add);
      }
    } catch (IOException e) {
      throw new SignException(SignException.Code.NOT_PDF, "the document could not be read");
    }
    return out;
  }

  private Optional<Map<String, Object>> verifyOne(PDSignature sig, byte[] pdf) {
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
