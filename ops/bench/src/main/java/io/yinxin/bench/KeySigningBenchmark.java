package io.yinxin.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.yinxin.audit.spring.KeyUseAuditListener;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogStore;
import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.KeyUseListener;
import io.yinxin.hsm.Secret;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.pkcs11.Pkcs11KeyBackend;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Slot;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Signatures per second through the KeyService ({@code adapter}) against the raw way of making the
 * same signature ({@code baseline}): Bouncy Castle with a plain JCA key for the soft rows,
 * SunPKCS11 configured directly on the same token and key for the PKCS#11 rows (the xipki binding
 * directly for Ed25519, which SunPKCS11 lacks). The token comes from the environment set up by
 * {@code ops/bench/run-keys}: SOFTHSM2_CONF, YINXIN_BENCH_MODULE, YINXIN_BENCH_TOKEN,
 * YINXIN_BENCH_PIN.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class KeySigningBenchmark {

  /** backend:algorithm. */
  @Param({
    "soft:ECDSA_SHA256",
    "soft:ECDSA_SHA384",
    "soft:RSA_PKCS1_SHA256",
    "soft:ED25519",
    "soft:SM3_WITH_SM2",
    "pkcs11:ECDSA_SHA256",
    "pkcs11:ECDSA_SHA384",
    "pkcs11:RSA_PKCS1_SHA256",
    "pkcs11:ED25519"
  })
  public String row;

  /**
   * Whether each signature is recorded as evidence, as every signature in a running node is: the
   * adapter with the real {@code KeyUseAuditListener} appending a {@code KEY_USED} event to the
   * audit log (PostgreSQL, group commit); the baseline the same raw signature followed by the naive
   * way to record it, one INSERT and COMMIT of the event per signature.
   */
  @Param({"false", "true"})
  public boolean audited;

  HikariDataSource auditDb;
  Integrator integrator;

  KeyServices service;
  KeyRef ref;
  SignatureAlgorithm alg;
  Provider baselineProvider;
  PrivateKey baselineKey;
  Token baselineToken;
  long baselineHandle;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    String backend = row.substring(0, row.indexOf(':'));
    alg = SignatureAlgorithm.valueOf(row.substring(row.indexOf(':') + 1));
    KeySpec spec = alg.defaultKeySpec();
    String label =
        "bench-"
            + alg.name().toLowerCase(Locale.ROOT)
            + "-"
            + UUID.randomUUID().toString().substring(0, 6);
    List<KeyUseListener> listeners = List.of();
    if (audited) {
      auditDb = BenchDb.pool(BenchDb.create(), 16);
      try (Connection c = auditDb.getConnection();
          Statement st = c.createStatement()) {
        st.execute(
            "CREATE TABLE naive_audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL,"
                + " event TEXT NOT NULL)");
      }
      integrator = new Integrator(LogStore.open(auditDb), 1000, 10_000);
      listeners =
          List.of(new KeyUseAuditListener(() -> integrator::append, java.util.Optional.empty()));
    }
    if (backend.equals("soft")) {
      service =
          new KeyServices(
              List.of(SoftKeyBackend.open(Files.createTempDirectory("yinxin-bench-"))), listeners);
      baselineProvider = BouncyCastle.PROVIDER;
      KeyPairGenerator g = KeyPairGenerator.getInstance(spec.jcaAlgorithm(), baselineProvider);
      if (spec.curve().isPresent()) {
        g.initialize(new ECGenParameterSpec(spec.curve().get()));
      } else if (spec == KeySpec.RSA_3072) {
        g.initialize(3072);
      }
      baselineKey = g.generateKeyPair().getPrivate();
    } else {
      Path module = Path.of(System.getenv("YINXIN_BENCH_MODULE"));
      String token = System.getenv("YINXIN_BENCH_TOKEN");
      char[] pin = System.getenv("YINXIN_BENCH_PIN").toCharArray();
      service =
          new KeyServices(
              List.of(Pkcs11KeyBackend.open(module, token, Secret.of(pin, "env"), 16)), listeners);
      baselineToken = findToken(module, token);
      if (alg != SignatureAlgorithm.ED25519) {
        baselineProvider =
            Security.getProvider("SunPKCS11")
                .configure(
                    "--name = bench\nlibrary = "
                        + module
                        + "\nslot = "
                        + baselineToken.getSlot().getSlotID()
                        + "\n");
        KeyStore ks = KeyStore.getInstance("PKCS11", baselineProvider);
        ks.load(null, pin);
        // The same key the adapter signs with, looked up after it is generated below.
        this.pendingKeyStore = ks;
      }
    }
    KeyInfo info =
        service.generate(
            KeyRef.Scheme.valueOf(backend.equals("soft") ? "SOFT" : "PKCS11"), spec, label);
    ref = info.ref();
    if (pendingKeyStore != null) {
      pendingKeyStore.load(null, System.getenv("YINXIN_BENCH_PIN").toCharArray());
      baselineKey = (PrivateKey) pendingKeyStore.getKey(label, null);
    }
    if (baselineToken != null && alg == SignatureAlgorithm.ED25519) {
      Session s = baselineToken.openSession(false);
      baselineHandle = s.findObjectsSingle(AttributeVector.newPrivateKey().label(label), 1)[0];
      s.closeSession();
    }
  }

  KeyStore pendingKeyStore;

  private static Token findToken(Path module, String label) throws Exception {
    PKCS11Module m = PKCS11Module.getInstance(module.toString());
    try {
      m.initialize();
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw e;
      }
    }
    for (Slot s : m.getSlotList(true)) {
      if (s.getToken().getTokenInfo().getLabel().strip().equals(label)) {
        return s.getToken();
      }
    }
    throw new IllegalStateException("no token " + label);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    service.close();
    if (integrator != null) {
      integrator.close();
      auditDb.close();
    }
  }

  /** Per-thread state: the data to sign and the baseline's own Signature or session. */
  @State(Scope.Thread)
  public static class PerThread {
    byte[] data = new byte[32];
    Signature signature;

    /** The same nonce source the soft backend uses, so the baseline is the fastest plain usage. */
    SecureRandom random = io.yinxin.hsm.Randomness.current();

    Session session;

    @Setup(Level.Trial)
    public void setUp(KeySigningBenchmark b) throws GeneralSecurityException, PKCS11Exception {
      random.nextBytes(data);
      if (b.baselineKey != null) {
        signature = Signature.getInstance(b.alg.genericJcaName(), b.baselineProvider);
        if (b.alg.parameters().isPresent()) {
          signature.setParameter(b.alg.parameters().get());
        }
      } else {
        session = b.baselineToken.openSession(false);
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws PKCS11Exception {
      if (session != null) {
        session.closeSession();
      }
    }
  }

  @Benchmark
  public byte[] adapter(PerThread t) {
    return service.sign(ref, alg, t.data, "bench");
  }

  @Benchmark
  public byte[] baseline(PerThread t) throws Exception {
    byte[] sig;
    if (t.session != null) {
      sig = t.session.signSingle(new Mechanism(PKCS11Constants.CKM_EDDSA), baselineHandle, t.data);
    } else {
      if (baselineProvider == BouncyCastle.PROVIDER) {
        t.signature.initSign(baselineKey, t.random);
      } else {
        t.signature.initSign(baselineKey);
      }
      t.signature.update(t.data);
      sig = t.signature.sign();
    }
    if (audited) {
      try (Connection c = auditDb.getConnection();
          PreparedStatement ps =
              c.prepareStatement("INSERT INTO naive_audit (at, event) VALUES (now(), ?)")) {
        ps.setString(1, "KEY_USED " + ref + " " + alg + " bench");
        ps.executeUpdate(); // autocommit: one INSERT, one COMMIT
      }
    }
    return sig;
  }
}
