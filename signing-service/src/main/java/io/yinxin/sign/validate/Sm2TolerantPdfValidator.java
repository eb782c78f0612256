package io.yinxin.sign.validate;

import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.DSSException;
import eu.europa.esig.dss.model.x509.revocation.crl.CRL;
import eu.europa.esig.dss.model.x509.revocation.ocsp.OCSP;
import eu.europa.esig.dss.pades.validation.PAdESSignature;
import eu.europa.esig.dss.pades.validation.PDFDocumentAnalyzer;
import eu.europa.esig.dss.pades.validation.PDFDocumentValidator;
import eu.europa.esig.dss.pades.validation.PdfRevision;
import eu.europa.esig.dss.pdf.PdfSignatureRevision;
import eu.europa.esig.dss.spi.signature.AdvancedSignature;
import eu.europa.esig.dss.spi.x509.ListCertificateSource;
import eu.europa.esig.dss.spi.x509.revocation.ListRevocationSource;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.cms.SignerInformation;

/**
 * EU DSS's PDF validator, made to report on documents that hold SM2/SM3 signatures too. DSS 6.2
 * cannot load an SM3withSM2 certificate ("Unsupported algorithm 1.2.156.10197.1.501"), so it never
 * finds an SM2 signature's signing certificate; and when the document also carries revocation data
 * (every B-LT seal does, in its {@code /DSS}), its search for the signature's level asks for the
 * certificate chain of that signing certificate and throws "No signing certificate found": the
 * whole document's validation failed, ECDSA and RSA seals beside it included, and {@code POST
 * /sign/v1/validate} answered every B-LT SM2 seal 400 {@code NOT_PDF}. Here an SM2 signature is
 * given to DSS without the document's revocation data (DSS could not use it for that signature
 * anyway: Yinxin's {@link Sm2Verifier} judges its revocation from the same {@code /DSS}), and a
 * level DSS still cannot determine is reported as the plain CMS level. Everything else DSS does
 * with the signature is unchanged: above all its PDF format checks (byte range, signature
 * dictionary, changes after the signed revision), which the SM2 verdict takes from it.
 */
final class Sm2TolerantPdfValidator extends PDFDocumentValidator {
  Sm2TolerantPdfValidator(DSSDocument document) {
    super(new Analyzer(document));
  }

  /** Whether the signature's (first) signer used SM3, as every SM2 PDF signature does. */
  static boolean isSm3(PdfSignatureRevision revision) {
    try {
      SignerInformation si =
          revision.getCMSSignedData().getSignerInfos().getSigners().iterator().next();
      return GMObjectIdentifiers.sm3.getId().equals(si.getDigestAlgOID());
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static final class Analyzer extends PDFDocumentAnalyzer {
    Analyzer(DSSDocument document) {
      super(document);
    }

    @Override
    protected List<AdvancedSignature> buildSignatures() {
      List<AdvancedSignature> built = super.buildSignatures();
      List<AdvancedSignature> out = new ArrayList<>(built.size());
      for (AdvancedSignature s : built) {
        if (s instanceof PAdESSignature p && isSm3(p.getPdfRevision())) {
          Sm2Signature sm2 = new Sm2Signature(p.getPdfRevision(), getRevisions());
          sm2.setSignatureFilename(p.getSignatureFilename());
          sm2.setSigningCertificateSource(signingCertificateSource);
          sm2.setDssCertificateSource(new ListCertificateSource());
          sm2.setDssCRLSource(new ListRevocationSource<CRL>());
          sm2.setDssOCSPSource(new ListRevocationSource<OCSP>());
          if (certificateVerifier != null) {
            sm2.initBaselineRequirementsChecker(certificateVerifier);
          }
          validateSignaturePolicy(sm2);
          out.add(sm2);
        } else {
          out.add(s);
        }
      }
      return out;
    }
  }

  private static final class Sm2Signature extends PAdESSignature {
    private static final long serialVersionUID = 1L;

    Sm2Signature(PdfSignatureRevision revision, List<PdfRevision> revisions) {
      super(revision, revisions);
    }

    @Override
    public SignatureLevel getDataFoundUpToLevel() {
      try {
        return super.getDataFoundUpToLevel();
      } catch (DSSException e) {
        return SignatureLevel.PAdES_BES; // its certificate chain, unknown to DSS, is all it lacks
      }
    }
  }
}
