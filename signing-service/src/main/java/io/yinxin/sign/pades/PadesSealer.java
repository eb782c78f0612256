package io.yinxin.sign.pades;

import io.yinxin.hsm.KeyService;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import io.yinxin.sign.seal.SealDrawing;
import io.yinxin.sign.seal.SealFont;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.io.IOUtils;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.common.PDStream;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.pdmodel.font.PDType0Font;
import org.apache.pdfbox.pdmodel.graphics.form.PDFormXObject;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAnnotationWidget;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceDictionary;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceStream;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SigningSupport;
import org.apache.pdfbox.pdmodel.interactive.form.PDAcroForm;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationStore;
import org.bouncycastle.tsp.TimeStampToken;

/**
 * Seals PDF documents: PAdES baseline signatures (SubFilter {@code ETSI.CAdES.detached}) added by
 * incremental update with PDFBox, so every earlier byte and every earlier signature stays as it
 * was; visible (the drawn or uploaded seal in a box on a page) or invisible; approval or
 * certification (DocMDP). The document is read from and written to files, and PDFBox caches streams
 * in temporary files, so memory does not grow with the document.
 *
 * <p>Refuses, changing nothing: anything PDFBox cannot parse ({@code NOT_PDF}), encrypted documents
 * ({@code ENCRYPTED}), documents whose permissions forbid changes ({@code
 * MODIFICATION_RESTRICTED}), documents certified with DocMDP P=1 ({@code DOCMDP_FORBIDS}), a
 * certification requested on an already signed document, and placements outside the document.
 */
public final class PadesSealer {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PadesSealer.class);

  /** Bytes reserved for the CMS (hex-encoded, so twice this in the file). */
  static final int SIGNATURE_SIZE = 24 * 1024;

  /** Bytes reserved for a document time-stamp token (with its TSA chain). */
  static final int DOC_TIMESTAMP_SIZE = 12 * 1024;

  /**
   * Bytes to reserve for a seal's CMS: its certificates, a signature, the signed attributes, and
   * for B-T and above a time-stamp token with its own chain. Every reserved byte is written as two
   * hex digits and read back by every validator, so reserving far too much costs more than the
   * signature itself; too little is caught before anything is returned and retried larger.
   */
  static int reservation(SealIdentity seal, SealOptions.Level level) {
    int size = seal.chainBytes() + 2048;
    if (level.compareTo(SealOptions.Level.B_T) >= 0) {
      size += 8192;
    }
    return Math.min(size, SIGNATURE_SIZE * 4);
  }

  /** A PDF date (ISO 32000-2, 7.9.4) in UTC, as PDFBox's DateConverter writes it. */
  static final java.time.format.DateTimeFormatter PDF_DATE =
      java.time.format.DateTimeFormatter.ofPattern(
              "'D:'yyyyMMddHHmmss'+00''00'''", java.util.Locale.ROOT)
          .withZone(java.time.ZoneOffset.UTC);

  private final KeyService keys;
  private final Optional<SealFont> font;
  private final Optional<TimeStamps> timeStamps;
  private final RevocationFetcher revocation;

  public PadesSealer(
      KeyService keys,
      Optional<SealFont> font,
      Optional<TimeStamps> timeStamps,
      RevocationFetcher revocation) {
    this.keys = keys;
    this.font = font;
    this.timeStamps = timeStamps;
    this.revocation = revocation;
  }

  /**
   * Seals {@code input} into {@code output} (which must differ from it). B-LT adds a second
   * incremental update with the DSS (the chains of the seal and of its time-stamp, their OCSP
   * responses or CRLs); B-LTA a third, a document time-stamp over all of it. On any failure {@code
   * output} is removed: no partial document is left.
   */
  public void seal(Path input, Path output, SealIdentity seal, SealOptions options) {
    seal(Source.of(input), output, seal, options, false);
  }

  /**
   * Seals as {@link #seal} and records it: one {@code DOCUMENT_SEALED} event (the caller, the seal,
   * its key and algorithm, the document's SHA-256 before and after, the level, the certification
   * and the signing time), durable in {@code audit} before this returns. That event is the record
   * of the seal key's use — it names the key, as the CA's {@code CERT_ISSUED} does — so the
   * signature adds no {@code KEY_USED} event of its own: one durable append per seal. If the event
   * cannot be recorded, {@code output} is removed: no sealed document leaves without its evidence.
   */
  public void sealAndRecord(
      Path input,
      Path output,
      SealIdentity seal,
      SealOptions options,
      String caller,
      io.yinxin.audit.AuditLog audit) {
    Source source = Source.of(input);
    String before = source.sha256();
    String written = seal(source, output, seal, options, true);
    try {
      java.util.Map<String, String> attributes = new java.util.LinkedHashMap<>();
      attributes.put("documentSha256Before", before);
      attributes.put("documentSha256After", written != null ? written : sha256(output));
      attributes.put("level", options.level().label());
      attributes.put("certify", Integer.toString(options.certify()));
      attributes.put("signingTime", options.signingTime().toString());
      attributes.put("key", seal.key().toString());
      attributes.put("algorithm", seal.algorithm().name());
      audit.append(
          io.yinxin.audit.AuditEvent.of(
              io.yinxin.audit.EventType.DOCUMENT_SEALED, caller, seal.id(), attributes));
    } catch (RuntimeException e) {
      deleteQuietly(output);
      throw e;
    }
  }

  private static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[16 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return java.util.HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new SignException(Code.UNAVAILABLE, "the document could not be read", e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A document to seal: its file, and its bytes when it is small ({@link Source#IN_MEMORY} or
   * less), read once for its hash, its parsing and its incremental update.
   */
  private record Source(Path path, byte[] bytes) {
    static final long IN_MEMORY = 1 << 20;

    static Source of(Path path) {
      try {
        return new Source(path, Files.size(path) <= IN_MEMORY ? Files.readAllBytes(path) : null);
      } catch (IOException e) {
        throw new SignException(Code.UNAVAILABLE, "the document could not be read", e);
      }
    }

    org.apache.pdfbox.io.RandomAccessRead open() throws IOException {
      return bytes != null
          ? new org.apache.pdfbox.io.RandomAccessReadBuffer(bytes)
          : new org.apache.pdfbox.io.RandomAccessReadBufferedFile(path.toFile());
    }

    String sha256() {
      if (bytes == null) {
        return PadesSealer.sha256(path);
      }
      try {
        return java.util.HexFormat.of()
            .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * Seals; returns the SHA-256 of the sealed document when it was taken while writing it (a seal
   * below B-LT, written once), otherwise {@code null}.
   */
  private String seal(
      Source input, Path output, SealIdentity seal, SealOptions options, boolean recordedByCaller) {
    if (options.level().compareTo(SealOptions.Level.B_T) >= 0 && timeStamps.isEmpty()) {
      throw new SignException(
          Code.UNAVAILABLE,
          "level " + options.level().label() + " needs a time-stamping authority");
    }
    if (!seal.validAt(options.signingTime())) {
      throw new SignException(
          Code.CERTIFICATE_EXPIRED, "the seal's certificate is not valid at the signing time");
    }
    // Fetched before anything is written, so a revoked seal certificate writes nothing.
    RevocationFetcher.Data sealData =
        options.level().compareTo(SealOptions.Level.B_LT) >= 0
            ? revocation.forChain(seal.chain())
            : null;
    Path tmp = output.resolveSibling(output.getFileName() + ".part");
    DecodeBudget.Scope budget = DecodeBudget.open();
    try {
      Stage stage;
      try {
        stage = signStage(input, output, seal, options, recordedByCaller, true);
      } catch (NotStrict e) {
        // PDFBox would have to repair this document to read it: seal what it repairs, then make
        // sure every reader finds the sealed document.
        deleteQuietly(output);
        stage = signStage(input, output, seal, options, recordedByCaller, false);
        checkReadsBack(output, stage.signaturesBefore() + 1);
      }
      if (sealData == null) {
        return stage.sha256();
      }
      List<X509CertificateHolder> tsaChain = stage.tsaChain();
      if (sealData != null) {
        RevocationFetcher.Data tsaData = revocation.forChain(tsaChain);
        List<byte[]> certs = new java.util.ArrayList<>();
        for (List<X509CertificateHolder> list :
            List.of(seal.chain(), tsaChain, sealData.certs(), tsaData.certs())) {
          for (X509CertificateHolder c : list) {
            certs.add(c.getEncoded());
          }
        }
        List<byte[]> ocsps = new java.util.ArrayList<>(sealData.ocsps());
        ocsps.addAll(tsaData.ocsps());
        List<byte[]> crls = new java.util.ArrayList<>(sealData.crls());
        crls.addAll(tsaData.crls());
        try (OutputStream out = Files.newOutputStream(tmp)) {
          DssWriter.add(output, out, certs, ocsps, crls);
        }
        Files.move(tmp, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      if (options.level() == SealOptions.Level.B_LTA) {
        try (OutputStream out = Files.newOutputStream(tmp)) {
          documentTimeStamp(output, out);
        }
        Files.move(tmp, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      budget.check();
    } catch (java.nio.file.FileSystemException e) {
      deleteQuietly(output);
      throw new SignException(Code.UNAVAILABLE, "the document could not be written", e);
    } catch (IOException e) {
      // PDFBox parsed the document but could not write it back: a damaged document.
      deleteQuietly(output);
      throw budget.orTooLarge(
          new SignException(Code.NOT_PDF, "the document is damaged and cannot be sealed"));
    } catch (SignException e) {
      deleteQuietly(output);
      throw budget.orTooLarge(e);
    } catch (RuntimeException e) {
      deleteQuietly(output);
      if (budget.exceeded()) {
        throw DecodeBudget.tooLarge();
      }
      // PDFBox failing on a structure it accepted while parsing (a damaged document); logged so
      // that a defect of ours is not mistaken for bad input for long.
      log.warn("event=seal_failed reason={}", e.getClass().getSimpleName());
      throw new SignException(Code.NOT_PDF, "the document's structure cannot be sealed");
    } finally {
      budget.close();
      if (sealData != null) {
        deleteQuietly(tmp); // written only by the B-LT and B-LTA stages
      }
    }
    return null;
  }

  /**
   * The sealed file must read back: PDFBox repairs a damaged document while parsing, but an
   * incremental update keeps the damage, so a reader may find another (or no) document there. Such
   * a file is not returned: the caller gets {@code NOT_PDF}. Only documents that did not read
   * without repairs come here: one that reads without them is sound as written.
   */
  private static void checkReadsBack(Path output, int expectedSignatures) {
    try (PDDocument doc = open(output)) {
      List<PDSignature> sigs = doc.getSignatureDictionaries();
      if (sigs.size() != expectedSignatures || doc.getNumberOfPages() == 0) {
        throw new SignException(
            Code.NOT_PDF, "the document is damaged: it does not read back after sealing");
      }
      int[] range = sigs.get(sigs.size() - 1).getByteRange();
      if (range.length != 4 || range[0] != 0 || (long) range[2] + range[3] != Files.size(output)) {
        throw new SignException(
            Code.NOT_PDF, "the document is damaged: it does not read back after sealing");
      }
    } catch (IOException e) {
      throw new SignException(Code.NOT_PDF, "the document is damaged: it does not read back");
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // a temporary file; the OS cleans up
    }
  }

  /** The document time-stamp of B-LTA (SubFilter ETSI.RFC3161) over the whole document. */
  private void documentTimeStamp(Path input, OutputStream out) throws IOException {
    Opened read = read(new Source(input, null));
    try (PDDocument doc = read.doc();
        SignatureOptions so = new SignatureOptions()) {
      PDSignature ts = new PDSignature();
      ts.setType(COSName.DOC_TIME_STAMP);
      ts.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
      ts.setSubFilter(COSName.getPDFName("ETSI.RFC3161"));
      so.setPreferredSignatureSize(DOC_TIMESTAMP_SIZE);
      doc.addSignature(ts, so);
      try (SigningSupport external = SigningWriter.saveIncremental(doc, read.source(), out)) {
        byte[] digest;
        try (InputStream content = external.getContent()) {
          digest = CadesSignature.digest(io.yinxin.hsm.SignatureAlgorithm.ECDSA_SHA256, content);
        }
        TimeStampToken token =
            timeStamps.orElseThrow().stamp(org.bouncycastle.tsp.TSPAlgorithms.SHA256, digest);
        byte[] encoded = token.getEncoded();
        if (encoded.length > DOC_TIMESTAMP_SIZE) {
          throw new SignException(Code.UNAVAILABLE, "the TSA's token is larger than reserved");
        }
        external.setSignature(encoded);
      }
    }
  }

  /** What the signing stage leaves for the next ones. */
  private record Stage(List<X509CertificateHolder> tsaChain, int signaturesBefore, String sha256) {}

  /**
   * The document does not read without repairs (or failed before its signature was made while read
   * without them): sealed again the lenient way, with the read-back check.
   */
  private static final class NotStrict extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotStrict() {
      super(null, null, false, false);
    }
  }

  /**
   * A document and the reader it was parsed from, which its incremental update copies (and which
   * closing the document closes).
   */
  record Opened(PDDocument doc, org.apache.pdfbox.io.RandomAccessRead source) {}

  /** The document read without repairs, or {@code null} when it needs any (or cannot be read). */
  static PDDocument openStrict(Path input) {
    Opened o = readStrict(new Source(input, null));
    return o == null ? null : o.doc();
  }

  private static Opened readStrict(Source input) {
    org.apache.pdfbox.io.RandomAccessRead source = null;
    try {
      source = input.open();
      // Not lenient: no brute-force search for objects or cross-reference sections, no rebuilt
      // trailer, no guessed stream lengths. What it reads is what any reader of the file finds.
      return new Opened(
          new org.apache.pdfbox.pdfparser.PDFParser(source, "", null, null, STREAM_CACHE)
              .parse(false),
          source);
    } catch (IOException | RuntimeException e) {
      IOUtils.closeQuietly(source);
      return null;
    }
  }

  /**
   * Signs with a reservation sized to the seal, once more with a larger one if the CMS outgrew it.
   */
  private Stage signStage(
      Source input,
      Path output,
      SealIdentity seal,
      SealOptions options,
      boolean recordedByCaller,
      boolean strict)
      throws IOException {
    try {
      return signStage(
          input,
          output,
          seal,
          options,
          reservation(seal, options.level()),
          recordedByCaller,
          strict);
    } catch (ReservationTooSmall e) {
      deleteQuietly(output);
      return signStage(input, output, seal, options, e.needed + 2048, recordedByCaller, strict);
    }
  }

  /** The CMS came out larger than the space reserved for it; signed again with this much. */
  private static final class ReservationTooSmall extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int needed;

    ReservationTooSmall(int needed) {
      super(null, null, false, false);
      this.needed = needed;
    }
  }

  private Stage signStage(
      Source input,
      Path output,
      SealIdentity seal,
      SealOptions options,
      int reserved,
      boolean recordedByCaller,
      boolean strict)
      throws IOException {
    Opened read = strict ? readStrict(input) : read(input);
    if (read == null) {
      throw new NotStrict();
    }
    PDDocument opened = read.doc();
    List<X509CertificateHolder> tsaChain = new java.util.ArrayList<>();
    java.security.MessageDigest written; // every byte of the sealed file, as it is written
    try {
      written = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      IOUtils.closeQuietly(opened);
      throw new IllegalStateException(e);
    }
    int signaturesBefore;
    boolean signing = false; // from here on a failure is not the document's
    try (PDDocument doc = opened) {
      checkCanSign(doc, options);
      signaturesBefore = doc.getSignatureDictionaries().size();
      SealFont.Open fieldFont = null; // open until the document (and its font subset) is saved
      SigningSupport external = null; // reads the input until the signature is written
      PDSignature signature = new PDSignature();
      signature.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
      signature.setSubFilter(COSName.getPDFName("ETSI.CAdES.detached"));
      signature.setName(seal.name());
      options.reason().ifPresent(signature::setReason);
      options.location().ifPresent(signature::setLocation);
      // What PDSignature.setSignDate writes for a UTC calendar, without its Calendar formatting.
      signature.getCOSObject().setString(COSName.M, PDF_DATE.format(options.signingTime()));
      if (options.certify() > 0) {
        DocMdp.certify(doc, signature, options.certify());
      }
      try (SignatureOptions so = new SignatureOptions();
          OutputStream out =
              new java.io.BufferedOutputStream(
                  new java.security.DigestOutputStream(Files.newOutputStream(output), written),
                  16 * 1024)) {
        so.setPreferredSignatureSize(reserved);
        Optional<PDAnnotationWidget> fieldWidget = Optional.empty();
        PDRectangle fieldRect = null;
        if (options.placement() instanceof SealOptions.Placement.Field f) {
          fieldWidget = fillField(doc, signature, f);
          fieldRect = fieldWidget.map(PDAnnotationWidget::getRectangle).orElse(null);
        } else {
          placeAppearance(doc, so, seal, options.placement());
        }
        doc.addSignature(signature, so);
        if (fieldWidget.isPresent()) {
          // PDFBox makes a field it signs without a template invisible: draw it back.
          fieldFont = drawField(doc, fieldWidget.get(), fieldRect, seal);
        }
        external = SigningWriter.saveIncremental(doc, read.source(), out);
        byte[] digest;
        try (InputStream content = external.getContent()) {
          digest = CadesSignature.digest(seal.algorithm(), content);
        }
        // Whatever PDFBox made of a stream it was not let decode, nothing is signed over it.
        DecodeBudget.checkCurrent();
        signing = true;
        byte[] cms =
            CadesSignature.sign(
                keys,
                seal.key(),
                seal.algorithm(),
                seal.chain(),
                seal.signingCertificateV2(),
                digest,
                "pades-seal seal=" + seal.id(),
                recordedByCaller);
        if (options.level().compareTo(SealOptions.Level.B_T) >= 0) {
          cms = withSignatureTimeStamp(cms, seal, tsaChain);
        }
        if (cms.length > reserved) {
          throw new ReservationTooSmall(cms.length);
        }
        external.setSignature(cms);
      } finally {
        if (external != null) {
          external.close();
        }
        if (fieldFont != null) {
          fieldFont.close();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Read without repairs, it failed where a lenient reading may not: the lenient path gives
      // the answer. A verdict on what was read (placement, permissions, DocMDP) stands: reading
      // again would only double the work an attacker can make us do (an anchor search).
      boolean verdict = e instanceof SignException se && se.code() != Code.NOT_PDF;
      if (strict && !signing && !verdict) {
        throw new NotStrict();
      }
      throw e;
    }
    return new Stage(
        tsaChain, signaturesBefore, java.util.HexFormat.of().formatHex(written.digest()));
  }

  /**
   * A square seal of {@code size} points at the bottom right of the last page, 20 mm from the edges
   * (where a seal goes on most Chinese documents).
   */
  public static SealOptions.Placement.Box bottomRightOfLastPage(Path pdf, float size) {
    DecodeBudget.Scope budget = DecodeBudget.open();
    try (PDDocument doc = open(pdf)) {
      int n = doc.getNumberOfPages();
      if (n == 0) {
        throw new SignException(Code.NOT_PDF, "the document has no pages");
      }
      PDRectangle media = doc.getPage(n - 1).getMediaBox();
      float margin = 20 / 25.4f * 72;
      float s = Math.min(size, Math.min(media.getWidth(), media.getHeight()) - 2 * margin);
      if (s < 10) {
        throw new SignException(Code.INVALID_PLACEMENT, "the last page is too small for a seal");
      }
      budget.check();
      return new SealOptions.Placement.Box(
          n, media.getUpperRightX() - margin - s, media.getLowerLeftY() + margin, s, s);
    } catch (IOException e) {
      throw budget.orTooLarge(
          new SignException(Code.NOT_PDF, "the body is not a readable PDF document"));
    } catch (SignException e) {
      throw budget.orTooLarge(e);
    } finally {
      budget.close();
    }
  }

  /**
   * Streams PDFBox creates while reading and writing (decoded object streams, the new
   * cross-reference stream) are kept in memory up to 1 MiB per document, then in a temporary file:
   * a small document no longer creates a temporary file per seal (3% of a 1-page seal's wall-clock
   * time in a profile, with the durable append at 44%), and a large one still does not hold its
   * streams in the heap.
   */
  private static final org.apache.pdfbox.io.RandomAccessStreamCache.StreamCacheCreateFunction
      STREAM_CACHE = org.apache.pdfbox.io.MemoryUsageSetting.setupMixed(1 << 20).streamCache;

  /** Opens a PDF with {@link #STREAM_CACHE}; maps parse failures to stable codes. */
  static PDDocument open(Path input) {
    return read(new Source(input, null)).doc();
  }

  private static Opened read(Source input) {
    org.apache.pdfbox.io.RandomAccessRead source = null;
    try {
      source = input.open();
      return new Opened(Loader.loadPDF(source, "", null, null, STREAM_CACHE), source);
    } catch (InvalidPasswordException e) {
      IOUtils.closeQuietly(source);
      throw new SignException(Code.ENCRYPTED, "the document is encrypted with a password");
    } catch (IOException | RuntimeException e) {
      IOUtils.closeQuietly(source);
      throw new SignException(Code.NOT_PDF, "the body is not a readable PDF document");
    }
  }

  private static void checkCanSign(PDDocument doc, SealOptions options) {
    if (doc.isEncrypted()) {
      if (!doc.getCurrentAccessPermission().canModify()) {
        throw new SignException(
            Code.MODIFICATION_RESTRICTED, "the document's permissions forbid changes");
      }
      throw new SignException(Code.ENCRYPTED, "encrypted documents are not sealed");
    }
    if (doc.getNumberOfPages() == 0) {
      throw new SignException(Code.NOT_PDF, "the document has no pages");
    }
    Optional<Integer> p = DocMdp.permission(doc);
    if (p.isPresent() && p.get() == 1) {
      throw new SignException(
          Code.DOCMDP_FORBIDS, "the document is certified with no changes allowed (DocMDP P=1)");
    }
    if (options.certify() > 0 && !doc.getSignatureDictionaries().isEmpty()) {
      throw new SignException(
          Code.INVALID_REQUEST, "a certification signature must be the document's first");
    }
  }

  /**
   * Makes {@code signature} the value of an existing, empty signature field; returns its widget if
   * it is visible (a rectangle of at least 10 points a side), to be drawn after PDFBox adds the
   * signature.
   */
  private static Optional<PDAnnotationWidget> fillField(
      PDDocument doc, PDSignature signature, SealOptions.Placement.Field f) {
    PDAcroForm form = doc.getDocumentCatalog().getAcroForm();
    org.apache.pdfbox.pdmodel.interactive.form.PDField field =
        form == null ? null : form.getField(f.name());
    if (!(field instanceof PDSignatureField sf)) {
      throw new SignException(Code.INVALID_PLACEMENT, "the document has no such signature field");
    }
    if (sf.getCOSObject().getDictionaryObject(COSName.V) != null) {
      throw new SignException(Code.INVALID_PLACEMENT, "the signature field is already signed");
    }
    sf.getCOSObject().setItem(COSName.V, signature);
    sf.getCOSObject().setNeedToBeUpdated(true);
    if (sf.getWidgets().isEmpty()) {
      return Optional.empty();
    }
    PDAnnotationWidget widget = sf.getWidgets().get(0);
    PDRectangle rect = widget.getRectangle();
    if (rect == null || rect.getWidth() < 10 || rect.getHeight() < 10) {
      return Optional.empty(); // an invisible field stays invisible
    }
    return Optional.of(widget);
  }

  /** Draws the seal into a field's widget; returns the font to close after saving (or null). */
  private SealFont.Open drawField(
      PDDocument doc, PDAnnotationWidget widget, PDRectangle rect, SealIdentity seal)
      throws IOException {
    widget.setRectangle(rect);
    PDFormXObject xobject = new PDFormXObject(new PDStream(doc));
    xobject.setResources(new PDResources());
    xobject.setFormType(1);
    xobject.setBBox(new PDRectangle(rect.getWidth(), rect.getHeight()));
    PDAppearanceStream stream = new PDAppearanceStream(xobject.getCOSObject());
    PDAppearanceDictionary appearance = new PDAppearanceDictionary();
    appearance.setNormalAppearance(stream);
    widget.setAppearance(appearance);
    widget.setPrinted(true);
    widget.getCOSObject().setNeedToBeUpdated(true);
    float side = Math.min(rect.getWidth(), rect.getHeight());
    SealFont.Open open = null;
    try (PDPageContentStream cs = new PDPageContentStream(doc, stream)) {
      cs.transform(
          org.apache.pdfbox.util.Matrix.getTranslateInstance(
              (rect.getWidth() - side) / 2, (rect.getHeight() - side) / 2));
      if (seal.image().isPresent()) {
        cs.drawImage(
            PDImageXObject.createFromByteArray(doc, seal.image().get(), seal.id() + ".png"),
            0,
            0,
            side,
            side);
      } else {
        SealFont sf2 =
            font.orElseThrow(
                () ->
                    new SignException(
                        Code.UNAVAILABLE,
                        "no CJK font for drawn seals (install fonts-arphic-uming)"));
        open = sf2.open();
        PDType0Font pdFont = PDType0Font.load(doc, open.font(), true);
        SealDrawing.draw(cs, pdFont, side, seal.name(), seal.subLine());
        cs.close();
        pdFont.subset(); // SigningWriter does not subset what the document designated for it
      }
    } catch (IOException | RuntimeException e) {
      if (open != null) {
        open.close();
      }
      throw e;
    }
    return open;
  }

  private void placeAppearance(
      PDDocument doc, SignatureOptions so, SealIdentity seal, SealOptions.Placement placement)
      throws IOException {
    SealOptions.Placement.Box box;
    if (placement instanceof SealOptions.Placement.Invisible) {
      return;
    } else if (placement instanceof SealOptions.Placement.Box b) {
      box = b;
    } else if (placement instanceof SealOptions.Placement.Anchor a) {
      box = Anchors.find(doc, a);
    } else {
      return; // an existing field: see fillField
    }
    if (box.page() > doc.getNumberOfPages()) {
      throw new SignException(
          Code.INVALID_PLACEMENT, "the document has " + doc.getNumberOfPages() + " pages");
    }
    PDPage page = doc.getPage(box.page() - 1);
    PDRectangle media = page.getMediaBox();
    int rotation = ((page.getRotation() % 360) + 360) % 360;
    if (rotation % 90 != 0) {
      throw new SignException(Code.INVALID_PLACEMENT, "the page's rotation is not a right angle");
    }
    PDRectangle rect = widgetRect(media, rotation, box);
    if (rect.getLowerLeftX() < media.getLowerLeftX()
        || rect.getLowerLeftY() < media.getLowerLeftY()
        || rect.getUpperRightX() > media.getUpperRightX()
        || rect.getUpperRightY() > media.getUpperRightY()) {
      throw new SignException(Code.INVALID_PLACEMENT, "the seal box is not inside the page");
    }
    so.setPage(box.page() - 1);
    so.setVisualSignature(
        new ByteArrayInputStream(cachedTemplate(doc, media, rect, rotation, box, seal)));
  }

  /**
   * The widget's rectangle in the page's own (unrotated) space for a box given as the page is
   * displayed: on a page rotated 0° the box itself; on a rotated page, measured from the lower-left
   * corner of the page as displayed.
   */
  static PDRectangle widgetRect(PDRectangle media, int rotation, SealOptions.Placement.Box box) {
    float w = media.getWidth();
    float h = media.getHeight();
    float llx = media.getLowerLeftX();
    float lly = media.getLowerLeftY();
    float x0 = box.x();
    float y0 = box.y();
    float x1 = box.x() + box.width();
    float y1 = box.y() + box.height();
    float[] xs;
    float[] ys;
    switch (rotation) {
      case 90 -> { // displayed (X, Y) = (y, w - x)
        xs = new float[] {w - y0, w - y1};
        ys = new float[] {x0, x1};
      }
      case 180 -> { // displayed (X, Y) = (w - x, h - y)
        xs = new float[] {w - x0, w - x1};
        ys = new float[] {h - y0, h - y1};
      }
      case 270 -> { // displayed (X, Y) = (h - y, x)
        xs = new float[] {y0, y1};
        ys = new float[] {h - x0, h - x1};
      }
      default -> {
        return new PDRectangle(box.x(), box.y(), box.width(), box.height());
      }
    }
    float minX = Math.min(xs[0], xs[1]);
    float minY = Math.min(ys[0], ys[1]);
    return new PDRectangle(
        llx + minX, lly + minY, Math.abs(xs[0] - xs[1]), Math.abs(ys[0] - ys[1]));
  }

  /** Appearance templates already built, by seal, page box, seal box and field name. */
  private final java.util.Map<String, byte[]> templates =
      java.util.Collections.synchronizedMap(
          new java.util.LinkedHashMap<>(64, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<String, byte[]> eldest) {
              return size() > 256;
            }
          });

  /**
   * The template for this seal, page size, box and field name; built once and reused, since drawing
   * subsets the CJK font, which costs far more than the signature.
   */
  private byte[] cachedTemplate(
      PDDocument target,
      PDRectangle media,
      PDRectangle rect,
      int rotation,
      SealOptions.Placement.Box box,
      SealIdentity seal)
      throws IOException {
    String key =
        String.join(
            "|",
            seal.id(),
            Integer.toHexString(java.util.Arrays.hashCode(seal.image().orElse(new byte[0]))),
            seal.name(),
            seal.subLine(),
            media.toString(),
            rect.toString(),
            Integer.toString(rotation),
            uniqueFieldName(target));
    byte[] t = templates.get(key);
    if (t == null) {
      t = template(target, media, rect, rotation, box, seal);
      templates.put(key, t);
    }
    return t;
  }

  private byte[] template(
      PDDocument target,
      PDRectangle media,
      PDRectangle rect,
      int rotation,
      SealOptions.Placement.Box box,
      SealIdentity seal)
      throws IOException {
    try (PDDocument doc = new PDDocument()) {
      PDPage page = new PDPage(media);
      doc.addPage(page);
      PDAcroForm form = new PDAcroForm(doc);
      doc.getDocumentCatalog().setAcroForm(form);
      PDSignatureField field = new PDSignatureField(form);
      field.setPartialName(uniqueFieldName(target));
      PDAnnotationWidget widget = field.getWidgets().get(0);
      form.setSignaturesExist(true);
      form.setAppendOnly(true);
      form.getCOSObject().setDirect(true);
      form.getFields().add(field);
      widget.setRectangle(rect);
      widget.setPrinted(true);
      PDFormXObject xobject = new PDFormXObject(new PDStream(doc));
      xobject.setResources(new PDResources());
      xobject.setFormType(1);
      xobject.setBBox(new PDRectangle(box.width(), box.height()));
      if (rotation != 0) {
        // The page turns clockwise when shown; the appearance turns back, so the seal is upright.
        xobject.setMatrix(java.awt.geom.AffineTransform.getQuadrantRotateInstance(rotation / 90));
        page.setRotation(rotation);
      }
      PDAppearanceDictionary appearance = new PDAppearanceDictionary();
      appearance.getCOSObject().setDirect(true);
      PDAppearanceStream stream = new PDAppearanceStream(xobject.getCOSObject());
      appearance.setNormalAppearance(stream);
      widget.setAppearance(appearance);
      float side = Math.min(box.width(), box.height());
      try (PDPageContentStream cs = new PDPageContentStream(doc, stream)) {
        cs.transform(
            org.apache.pdfbox.util.Matrix.getTranslateInstance(
                (box.width() - side) / 2, (box.height() - side) / 2));
        if (seal.image().isPresent()) {
          PDImageXObject img =
              PDImageXObject.createFromByteArray(doc, seal.image().get(), seal.id() + ".png");
          cs.drawImage(img, 0, 0, side, side);
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          doc.save(out);
          return out.toByteArray();
        }
        SealFont f =
            font.orElseThrow(
                () ->
                    new SignException(
                        Code.UNAVAILABLE,
                        "no CJK font for drawn seals (install fonts-arphic-uming)"));
        try (SealFont.Open open = f.open()) {
          PDType0Font pdFont = PDType0Font.load(doc, open.font(), true);
          SealDrawing.draw(cs, pdFont, side, seal.name(), seal.subLine());
          cs.close();
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          doc.save(out); // subsets the font while it is still open
          return out.toByteArray();
        }
      }
    }
  }

  /** {@code Seal1}, {@code Seal2}, ...: a name no field of the document has. */
  private static String uniqueFieldName(PDDocument doc) {
    PDAcroForm form = doc.getDocumentCatalog().getAcroForm();
    for (int n = 1; ; n++) {
      String name = "Seal" + n;
      if (form == null || form.getField(name) == null) {
        return name;
      }
    }
  }

  /** Adds the signature time-stamp (id-aa-signatureTimeStampToken) over the signature value. */
  @SuppressWarnings("unchecked")
  private byte[] withSignatureTimeStamp(
      byte[] cms, SealIdentity seal, List<X509CertificateHolder> tsaChain) {
    try {
      CMSSignedData signed = new CMSSignedData(cms);
      SignerInformation signer = signed.getSignerInfos().getSigners().iterator().next();
      byte[] imprint = CadesSignature.digest(seal.algorithm()).digest(signer.getSignature());
      TimeStampToken token =
          timeStamps.orElseThrow().stamp(CadesSignature.digestOid(seal.algorithm()), imprint);
      tsaChain.addAll(token.getCertificates().getMatches(null));
      ASN1EncodableVector v = new ASN1EncodableVector();
      v.add(
          new Attribute(
              PKCSObjectIdentifiers.id_aa_signatureTimeStampToken,
              new DERSet(ASN1Primitive.fromByteArray(token.getEncoded()))));
      SignerInformation stamped =
          SignerInformation.replaceUnsignedAttributes(signer, new AttributeTable(v));
      return CMSSignedData.replaceSigners(signed, new SignerInformationStore(List.of(stamped)))
          .getEncoded("DER");
    } catch (CMSException | IOException e) {
      throw new SignException(Code.UNAVAILABLE, "the signature time-stamp could not be added", e);
    }
  }
}
