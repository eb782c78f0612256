package io.yinxin.sso.account;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * Argon2id password hashes (RFC 9106) in the PHC string format Spring Security's {@link
 * Argon2PasswordEncoder} writes ({@code $argon2id$v=19$m=7168,t=5,p=1$<salt>$<hash>}, base64
 * without padding), computed by libsodium ({@code crypto_pwhash}, Debian package {@code
 * libsodium23}) for one lane and a 16-byte salt (what this class writes), else by the Argon2
 * authors' reference C library ({@code libargon2}, Debian package {@code libargon2-1}), else by
 * Spring's encoder (Bouncy Castle), whichever this machine has. All give the same bytes for the
 * same password, salt and parameters, so hashes move freely between nodes with and without the
 * libraries.
 *
 * <p>Why not Bouncy Castle alone: the hash is most of what a sign-in costs (23–44 ms of CPU at
 * Keycloak's default strength in Java on the development machine, 14–17 ms in the reference library
 * as Debian builds it — its portable code, no vector instructions — and 6.6 ms in libsodium, which
 * picks SSSE3, AVX2 or AVX-512 code for the machine it runs on). The strength — memory, passes, the
 * attacker's cost per guess — is the same.
 */
public final class Argon2idPasswords implements PasswordEncoder {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(Argon2idPasswords.class);

  private static final Pattern PHC =
      Pattern.compile(
          "\\$argon2id\\$v=19\\$m=(\\d{1,8}),t=(\\d{1,3}),p=(\\d{1,3})"
              + "\\$([A-Za-z0-9+/]{11,64})\\$([A-Za-z0-9+/]{22,128})");

  /** The most memory a stored hash may ask for (1 GiB; 64 passes): a guard against a forged row. */
  private static final int MAX_MEMORY_KIB = 1 << 20;

  /** The C library's general entry point ({@code argon2.h}): a context, a type. */
  interface Lib extends Library {
    int argon2_ctx(Context context, int type);
  }

  /** libsodium's password hashing ({@code sodium.h}). */
  interface Sodium extends Library {
    int sodium_init();

    int crypto_pwhash(
        Pointer out,
        long outlen,
        Pointer passwd,
        long passwdlen,
        Pointer salt,
        long opslimit,
        long memlimit,
        int alg);
  }

  /** {@code crypto_pwhash_ALG_ARGON2ID13}. */
  private static final int SODIUM_ARGON2ID13 = 2;

  /** {@code crypto_pwhash_SALTBYTES}: the only salt length libsodium takes. */
  private static final int SODIUM_SALT = 16;

  /** {@code crypto_pwhash_BYTES_MIN}. */
  private static final int SODIUM_MIN_OUT = 16;

  /** {@code Argon2_id} in {@code argon2_type}. */
  private static final int ARGON2_ID = 2;

  /** {@code ARGON2_MEMORY_ALLOCATION_ERROR}. */
  private static final int ALLOCATION_ERROR = -22;

  /** {@code argon2_context} of {@code argon2.h} (version 0x13 of the library and on). */
  @Structure.FieldOrder({
    "out",
    "outlen",
    "pwd",
    "pwdlen",
    "salt",
    "saltlen",
    "secret",
    "secretlen",
    "ad",
    "adlen",
    "t_cost",
    "m_cost",
    "lanes",
    "threads",
    "version",
    "allocate_cbk",
    "free_cbk",
    "flags"
  })
  public static final class Context extends Structure {
    public Pointer out;
    public int outlen;
    public Pointer pwd;
    public int pwdlen;
    public Pointer salt;
    public int saltlen;
    public Pointer secret;
    public int secretlen;
    public Pointer ad;
    public int adlen;
    public int t_cost;
    public int m_cost;
    public int lanes;
    public int threads;
    public int version;
    public Allocate allocate_cbk;
    public Release free_cbk;
    public int flags;
  }

  /** {@code int (*allocate_fptr)(uint8_t **memory, size_t bytes_to_allocate)}. */
  public interface Allocate extends Callback {
    int invoke(PointerByReference memory, long bytes);
  }

  /** {@code void (*deallocate_fptr)(uint8_t *memory, size_t bytes_to_allocate)}. */
  public interface Release extends Callback {
    void invoke(Pointer memory, long bytes);
  }

  /**
   * Hashes at once: as many as there are processors. Beyond that, more hashes in flight only share
   * the cores by preemption, each evicting the others' 7 MiB from the caches: with 64 sign-ins at a
   * time on two cores a hash took 33 ms of CPU (a sixth of it page faults on fresh memory) instead
   * of 17. Waiting sign-ins queue here (fairly), not on the CPU.
   */
  private static final int PERMITS = Math.max(1, Runtime.getRuntime().availableProcessors());

  private static final Semaphore HASHING = new Semaphore(PERMITS, true);

  /**
   * Working memory kept between hashes, at most one block per permit: faulting in 7 MiB of fresh
   * pages for every hash was the other part of that cost. The library wipes the memory before it
   * hands it back ({@code clear_internal_memory} in {@code free_memory}), so no hash leaves
   * anything of a password in a kept block. Blocks over {@link #KEPT_BYTES} (a stored hash with an
   * unusual memory cost) are freed after use.
   */
  private static final java.util.concurrent.ConcurrentLinkedQueue<Memory> KEPT =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  private static final long KEPT_BYTES = 64L << 20;

  /** The block the current thread's hash may use (set only around {@code argon2_ctx}). */
  private static final ThreadLocal<Memory> WORKING = new ThreadLocal<>();

  private static final Allocate ALLOCATE =
      (memory, bytes) -> {
        Memory m = WORKING.get();
        if (m == null || bytes > m.size() - 64) {
          return ALLOCATION_ERROR;
        }
        memory.setValue(m.align(64));
        return 0;
      };

  private static final Release RELEASE = (memory, bytes) -> {}; // wiped by the library; kept

  private static final Optional<Lib> NATIVE = load();

  private static final Optional<Sodium> SODIUM = loadSodium();

  /**
   * libsodium, unless {@code -Dyinxin.sso.argon2.java=true} or {@code
   * -Dyinxin.sso.argon2.libsodium=false} says otherwise.
   */
  private static Optional<Sodium> loadSodium() {
    if (Boolean.getBoolean("yinxin.sso.argon2.java")
        || !Boolean.parseBoolean(System.getProperty("yinxin.sso.argon2.libsodium", "true"))) {
      return Optional.empty();
    }
    // sodium_init: 0 the first time, 1 if already initialised, -1 on failure.
    Optional<Sodium> lib =
        loadFirst(Sodium.class, "sodium", "libsodium.so.23").filter(l -> l.sodium_init() >= 0);
    if (lib.isEmpty()) {
      log.info("event=libsodium_missing detail=libsodium not loadable; Argon2id from libargon2");
    }
    return lib;
  }

  private static Optional<Lib> load() {
    if (Boolean.getBoolean("yinxin.sso.argon2.java")) {
      return Optional.empty();
    }
    Optional<Lib> lib = loadFirst(Lib.class, "argon2", "libargon2.so.1");
    if (lib.isEmpty()) {
      log.info(
          "event=argon2_native_missing detail=libargon2 not loadable; hashes libsodium does not"
              + " take are computed in Java (Bouncy Castle)");
    }
    return lib;
  }

  /** The first of these libraries JNA loads as this interface, on a 64-bit JVM only. */
  private static <T extends Library> Optional<T> loadFirst(Class<T> type, String... names) {
    try {
      if (Native.SIZE_T_SIZE != 8) {
        return Optional.empty();
      }
      for (String name : names) {
        try {
          return Optional.of(Native.load(name, type));
        } catch (UnsatisfiedLinkError e) {
          // try the next name
        }
      }
    } catch (LinkageError e) {
      // JNA's own stub could not be loaded (a temporary folder mounted noexec, say)
    }
    return Optional.empty();
  }

  private final int saltLength;
  private final int hashLength;
  private final int parallelism;
  private final int memoryKib;
  private final int iterations;
  private final Argon2PasswordEncoder java;

  /** As {@link Argon2PasswordEncoder#Argon2PasswordEncoder(int, int, int, int, int)}. */
  public Argon2idPasswords(
      int saltLength, int hashLength, int parallelism, int memoryKib, int iterations) {
    this.saltLength = saltLength;
    this.hashLength = hashLength;
    this.parallelism = parallelism;
    this.memoryKib = memoryKib;
    this.iterations = iterations;
    this.java =
        new Argon2PasswordEncoder(saltLength, hashLength, parallelism, memoryKib, iterations);
  }

  /** Whether hashes are computed by a C library here. */
  public static boolean isNative() {
    return NATIVE.isPresent() || SODIUM.isPresent();
  }

  /** Whether libsodium computes the hashes this class writes (one lane, a 16-byte salt). */
  public static boolean isLibsodium() {
    return SODIUM.isPresent();
  }

  /** Whether libsodium can compute this hash: one lane, its salt length, its least output. */
  private static boolean sodiumCan(int p, int saltLength, int length) {
    return SODIUM.isPresent() && p == 1 && saltLength == SODIUM_SALT && length >= SODIUM_MIN_OUT;
  }

  @Override
  public String encode(CharSequence rawPassword) {
    byte[] pwd =
        NATIVE.isPresent() || sodiumCan(parallelism, saltLength, hashLength)
            ? utf8(rawPassword)
            : null;
    if (pwd == null) {
      return java.encode(rawPassword);
    }
    byte[] salt = new byte[saltLength];
    io.yinxin.hsm.Randomness.current().nextBytes(salt);
    try {
      byte[] hash = hash(pwd, salt, iterations, memoryKib, parallelism, hashLength);
      Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
      return "$argon2id$v=19$m="
          + memoryKib
          + ",t="
          + iterations
          + ",p="
          + parallelism
          + "$"
          + b64.encodeToString(salt)
          + "$"
          + b64.encodeToString(hash);
    } finally {
      Arrays.fill(pwd, (byte) 0);
    }
  }

  @Override
  public boolean matches(CharSequence rawPassword, String encodedPassword) {
    if (rawPassword == null || encodedPassword == null) {
      return false;
    }
    Matcher m = PHC.matcher(encodedPassword);
    if (!isNative() || !m.matches()) {
      return java.matches(rawPassword, encodedPassword);
    }
    long memory;
    int t;
    int p;
    byte[] salt;
    byte[] expected;
    try {
      memory = Long.parseLong(m.group(1));
      t = Integer.parseInt(m.group(2));
      p = Integer.parseInt(m.group(3));
      salt = Base64.getDecoder().decode(m.group(4));
      expected = Base64.getDecoder().decode(m.group(5));
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (memory > MAX_MEMORY_KIB || memory < 8L * p || t < 1 || t > 64 || p < 1) {
      // Not a hash this provider writes (nor a valid one): not computed at any cost.
      return false;
    }
    byte[] pwd =
        NATIVE.isPresent() || sodiumCan(p, salt.length, expected.length) ? utf8(rawPassword) : null;
    if (pwd == null) {
      return java.matches(rawPassword, encodedPassword);
    }
    try {
      return MessageDigest.isEqual(hash(pwd, salt, t, (int) memory, p, expected.length), expected);
    } finally {
      Arrays.fill(pwd, (byte) 0);
    }
  }

  @Override
  public boolean upgradeEncoding(String encodedPassword) {
    return java.upgradeEncoding(encodedPassword);
  }

  /** The raw hash, by libsodium where it can, else by the reference library. */
  private static byte[] hash(byte[] pwd, byte[] salt, int t, int memoryKib, int p, int length) {
    return sodiumCan(p, salt.length, length)
        ? sodiumHash(pwd, salt, t, memoryKib, length)
        : referenceHash(pwd, salt, t, memoryKib, p, length);
  }

  /**
   * libsodium's Argon2id v1.3 with one lane ({@code crypto_pwhash}: {@code opslimit} is the passes,
   * {@code memlimit} the memory in bytes). libsodium maps and wipes its own working memory; the
   * password's copy outside the Java heap is cleared here.
   */
  static byte[] sodiumHash(byte[] pwd, byte[] salt, int t, int memoryKib, int length) {
    Sodium lib = SODIUM.orElseThrow();
    HASHING.acquireUninterruptibly();
    try (Memory in = new Memory(Math.max(1, pwd.length + salt.length));
        Memory out = new Memory(length)) {
      in.write(0, pwd, 0, pwd.length);
      in.write(pwd.length, salt, 0, salt.length);
      int rc;
      try {
        rc =
            lib.crypto_pwhash(
                out,
                length,
                in,
                pwd.length,
                in.share(pwd.length),
                t,
                (long) memoryKib * 1024,
                SODIUM_ARGON2ID13);
      } finally {
        in.clear();
      }
      if (rc != 0) {
        // out of memory, or a limit libsodium refuses: no answer rather than a wrong one.
        throw new IllegalStateException("libsodium crypto_pwhash failed");
      }
      return out.getByteArray(0, length);
    } finally {
      HASHING.release();
    }
  }

  /** The reference library's Argon2id v1.3 ({@code argon2_ctx}), any number of lanes. */
  static byte[] referenceHash(byte[] pwd, byte[] salt, int t, int memoryKib, int p, int length) {
    long bytes = (long) memoryKib * 1024 + 64; // the library uses at most m_cost KiB
    HASHING.acquireUninterruptibly();
    Memory work = KEPT.poll();
    try (Memory in = new Memory(Math.max(1, pwd.length + salt.length));
        Memory out = new Memory(length)) {
      if (work == null || work.size() < bytes) {
        if (work != null) {
          work.close();
          work = null; // never back into the pool, even if the allocation below fails
        }
        work = new Memory(bytes);
      }
      in.write(0, pwd, 0, pwd.length);
      in.write(pwd.length, salt, 0, salt.length);
      Context c = new Context();
      c.out = out;
      c.outlen = length;
      c.pwd = in;
      c.pwdlen = pwd.length;
      c.salt = in.share(pwd.length);
      c.saltlen = salt.length;
      c.t_cost = t;
      c.m_cost = memoryKib;
      c.lanes = p;
      c.threads = p;
      c.version = 0x13;
      c.allocate_cbk = ALLOCATE;
      c.free_cbk = RELEASE;
      WORKING.set(work);
      int rc;
      try {
        rc = NATIVE.orElseThrow().argon2_ctx(c, ARGON2_ID);
      } finally {
        WORKING.remove();
        in.clear(); // the password's copy outside the Java heap
      }
      if (rc != 0) {
        // ARGON2_MEMORY_ALLOCATION_ERROR and the like: no answer rather than a wrong one.
        throw new IllegalStateException("libargon2 failed with code " + rc);
      }
      return out.getByteArray(0, length);
    } finally {
      if (work != null && work.size() <= KEPT_BYTES) {
        KEPT.offer(work);
      } else if (work != null) {
        work.close();
      }
      HASHING.release();
    }
  }

  /** Working-memory blocks kept now (for tests: never more than the permits). */
  static int keptBlocks() {
    return KEPT.size();
  }

  /** How many hashes may run at once. */
  static int permits() {
    return PERMITS;
  }

  /**
   * The password's UTF-8 bytes as Bouncy Castle forms them, or {@code null} for a password with an
   * unpaired surrogate, which Java's encoder would replace and Bouncy Castle refuses: such a
   * password goes to Spring's encoder (and is refused), so both paths always agree.
   */
  private static byte[] utf8(CharSequence raw) {
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < raw.length()
          && Character.isLowSurrogate(raw.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return null;
      }
    }
    return raw.toString().getBytes(StandardCharsets.UTF_8);
  }
}
