package io.yinxin.audit.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.EventType;
import io.yinxin.audit.store.CheckpointPublisher;
import io.yinxin.audit.store.EvidenceBundles;
import io.yinxin.audit.store.Integrator;
import io.yinxin.audit.store.LogReader;
import io.yinxin.audit.store.LogStore;
import io.yinxin.audit.store.TileCache;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyServices;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.soft.SoftKeyBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What audit-verify prints cannot be steered by the evidence it reads. Anyone who gets text into an
 * event (a certificate request's subject, a user name) gets it into every bundle that holds the
 * event, valid and signed: printed as it is, its escape sequences would rewrite the auditor's
 * screen.
 */
class AuditVerifyOutputTest {
  /**
   * Erase the line, go up one, print a verdict, then hide all later output; a carriage return; a
   * right-to-left override; a C1 control sequence introducer.
   */
  private static final String HOSTILE =
      "citizen\u001b[2K\u001b[1A\rVERDICT: VALID\n\u001b[8m\u202eevil\u009b2J\u2028";

  @TempDir static Path dir;

  /** A bundle of two events, the first with {@link #HOSTILE} as its subject, and its log's key. */
  private static String bundle;

  private static String verifierKey;

  @BeforeAll
  static void log() throws Exception {
    KeyServices keys = KeyServices.of(SoftKeyBackend.open(dir.resolve("keys")));
    KeyRef key = KeyRef.parse("soft:verify-output-checkpoint");
    keys.generate(KeyRef.Scheme.SOFT, KeySpec.ED25519, key.label());
    org.h2.jdbcx.JdbcDataSource ds = new org.h2.jdbcx.JdbcDataSource();
    ds.setURL(
        "jdbc:h2:mem:verify-output;DB_CLOSE_DELAY=-1;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
            + "DEFAULT_NULL_ORDERING=HIGH");
    LogStore store = LogStore.open(ds);
    TileCache tiles = new TileCache(store, 1024);
    CheckpointPublisher publisher =
        new CheckpointPublisher(store, tiles, keys, key, "yinxin.test/verify-output");
    try (Integrator integrator = new Integrator(store, 100, 1000)) {
      integrator.append(AuditEvent.of(EventType.CERT_ISSUED, "ca", HOSTILE, Map.of()));
      integrator.append(AuditEvent.of(EventType.CERT_ISSUED, "ca", "honest", Map.of()));
      publisher.publish();
      bundle =
          new EvidenceBundles(
                  store,
                  tiles,
                  new LogReader(store, tiles, publisher.verifierKey()),
                  publisher.verifierKey())
              .bundle(
                  new EvidenceBundles.BundleQuery(
                      Optional.empty(),
                      Optional.of("CERT_ISSUED"),
                      Optional.empty(),
                      Optional.empty(),
                      Optional.empty(),
                      100));
    }
    verifierKey = publisher.verifierKey().toString();
  }

  @Test
  void controlCharactersFromAValidEventAreShownEscapedAndTheVerdictStaysTheTool() throws Exception {
    String valid = run(Files.writeString(dir.resolve("valid.json"), bundle), verifierKey, 0);
    assertOnlyPrintable(valid);
    assertThat(valid).contains("citizen\\u001b[2K\\u001b[1A\\u000dVERDICT: VALID\\u000a");
    assertThat(valid).contains("\\u202eevil\\u009b2J\\u2028");
    assertThat(valid.lines().filter(l -> l.startsWith("VERDICT")).toList())
        .containsExactly("VERDICT: VALID");

    // The honest event changed: the verdict is INVALID, on a line of its own, and the only one.
    String tampered =
        run(
            Files.writeString(
                dir.resolve("tampered.json"),
                bundle.replace("\\\"subject\\\":\\\"honest\\\"", "\\\"subject\\\":\\\"forged\\\"")),
            verifierKey,
            1);
    assertOnlyPrintable(tampered);
    assertThat(tampered).contains("FAIL  event 1: event does not match the commitment");
    assertThat(tampered.lines().filter(l -> l.startsWith("VERDICT")).toList())
        .containsExactly("VERDICT: INVALID (1 failures)");
  }

  /**
   * A bundle of the wrong shape — another JSON value at the top, a field of another type, a missing
   * or mistyped entry index — is INVALID with a reason, in text and in JSON, not a stack trace.
   */
  @Test
  void aMalformedBundleIsInvalidWithAReasonNotACrash() throws Exception {
    String checkpoint =
        "\"checkpoint\":" + bundle.split("\"checkpoint\":", 2)[1].split(",\"", 2)[0];
    List<String> malformed =
        List.of(
            "[]",
            "\"a bundle\"",
            "{\"format\":\"yinxin-evidence-bundle/v1\"}",
            "{\"format\":\"yinxin-evidence-bundle/v1\",\"checkpoint\":5}",
            "{\"format\":\"yinxin-evidence-bundle/v1\"," + checkpoint + ",\"entries\":{}}",
            "{\"format\":\"yinxin-evidence-bundle/v1\"," + checkpoint + ",\"entries\":[7]}",
            "{\"format\":\"yinxin-evidence-bundle/v1\"," + checkpoint + ",\"entries\":[{}]}",
            bundle.replaceFirst("\"index\":0", "\"index\":\"0\""),
            bundle.replaceFirst("\"index\":0", "\"index\":null"));
    for (int i = 0; i < malformed.size(); i++) {
      Path file = Files.writeString(dir.resolve("malformed-" + i + ".json"), malformed.get(i));
      String text = run(file, verifierKey, 1);
      assertThat(text)
          .as(malformed.get(i))
          .doesNotContain("Exception")
          .doesNotContain("\tat ")
          .contains("FAIL  ");
      assertThat(text.lines().filter(l -> l.startsWith("VERDICT")).toList())
          .as(malformed.get(i))
          .singleElement()
          .satisfies(l -> assertThat(l).startsWith("VERDICT: INVALID"));
      String json = run(file, verifierKey, 1, "--json");
      assertThat(io.yinxin.audit.evidence.Json.parse(json.strip()))
          .as(json)
          .isInstanceOfSatisfying(
              Map.class, m -> assertThat(m.get("valid")).isEqualTo(Boolean.FALSE));
    }
  }

  private static String run(Path bundle, String key, int expectedExit, String... more) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit =
        AuditVerify.run(
            java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(bundle.toString(), "--key", key),
                    java.util.Arrays.stream(more))
                .toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(out, true, StandardCharsets.UTF_8));
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(text).isEqualTo(expectedExit);
    return text;
  }

  /**
   * Nothing a terminal acts on besides the line feeds that end lines, by the JDK's Unicode tables:
   * no control character (C0, DEL, C1), no line or paragraph separator, no bidirectional embedding,
   * override or isolate, no left-to-right, right-to-left or Arabic letter mark.
   */
  static void assertOnlyPrintable(String output) {
    Set<Byte> bidi =
        Set.of(
            Character.DIRECTIONALITY_LEFT_TO_RIGHT_EMBEDDING,
            Character.DIRECTIONALITY_RIGHT_TO_LEFT_EMBEDDING,
            Character.DIRECTIONALITY_LEFT_TO_RIGHT_OVERRIDE,
            Character.DIRECTIONALITY_RIGHT_TO_LEFT_OVERRIDE,
            Character.DIRECTIONALITY_POP_DIRECTIONAL_FORMAT,
            Character.DIRECTIONALITY_LEFT_TO_RIGHT_ISOLATE,
            Character.DIRECTIONALITY_RIGHT_TO_LEFT_ISOLATE,
            Character.DIRECTIONALITY_FIRST_STRONG_ISOLATE,
            Character.DIRECTIONALITY_POP_DIRECTIONAL_ISOLATE);
    int[] bad =
        output
            .chars()
            .filter(
                c ->
                    c != '\n'
                        && (Character.getType(c) == Character.CONTROL
                            || Character.getType(c) == Character.LINE_SEPARATOR
                            || Character.getType(c) == Character.PARAGRAPH_SEPARATOR
                            || bidi.contains(Character.getDirectionality(c))
                            || c == 0x200e
                            || c == 0x200f
                            || c == 0x061c))
            .toArray();
    assertThat(bad).as(Arrays.toString(bad)).isEmpty();
  }
}
