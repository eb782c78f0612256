package io.yinxin.sign.validate;

import eu.europa.esig.dss.model.FileDocument;
import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.pades.validation.PDFDocumentValidator;
import eu.europa.esig.dss.simplereport.SimpleReport;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import eu.europa.esig.dss.spi.x509.CommonTrustedCertificateSource;
import eu.europa.esig.dss.validation.reports.Reports;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * Validates the signatures of a PDF with the EU DSS library (ETSI EN 319 102-1), offline: only the
 * configured trust anchors are trusted, no trusted list and no certificate, OCSP or CRL is fetched
 * at run time, so a seal validates from what it carries (B-LT) or not at all. DSS does not know
 * SM2/SM3; those signatures are reported as DSS sees them.
 */
public final class PadesValidator {
  /** The default of {@code yinxin.sign.max-signatures}. */
  public static final int DEFAULT_MAX_SIGNATURES = 100;

  private final TrustAnchors anchors;
  private final String policy;
  private final int maxSignatures;

  public PadesValidator(TrustAnchors anchors) {
    this(anchors, DEFAULT_MAX_SIGNATURES);
  }

  /**
   * @param maxSignatures documents with more signatures and document time-stamps are refused
   *     ({@code TOO_LARGE}) before DSS sees them: DSS's work grows a little faster than the number
   *     of signatures times the document's size (a 3.3 MB document with 40 seals took 2.3 s to
   *     validate, with 80 seals 5.4 s), so one request of 100 MB with thousands of revisions would
   *     hold a validation permit for many minutes
   */
  public PadesValidator(TrustAnchors anchors, int maxSignatures) {
    if (maxSignatures < 1) {
      throw new IllegalArgumentException("max-signatures must be positive");
    }
    this.anchors = anchors;
    this.policy = policy();
    this.maxSignatures = maxSignatures;
  }

  /**
   * Refuses a document with more than {@code maxSignatures} signature dictionaries, or with bytes
   * after its last signed revision that are not incremental updates ({@link SignedTail}). A reading
   * of its own, with a decode budget of its own, closed before DSS reads the document: so a
   * document DSS may read whole is not refused for having been read twice.
   */
  private void checkSignatureCount(Path pdf) {
    int n;
    long signedEnd = 0;
    io.yinxin.sign.pades.DecodeBudget.Scope budget = io.yinxin.sign.pades.DecodeBudget.open();
    try (org.apache.pdfbox.pdmodel.PDDocument doc =
        org.apache.pdfbox.Loader.loadPDF(
            new org.apache.pdfbox.io.RandomAccessReadBufferedFile(pdf.toFile()),
            "",
            null,
            null,
            org.apache.pdfbox.io.IOUtils.createTempFileOnlyStreamCache())) {
      var signatures = doc.getSignatureDictionaries();
      n = signatures.size();
      for (var sig : signatures) {
        int[] range = sig.getByteRange();
        if (range != null && range.length == 4) {
          signedEnd = Math.max(signedEnd, (long) range[2] + range[3]);
        }
      }
    } catch (IOException | RuntimeException e) {
      budget.check(); // a bomb is refused here, not read again by DSS
      return; // DSS reads it, or says it cannot
    } finally {
      budget.close();
    }
    budget.check();
    if (n > maxSignatures) {
      throw new SignException(
          Code.TOO_LARGE,
          "the document has "
              + n
              + " signatures and time-stamps; at most "
              + maxSignatures
              + " are validated (yinxin.sign.max-signatures)");
    }
    String tail;
    try {
      tail = SignedTail.problem(pdf, signedEnd);
    } catch (IOException e) {
      throw new SignException(Code.NOT_PDF, "the document could not be read for validation");
    }
    if (tail != null) {
      throw new SignException(Code.NOT_PDF, tail);
    }
  }

  /**
   * DSS's default validation policy with the PDF modification checks that it only warns about
   * raised to failures: a change a certification signature forbids (DocMDP, FieldMDP, a locked
   * field) or an unsigned change DSS cannot classify (page content written after the seal) fails
   * the signature instead of passing it with a warning.
   */
  private static String policy() {
    try (java.io.InputStream in =
        eu.europa.esig.dss.policy.ValidationPolicyFacade.class.getResourceAsStream(
            "/policy/constraint.xml")) {
      String xml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      for (String check : List.of("DocMDP", "FieldMDP", "SigFieldLock", "UndefinedChanges")) {
        String warn = "<" + check + " Level=\"WARN\" />";
        if (!xml.contains(warn)) {
          throw new IllegalStateException("DSS's default policy has no " + warn);
        }
        xml = xml.replace(warn, "<" + check + " Level=\"FAIL\" />");
      }
      return xml;
    } catch (IOException e) {
      throw new IllegalStateException("DSS's default validation policy cannot be read", e);
    }
  }

  /** The anchors this validator trusts (for the SM2 checks beside it). */
  public TrustAnchors anchors() {
    return anchors;
  }

  /** DSS's reports for every signature and time-stamp of the document. */
  public Reports validate(Path pdf) {
    CommonTrustedCertificateSource trusted = new CommonTrustedCertificateSource();
    for (X509CertificateHolder h : anchors.current()) {
      try {
        trusted.addCertificate(DSSUtils.loadCertificate(h.getEncoded()));
      } catch (IOException | RuntimeException e) {
        // DSS cannot load an SM2 (SM3withSM2) root; SM2 seals are checked without DSS.
      }
    }
    CommonCertificateVerifier verifier = new CommonCertificateVerifier();
    verifier.setTrustedCertSources(trusted);
    verifier.setAIASource(null);
    verifier.setOcspSource(null);
    verifier.setCrlSource(null);
    checkSignatureCount(pdf);
    io.yinxin.sign.pades.DecodeBudget.Scope budget = io.yinxin.sign.pades.DecodeBudget.open();
    try {
      PDFDocumentValidator validator = new Sm2TolerantPdfValidator(new FileDocument(pdf.toFile()));
      validator.setCertificateVerifier(verifier);
      validator.setPdfObjFactory(new PaddingTolerantPdfObjFactory());
      Reports reports =
          validator.validateDocument(
              eu.europa.esig.dss.policy.ValidationPolicyFacade.newFacade()
                  .getValidationPolicy(
                      new java.io.ByteArrayInputStream(
                          policy.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
      // DSS reports on what PDFBox could read: not on a document it was not let decode.
      budget.check();
      return reports;
    } catch (jakarta.xml.bind.JAXBException
        | javax.xml.stream.XMLStreamException
        | IOException
        | org.xml.sax.SAXException e) {
      throw new IllegalStateException("the validation policy cannot be loaded", e);
    } catch (SignException e) {
      throw e;
    } catch (RuntimeException e) {
      throw budget.orTooLarge(
          new SignException(Code.NOT_PDF, "the document could not be read for validation"));
    } finally {
      budget.close();
    }
  }

  /** A JSON-ready summary per signature, in the vocabulary of ETSI EN 319 102-1. */
  public static List<Map<String, Object>> summary(Reports reports) {
    SimpleReport simple = reports.getSimpleReport();
    List<Map<String, Object>> out = new ArrayList<>();
    for (String id : simple.getSignatureIdList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", id);
      m.put("indication", String.valueOf(simple.getIndication(id)));
      if (simple.getSubIndication(id) != null) {
        m.put("subIndication", simple.getSubIndication(id).name());
      }
      m.put("format", String.valueOf(simple.getSignatureFormat(id)));
      m.put("signedBy", simple.getSignedBy(id));
      if (simple.getSigningTime(id) != null) {
        m.put("claimedSigningTime", simple.getSigningTime(id).toInstant().toString());
      }
      if (simple.getBestSignatureTime(id) != null) {
        m.put("provenSigningTime", simple.getBestSignatureTime(id).toInstant().toString());
      }
      m.put(
          "timestamps",
          simple.getSignatureTimestamps(id).stream()
              .map(t -> Map.of("indication", String.valueOf(t.getIndication())))
              .toList());
      m.put(
          "errors",
          simple.getAdESValidationErrors(id).stream().map(msg -> msg.getValue()).toList());
      m.put(
          "warnings",
          simple.getAdESValidationWarnings(id).stream().map(msg -> msg.getValue()).toList());
      out.add(m);
    }
    return out;
  }

  static CertificateToken token(X509CertificateHolder h) throws IOException {
    return DSSUtils.loadCertificate(h.getEncoded());
  }
}
