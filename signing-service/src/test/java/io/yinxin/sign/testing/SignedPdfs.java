package io.yinxin.sign.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.hsm.BouncyCastle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;

/** Bouncy Castle's CMS verifier as a judge of the signatures in a PDF. */
public final class SignedPdfs {
  private SignedPdfs() {}

  /**
   * The signer of signature {@code index} (-1: the last), after asserting that its CMS verifies
   * over the document's signed byte ranges with the certificate it carries.
   */
  public static SignerInformation verifiedSigner(Path pdf, int index) throws Exception {
    byte[] bytes = Files.readAllBytes(pdf);
    try (PDDocument doc = Loader.loadPDF(pdf.toFile())) {
      var sigs = doc.getSignatureDictionaries();
      PDSignature sig = sigs.get(index < 0 ? sigs.size() - 1 : index);
      CMSSignedData cms =
          new CMSSignedData(
              new CMSProcessableByteArray(sig.getSignedContent(bytes)),
              der(sig.getContents(bytes)));
      SignerInformation si = cms.getSignerInfos().getSigners().iterator().next();
      X509CertificateHolder cert =
          (X509CertificateHolder) cms.getCertificates().getMatches(si.getSID()).iterator().next();
      assertThat(
              si.verify(
                  new JcaSimpleSignerInfoVerifierBuilder()
                      .setProvider(BouncyCastle.PROVIDER)
                      .build(cert)))
          .isTrue();
      return si;
    }
  }

  /** The DER SignedData without the zero padding that fills the reserved /Contents. */
  public static byte[] der(byte[] contents) throws Exception {
    try (var in = new org.bouncycastle.asn1.ASN1InputStream(contents)) {
      return in.readObject().getEncoded("DER");
    }
  }
}
