package io.yinxin.sso.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;

/**
 * Password hashes computed by the C libraries (libsodium for the hashes this class writes, the
 * reference library for the rest) agree with the published Argon2id test vector and with Bouncy
 * Castle (through Spring's encoder, which older hashes were made with) in both directions.
 */
class Argon2idPasswordsTest {
  private static final Argon2idPasswords OURS = new Argon2idPasswords(16, 32, 1, 7 * 1024, 5);
  private static final Argon2PasswordEncoder SPRING =
      new Argon2PasswordEncoder(16, 32, 1, 7 * 1024, 5);
  private static final List<String> PASSWORDS =
      List.of("correct horse battery staple", "密码是张三的生日19491231", "emoji 🔐 pair", "x");

  @Test
  void theCLibraryIsWhatHashesOnThisMachine() {
    // .ci/run installs libargon2-1: without it this test would only cover the Java path.
    assertThat(Argon2idPasswords.isNative()).isTrue();
  }

  @Test
  void libsodiumHashesWhatThisClassWritesOnThisMachine() {
    // .ci/run installs libsodium23: without it the hashes this class writes go to libargon2.
    assertThat(Argon2idPasswords.isLibsodium()).isTrue();
  }

  @Test
  void libsodiumTheReferenceLibraryAndBouncyCastleGiveTheSameBytes() {
    // Bouncy Castle is the independent judge (checked against the published vector below);
    // libsodium takes 16-byte salts and one lane only, so no published vector fits it directly.
    java.security.SecureRandom random = new java.security.SecureRandom();
    int[][] costs = {{5, 7 * 1024}, {1, 8}, {3, 1024}, {2, 65536}};
    for (String pw : PASSWORDS) {
      for (int[] cost : costs) {
        for (int length : new int[] {16, 32, 64}) {
          byte[] salt = new byte[16];
          random.nextBytes(salt);
          byte[] password = pw.getBytes(StandardCharsets.UTF_8);
          byte[] bc = new byte[length];
          Argon2BytesGenerator generator = new Argon2BytesGenerator();
          generator.init(
              new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                  .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                  .withIterations(cost[0])
                  .withMemoryAsKB(cost[1])
                  .withParallelism(1)
                  .withSalt(salt)
                  .build());
          generator.generateBytes(password, bc);
          String what = pw + " t=" + cost[0] + " m=" + cost[1] + " out=" + length;
          assertThat(Argon2idPasswords.sodiumHash(password, salt, cost[0], cost[1], length))
              .as(what)
              .isEqualTo(bc);
          assertThat(Argon2idPasswords.referenceHash(password, salt, cost[0], cost[1], 1, length))
              .as(what)
              .isEqualTo(bc);
        }
      }
    }
  }

  @Test
  void theReferenceImplementationsTestVectorVerifies() {
    // phc-winner-argon2 src/test.c, Argon2id v1.3: t=2, m=2^16 KiB, p=1, "password", "somesalt".
    String published =
        "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    assertThat(OURS.matches("password", published)).isTrue();
    assertThat(OURS.matches("Password", published)).isFalse();
    // The same vector through Bouncy Castle directly: the raw hash of src/test.c.
    byte[] out = new byte[32];
    Argon2BytesGenerator bc = new Argon2BytesGenerator();
    bc.init(
        new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withIterations(2)
            .withMemoryAsKB(65536)
            .withParallelism(1)
            .withSalt("somesalt".getBytes(StandardCharsets.US_ASCII))
            .build());
    bc.generateBytes("password".getBytes(StandardCharsets.US_ASCII), out);
    assertThat(HexFormat.of().formatHex(out))
        .isEqualTo("09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7");
  }

  @Test
  void hashesMadeHereVerifyInBouncyCastleAndTheOtherWayRound() {
    for (String pw : PASSWORDS) {
      String ours = OURS.encode(pw);
      assertThat(ours).startsWith("$argon2id$v=19$m=7168,t=5,p=1$");
      assertThat(SPRING.matches(pw, ours)).as(pw).isTrue();
      assertThat(SPRING.matches(pw + " ", ours)).isFalse();
      String theirs = SPRING.encode(pw);
      assertThat(OURS.matches(pw, theirs)).as(pw).isTrue();
      assertThat(OURS.matches(pw.substring(1), theirs)).isFalse();
      assertThat(OURS.upgradeEncoding(ours)).isFalse();
    }
  }

  @Test
  void manySignInsAtOnceGetTheRightAnswersFromKeptWorkingMemory() throws Exception {
    // Hashes made by Bouncy Castle at two strengths and two lanes, checked by 16 threads at once:
    // blocks are reused between hashes of different sizes and lanes, and wiped by the library,
    // so every answer must still be Bouncy Castle's.
    var twoLanes = new Argon2PasswordEncoder(16, 32, 2, 8 * 1024, 3);
    List<String> made = new java.util.ArrayList<>();
    for (String pw : PASSWORDS) {
      made.add(SPRING.encode(pw));
      made.add(twoLanes.encode(pw));
    }
    var pool = java.util.concurrent.Executors.newFixedThreadPool(16);
    try {
      List<java.util.concurrent.Future<Boolean>> answers = new java.util.ArrayList<>();
      for (int round = 0; round < 4; round++) {
        for (int i = 0; i < made.size(); i++) {
          String pw = PASSWORDS.get(i / 2);
          String hash = made.get(i);
          boolean right = round % 2 == 0;
          answers.add(pool.submit(() -> OURS.matches(right ? pw : pw + "!", hash) == right));
        }
        answers.add(pool.submit(() -> SPRING.matches("fresh", OURS.encode("fresh"))));
      }
      for (var a : answers) {
        assertThat(a.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(Argon2idPasswords.keptBlocks())
        .isBetween(1, Argon2idPasswords.permits()); // one block per hash at a time, no more
  }

  @Test
  void malformedOrUnpairedInputIsRefusedOrAnsweredAsBouncyCastleWould() {
    String good = OURS.encode("pw");
    assertThat(OURS.matches("pw", good.replace("$v=19$", "$v=16$"))).isFalse();
    assertThat(OURS.matches("pw", good.substring(0, good.length() - 3))).isFalse();
    assertThat(OURS.matches("pw", "not a hash")).isFalse();
    assertThat(OURS.matches(null, good)).isFalse();
    // A stored hash asking for absurd memory is not computed.
    assertThat(OURS.matches("pw", good.replace("m=7168", "m=99999999"))).isFalse();
    // An unpaired surrogate: Java's UTF-8 encoder would replace it, Bouncy Castle's refuses it;
    // such a password goes to Bouncy Castle, so it is refused the same way as before.
    String unpaired = "pw\uD800";
    assertThatThrownBy(() -> SPRING.encode(unpaired)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> OURS.encode(unpaired)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> OURS.matches(unpaired, good))
        .isInstanceOf(IllegalStateException.class);
  }
}
