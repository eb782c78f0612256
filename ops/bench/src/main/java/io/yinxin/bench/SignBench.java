package io.yinxin.bench;

import com.zaxxer.hikari.HikariDataSource;
import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.InMemoryDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.model.ToBeSigned;
import eu.europa.esig.dss.pades.PAdESSignatureParameters;
import eu.europa.esig.dss.pades.signature.PAdESService;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import io.yinxin.audit.spring.KeyUseAuditListener;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import io.yinxin.hsm.soft.SoftKeyBackend;
import io.yinxin.sign.pades.PadesSealer;
import io.yinxin.sign.pades.RevocationFetcher;
import io.yinxin.sign.pades.SealIdentity;
import io.yinxin.sign.pades.SealOptions;
import io.yinxin.sign.pades.TimeStamps;
import io.yinxin.sign.seal.SealFont;
import io.yinxin.sign.spring.SignSchema;
import io.yinxin.sign.tsa.TimeStampAuthority;
import io.yinxin.sign.tsa.TsaCredential;
import io.yinxin.sign.tsa.TsaSerials;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.tsp.TimeStampRequestGenerator;

/**
 * Seals per second, beside EU DSS 6.2 in the same run. Prints one table:
 *
 * <ul>
 *   <li>a 1-page and a 100-page PDF at B-B, invisible, 1 and 2 threads: Yinxin's sealer against
 *       DSS's {@code PAdESService} at PAdES-BASELINE-B, both signing with the same software key
 *       through the same {@code KeyService}, each reading the PDF from its file and writing the
 *       sealed PDF to a file (then removed), and each leaving one durable event in the evidence log
 *       on PostgreSQL per signature: DSS's the {@code KEY_USED} of the real {@code
 *       KeyUseAuditListener}, Yinxin's the {@code DOCUMENT_SEALED} its API writes, which names the
 *       key ({@code PadesSealer.sealAndRecord});
 *   <li>the same 1-page row with the seal key on a SoftHSM2 token (PKCS#11), both sides, when
 *       {@code ops/bench/run-sign} found softhsm2 (YINXIN_BENCH_MODULE / _TOKEN / _PIN);
 *   <li>a batch of 1,000 1-page documents sealed one after another (visible, B-B), as the batch
 *       endpoint does;
 *   <li>Yinxin's visible drawn seal on the 1-page and the 100-page PDF, with the software key and
 *       (when there is a token) the SoftHSM2 key, B-B, B-T (this process's TSA) and B-LT (chains
 *       and OCSP responses in the DSS: the bench's root answers OCSP on 127.0.0.1; fetched once,
 *       then taken from the sealer's cache until their nextUpdate);
 *   <li>TSA tokens per second from 64 threads calling the TSA in-process (no HTTP), the tokens
 *       tallied into one {@code KEY_USED} event per key and minute (anyone may ask for tokens);
 *   <li>a 100 MB PDF sealed in this JVM's heap (time, peak heap), and the process's peak RSS.
 * </ul>
 *
 * Both sides get the same warm-up (BENCH_WARMUP_SECONDS, 20) and run BENCH_SECONDS (10) per row,
 * taking turns in BENCH_ROUNDS (5) rounds. BENCH_ROWS (all) picks rows: any of {@code 1-page},
 * {@code 100-page}, {@code hsm}, {@code batch}, {@code visible}, {@code tsa}, {@code big}.
 */
public final class SignBench {
  private static final int SECONDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_SECONDS", "10"));
  private static final int ROUNDS =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "5"));
  private static final int WARMUP =
      Integer.parseInt(System.getenv().getOrDefault("BENCH_WARMUP_SECONDS", "20"));

  private static final List<String> ROWS =
      List.of(System.getenv().getOrDefault("BENCH_ROWS", "all").split(","));

  private static boolean wanted(String row) {
    return ROWS.contains("all") || ROWS.contains(row);
  }

  private SignBench() {}

  interface Op {
    void run(int thread, long n) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("yinxin-sign-bench-");
    HikariDataSource ds = BenchDb.pool(BenchDb.create(), 80);
    Integrator integrator = new Integrator(LogStore.open(ds), 2000, 100_000);
    io.yinxin.audit.AuditLog log = integrator::append;
    List<io.yinxin.hsm.KeyBackend> backends = new ArrayList<>();
    backends.add(SoftKeyBackend.open(dir.resolve("keys")));
    String module = System.getenv("YINXIN_BENCH_MODULE");
    if (module != null) {
      backends.add(
          io.yinxin.hsm.pkcs11.Pkcs11KeyBackend.open(
              Path.of(module),
              System.getenv("YINXIN_BENCH_TOKEN"),
              io.yinxin.hsm.Secret.of(System.getenv("YINXIN_BENCH_PIN").toCharArray(), "env"),
              16));
    }
    KeyServices keys =
        new KeyServices(
            backends, List.of(new KeyUseAuditListener(() -> integrator::append, Optional.empty())));
    KeyInfo rootKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "root");
    X509CertificateHolder root = cert(keys, rootKey, rootKey, "CN=Bench Root", true, null, null);
    // The root answers OCSP for the seal and TSA certificates, which name it (AIA): B-LT embeds
    // the answers, fetched once and then taken from the sealer's cache until their nextUpdate.
    com.sun.net.httpserver.HttpServer ocsp = ocspResponder(keys, rootKey, root);
    String ocspUrl = "http://127.0.0.1:" + ocsp.getAddress().getPort() + "/ocsp";
    KeyInfo sealKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "seal");
    X509CertificateHolder sealCert =
        cert(keys, sealKey, rootKey, "CN=福州某某科技有限公司", false, null, ocspUrl);
    KeyInfo tsaKey = keys.generate(KeyRef.Scheme.SOFT, KeySpec.EC_P256, "tsa");
    X509CertificateHolder tsaCert =
        cert(
            keys, tsaKey, rootKey, "CN=Bench TSA", false, KeyPurposeId.id_kp_timeStamping, ocspUrl);
    SignSchema.migrate(ds);
    TimeStampAuthority tsa =
        new TimeStampAuthority(
            keys,
            () ->
                Optional.of(
                    new TsaCredential(
                        tsaKey.ref(), SignatureAlgorithm.ECDSA_SHA256, List.of(tsaCert, root))),
            new TsaSerials(ds),
            "2.25.1",
            Duration.ofSeconds(1),
            Clock.systemUTC(),
            log);
    PadesSealer sealer =
        new PadesSealer(
            keys,
            SealFont.installed(),
            Optional.of(new TimeStamps(tsa::respond)),
            new RevocationFetcher(Duration.ofSeconds(2), Clock.systemUTC()));
    SealIdentity seal =
        new SealIdentity(
            "bench",
            sealKey.ref(),
            SignatureAlgorithm.ECDSA_SHA256,
            List.of(sealCert, root),
            "福州某某科技有限公司",
            "合同专用章",
            Optional.empty());
    Path onePage = pdf(dir.resolve("1.pdf"), 1);
    Path hundred = pdf(dir.resolve("100.pdf"), 100);

    List<String> rows = new ArrayList<>();
    rows.add("| measurement | threads | Yinxin | EU DSS 6.2 | ratio |");
    rows.add("|---|---|---|---|---|");
    for (Path doc : List.of(onePage, hundred)) {
      String name = doc == onePage ? "1-page" : "100-page";
      if (!wanted(name)) {
        continue;
      }
      Op ours =
          (t, n) -> {
            Path out = dir.resolve("out-" + t + ".pdf");
            sealer.sealAndRecord(
                doc, out, seal, options(SealOptions.Level.B_B, invisible()), "bench", log);
            Files.delete(out);
          };
      Op dss =
          (t, n) -> dssSign(keys, sealKey, sealCert, root, doc, dir.resolve("dss-" + t + ".pdf"));
      load(2, WARMUP, ours); // the same warm-up as the baseline: 2 threads, WARMUP seconds
      load(2, WARMUP, dss);
      for (int threads : new int[] {1, 2}) {
        double[] ab = alternating(threads, ours, dss);
        rows.add(row("seals/s, " + name + ", B-B invisible", threads, ab[0], ab[1]));
      }
    }
    // The same seal with its key on a SoftHSM2 token (PKCS#11), when there is one.
    KeyInfo hsmKey =
        module == null ? null : keys.generate(KeyRef.Scheme.PKCS11, KeySpec.EC_P256, "seal-hsm");
    X509CertificateHolder hsmCert =
        module == null
            ? null
            : cert(keys, hsmKey, rootKey, "CN=福州某某科技有限公司 HSM", false, null, ocspUrl);
    SealIdentity hsmSeal =
        module == null
            ? null
            : new SealIdentity(
                "bench-hsm",
                hsmKey.ref(),
                SignatureAlgorithm.ECDSA_SHA256,
                List.of(hsmCert, root),
                "福州某某科技有限公司",
                "合同专用章",
                Optional.empty());
    if (module != null && wanted("hsm")) {
      // The same 1-page row with the seal key on the SoftHSM2 token, both sides.
      Op ours =
          (t, n) -> {
            Path out = dir.resolve("hsm-" + t + ".pdf");
            sealer.sealAndRecord(
                onePage, out, hsmSeal, options(SealOptions.Level.B_B, invisible()), "bench", log);
            Files.delete(out);
          };
      Op dss =
          (t, n) ->
              dssSign(keys, hsmKey, hsmCert, root, onePage, dir.resolve("dss-hsm-" + t + ".pdf"));
      load(2, Math.min(WARMUP, 10), ours);
      load(2, Math.min(WARMUP, 10), dss);
      for (int threads : new int[] {1, 2}) {
        double[] ab = alternating(threads, ours, dss);
        rows.add(row("seals/s, 1-page, B-B invisible, SoftHSM2 key", threads, ab[0], ab[1]));
      }
    }
    if (wanted("batch")) {
      // A batch of 1,000 documents sealed one after another, as the batch endpoint does.
      long t0 = System.nanoTime();
      for (int i = 0; i < 1000; i++) {
        Path out = dir.resolve("batch.pdf");
        sealer.sealAndRecord(
            onePage,
            out,
            seal,
            options(SealOptions.Level.B_B, new SealOptions.Placement.Box(1, 400, 60, 119, 119)),
            "bench",
            log);
        Files.delete(out);
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      rows.add(
          String.format(
              Locale.ROOT,
              "| 1,000-document batch, 1-page, B-B visible: total time (documents/s) | 1 | %.1f s (%.0f/s) | — | — |",
              secs,
              1000 / secs));
    }
    // Both documents at B-B, B-T and B-LT, the drawn seal visible on the first page, with the
    // software key and (when there is a token) the SoftHSM2 key.
    List<SealIdentity> visibleSeals = hsmSeal == null ? List.of(seal) : List.of(seal, hsmSeal);
    for (SealIdentity vseal : wanted("visible") ? visibleSeals : List.<SealIdentity>of()) {
      String key = vseal == seal ? "" : ", SoftHSM2 key";
      for (Path doc : List.of(onePage, hundred)) {
        String name = doc == onePage ? "1-page" : "100-page";
        for (SealOptions.Level level :
            List.of(SealOptions.Level.B_B, SealOptions.Level.B_T, SealOptions.Level.B_LT)) {
          Op op =
              (t, n) -> {
                Path out = dir.resolve("vis-" + t + ".pdf");
                sealer.sealAndRecord(
                    doc,
                    out,
                    vseal,
                    options(level, new SealOptions.Placement.Box(1, 400, 60, 119, 119)),
                    "bench",
                    log);
                Files.delete(out);
              };
          if (level == SealOptions.Level.B_LT) {
            // What this row measures: a B-LT seal whose DSS holds the OCSP responses.
            Path check = dir.resolve("lt-check.pdf");
            sealer.seal(
                doc,
                check,
                vseal,
                options(level, new SealOptions.Placement.Box(1, 400, 60, 119, 119)));
            byte[] sealed = Files.readAllBytes(check);
            if (!new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("/OCSPs")) {
              throw new IllegalStateException("the B-LT seal carries no OCSP response");
            }
            Files.delete(check);
          }
          load(2, Math.min(WARMUP, 10), op);
          for (int threads : new int[] {1, 2}) {
            rows.add(
                row(
                    "seals/s, " + name + ", " + level.label() + ", visible drawn seal" + key,
                    threads,
                    load(threads, SECONDS, op),
                    Double.NaN));
          }
        }
      }
    }
    byte[] query =
        new TimeStampRequestGenerator()
            .generate(NISTObjectIdentifiers.id_sha256, new byte[32], BigInteger.ONE)
            .getEncoded();
    Op stamp = (t, n) -> tsa.respond(query);
    if (wanted("tsa")) {
      load(64, Math.min(WARMUP, 10), stamp);
      rows.add(row("TSA tokens/s (in-process, tallied)", 64, load(64, SECONDS, stamp), Double.NaN));
    }
    if (wanted("big")) {
      bigRow(dir, sealer, seal, rows);
    }
    rows.add(
        String.format(
            Locale.ROOT,
            "| OCSP requests the bench's responder answered (whole run) | — | %d | — | — |",
            OCSP_ANSWERS.get()));
    rows.add(
        String.format(
            Locale.ROOT, "| peak RSS of this benchmark process | — | %s | — | — |", peakRss()));
    integrator.close();
    ds.close();
    ocsp.stop(0);
    System.out.println();
    rows.forEach(System.out::println);
  }

  /** A 100 MB PDF sealed at B-B: time and peak heap growth. */
  private static void bigRow(Path dir, PadesSealer sealer, SealIdentity seal, List<String> rows)
      throws Exception {

    Path big = bigPdf(dir.resolve("big.pdf"), 100L << 20);
    Runtime rt = Runtime.getRuntime();
    System.gc();
    long heapBefore = rt.totalMemory() - rt.freeMemory();
    long[] peak = {heapBefore};
    Thread sampler =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                peak[0] = Math.max(peak[0], rt.totalMemory() - rt.freeMemory());
                try {
                  Thread.sleep(5);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    sampler.start();
    long t0 = System.nanoTime();
    sealer.seal(big, dir.resolve("big-out.pdf"), seal, options(SealOptions.Level.B_B, invisible()));
    double secs = (System.nanoTime() - t0) / 1e9;
    sampler.interrupt();
    sampler.join();
    rows.add(
        String.format(
            Locale.ROOT,
            "| 100 MB PDF sealed (B-B): time, peak heap growth (max heap %d MB) | 1 | %.1f s, %d MB | — | — |",
            rt.maxMemory() >> 20,
            secs,
            (peak[0] - heapBefore) >> 20));
  }

  private static SealOptions.Placement invisible() {
    return new SealOptions.Placement.Invisible();
  }

  private static SealOptions options(SealOptions.Level level, SealOptions.Placement p) {
    return new SealOptions(level, p, Optional.empty(), Optional.empty(), 0, Instant.now());
  }

  /**
   * DSS 6.2 at PAdES-BASELINE-B: data to sign, the same KeyService signature, the document. The
   * same work around the signature as ours: the PDF read from its file, the sealed PDF written to a
   * file and removed.
   */
  private static void dssSign(
      KeyServices keys,
      KeyInfo key,
      X509CertificateHolder cert,
      X509CertificateHolder root,
      Path in,
      Path out)
      throws Exception {
    PAdESService service = new PAdESService(new CommonCertificateVerifier());
    PAdESSignatureParameters p = new PAdESSignatureParameters();
    p.setSignatureLevel(SignatureLevel.PAdES_BASELINE_B);
    p.setDigestAlgorithm(DigestAlgorithm.SHA256);
    p.setSigningCertificate(DSSUtils.loadCertificate(cert.getEncoded()));
    p.setCertificateChain(DSSUtils.loadCertificate(root.getEncoded()));
    DSSDocument doc = new InMemoryDocument(Files.readAllBytes(in));
    ToBeSigned tbs = service.getDataToSign(doc, p);
    byte[] sig = keys.sign(key.ref(), SignatureAlgorithm.ECDSA_SHA256, tbs.getBytes(), "dss-bench");
    DSSDocument signed =
        service.signDocument(
            doc,
            p,
            new SignatureValue(
                eu.europa.esig.dss.enumerations.SignatureAlgorithm.ECDSA_SHA256, sig));
    try (java.io.OutputStream o = Files.newOutputStream(out)) {
      signed.writeTo(o);
    }
    Files.delete(out);
  }

  /**
   * Yinxin and the baseline in {@link #ROUNDS} rounds each, taking turns, {@link #SECONDS} per side
   * in all; returns both rates (operations/s). This machine's speed moves by a fifth or more within
   * minutes: taking turns gives both sides the same share of its good and bad moments.
   */
  private static double[] alternating(int threads, Op ours, Op base) throws Exception {
    long[] a = new long[2];
    long[] b = new long[2];
    int each = Math.max(1, SECONDS / ROUNDS);
    for (int r = 0; r < ROUNDS; r++) {
      add(a, run(threads, each, ours));
      add(b, run(threads, each, base));
    }
    return new double[] {a[0] / (a[1] / 1e9), b[0] / (b[1] / 1e9)};
  }

  private static void add(long[] sum, long[] run) {
    sum[0] += run[0];
    sum[1] += run[1];
  }

  /** Runs {@code op} on {@code threads} threads for {@code seconds}; returns operations/s. */
  private static double load(int threads, int seconds, Op op) throws Exception {
    long[] r = run(threads, seconds, op);
    return r[0] / (r[1] / 1e9);
  }

  /** Runs {@code op} on {@code threads} threads for {@code seconds}; returns {operations, ns}. */
  private static long[] run(int threads, int seconds, Op op) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong count = new AtomicLong();
    CountDownLatch done = new CountDownLatch(threads);
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    for (int i = 0; i < threads; i++) {
      int t = i;
      new Thread(
              () -> {
                try {
                  long n = 0;
                  while (System.nanoTime() < end) {
                    op.run(t, n++);
                    count.incrementAndGet();
                  }
                } catch (Throwable e) {
                  errors.add(e);
                } finally {
                  done.countDown();
                }
              })
          .start();
    }
    done.await();
    if (!errors.isEmpty()) {
      throw new IllegalStateException("benchmark operation failed", errors.get(0));
    }
    return new long[] {count.get(), System.nanoTime() - start};
  }

  private static String row(String what, int threads, double ours, double base) {
    return Double.isNaN(base)
        ? String.format(Locale.ROOT, "| %s | %d | %,.0f | — | — |", what, threads, ours)
        : String.format(
            Locale.ROOT,
            "| %s | %d | %,.0f | %,.0f | %.2f× |",
            what,
            threads,
            ours,
            base,
            ours / base);
  }

  private static X509CertificateHolder cert(
      KeyServices keys,
      KeyInfo subject,
      KeyInfo issuer,
      String name,
      boolean ca,
      KeyPurposeId eku,
      String ocspUrl)
      throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b =
        new X509v3CertificateBuilder(
            ca ? new X500Name(name) : new X500Name("CN=Bench Root"),
            BigInteger.valueOf(System.nanoTime()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(365))),
            new X500Name(name),
            SubjectPublicKeyInfo.getInstance(subject.publicKey().getEncoded()));
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    b.addExtension(
        Extension.keyUsage,
        true,
        new KeyUsage(
            ca
                ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.nonRepudiation));
    if (eku != null) {
      b.addExtension(Extension.extendedKeyUsage, true, new ExtendedKeyUsage(eku));
    }
    if (ocspUrl != null) {
      b.addExtension(
          Extension.authorityInfoAccess,
          false,
          new org.bouncycastle.asn1.x509.AuthorityInformationAccess(
              org.bouncycastle.asn1.x509.AccessDescription.id_ad_ocsp,
              new org.bouncycastle.asn1.x509.GeneralName(
                  org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, ocspUrl)));
    }
    return b.build(
        new KeyServiceContentSigner(
            keys, issuer.ref(), SignatureAlgorithm.ECDSA_SHA256, "bench certificate"));
  }

  /**
   * An OCSP responder on 127.0.0.1 for certificates issued by {@code root}: "good" for every
   * certificate asked about, signed by the root's key, valid for a day.
   */
  /** OCSP requests the bench's responder answered (each certificate's is fetched once, cached). */
  private static final AtomicLong OCSP_ANSWERS = new AtomicLong();

  private static com.sun.net.httpserver.HttpServer ocspResponder(
      KeyServices keys, KeyInfo rootKey, X509CertificateHolder root) throws Exception {
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(
        "/ocsp",
        exchange -> {
          try (exchange) {
            byte[] der;
            try {
              der =
                  ocspAnswer(keys, rootKey, root, exchange.getRequestBody().readNBytes(64 * 1024));
            } catch (Exception e) {
              exchange.sendResponseHeaders(500, -1);
              return;
            }
            OCSP_ANSWERS.incrementAndGet();
            exchange.getResponseHeaders().set("Content-Type", "application/ocsp-response");
            exchange.sendResponseHeaders(200, der.length);
            exchange.getResponseBody().write(der);
          }
        });
    server.start();
    return server;
  }

  private static byte[] ocspAnswer(
      KeyServices keys, KeyInfo rootKey, X509CertificateHolder root, byte[] request)
      throws Exception {
    org.bouncycastle.cert.ocsp.OCSPReq req = new org.bouncycastle.cert.ocsp.OCSPReq(request);
    org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder b =
        new org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder(
            new org.bouncycastle.cert.ocsp.RespID(root.getSubject()));
    Date now = new Date();
    Date next = Date.from(Instant.now().plus(Duration.ofDays(1)));
    for (org.bouncycastle.cert.ocsp.Req r : req.getRequestList()) {
      b.addResponse(r.getCertID(), org.bouncycastle.cert.ocsp.CertificateStatus.GOOD, now, next);
    }
    org.bouncycastle.cert.ocsp.BasicOCSPResp basic =
        b.build(
            new KeyServiceContentSigner(
                keys, rootKey.ref(), SignatureAlgorithm.ECDSA_SHA256, "bench ocsp"),
            new X509CertificateHolder[0],
            now);
    return new org.bouncycastle.cert.ocsp.OCSPRespBuilder()
        .build(org.bouncycastle.cert.ocsp.OCSPRespBuilder.SUCCESSFUL, basic)
        .getEncoded();
  }

  private static Path pdf(Path file, int pages) throws Exception {
    try (PDDocument doc = new PDDocument()) {
      for (int i = 1; i <= pages; i++) {
        PDPage page = new PDPage(PDRectangle.A4);
        doc.addPage(page);
        try (PDPageContentStream cs = new PDPageContentStream(doc, page)) {
          cs.beginText();
          cs.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA), 11);
          cs.newLineAtOffset(72, 760);
          for (int l = 0; l < 40; l++) {
            cs.showText("Page " + i + " line " + l + ": the parties agree to the terms below.");
            cs.newLineAtOffset(0, -16);
          }
          cs.endText();
        }
      }
      doc.save(file.toFile());
    }
    return file;
  }

  /** A one-page PDF carrying {@code size} bytes of incompressible data in an unused stream. */
  private static Path bigPdf(Path file, long size) throws Exception {
    Path blob = file.resolveSibling("blob.bin");
    try (var out = Files.newOutputStream(blob)) {
      java.util.SplittableRandom r = new java.util.SplittableRandom(1);
      byte[] buf = new byte[1 << 20];
      for (long w = 0; w < size; w += buf.length) {
        for (int i = 0; i < buf.length; i += 8) {
          long v = r.nextLong();
          for (int k = 0; k < 8; k++) {
            buf[i + k] = (byte) (v >>> (8 * k));
          }
        }
        out.write(buf);
      }
    }
    try (PDDocument doc =
        new PDDocument(org.apache.pdfbox.io.IOUtils.createTempFileOnlyStreamCache())) {
      doc.addPage(new PDPage(PDRectangle.A4));
      org.apache.pdfbox.cos.COSStream s = doc.getDocument().createCOSStream();
      try (var in = Files.newInputStream(blob);
          var o = s.createRawOutputStream()) {
        in.transferTo(o);
      }
      doc.getDocumentCatalog()
          .getCOSObject()
          .setItem(org.apache.pdfbox.cos.COSName.getPDFName("YinxinBenchPayload"), s);
      doc.save(file.toFile());
    }
    Files.delete(blob);
    return file;
  }

  private static String peakRss() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return line.substring(6).strip();
      }
    }
    return "?";
  }
}
