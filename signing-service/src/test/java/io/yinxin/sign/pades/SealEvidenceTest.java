package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.audit.AuditEvent;
import io.yinxin.audit.AuditLog;
import io.yinxin.audit.EventType;
import io.yinxin.audit.Receipt;
import io.yinxin.audit.spring.KeyUseAuditListener;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.sign.testing.SignedPdfs;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestSealer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a seal leaves in the evidence log, with the real key-use audit listener in front of the key
 * service: {@code sealAndRecord} one DOCUMENT_SEALED event that names the key (and no KEY_USED
 * beside it); a bare {@code seal} the KEY_USED event every other signature leaves; and no sealed
 * document when its event cannot be recorded.
 */
class SealEvidenceTest {
  @TempDir Path dir;

  private final List<AuditEvent> recorded = new CopyOnWriteArrayList<>();
  private volatile boolean logDown;
  private final AuditLog log =
      event -> {
        if (logDown) {
          throw new IllegalStateException("the evidence log is unreachable");
        }
        recorded.add(event);
        return new Receipt(recorded.size() - 1, new byte[32]);
      };

  private KeyInfo key;
  private SealIdentity seal;
  private PadesSealer sealer;
  private Path in;

  @BeforeEach
  void setUp() throws Exception {
    TestSealer t =
        TestSealer.create(
            dir,
            "evidence-seal",
            "C=CN,O=福州某某科技有限公司,CN=福州某某科技有限公司",
            "福州某某科技有限公司",
            "合同专用章",
            List.of(new KeyUseAuditListener(() -> log, Optional.empty())));
    key = t.key();
    seal = t.seal();
    sealer = t.sealer();
    in = dir.resolve("in.pdf");
    TestPdfs.contract(in);
    recorded.clear(); // the key's generation is not what these tests are about
  }

  private static SealOptions options() {
    return new SealOptions(
        SealOptions.Level.B_B,
        new SealOptions.Placement.Invisible(),
        Optional.empty(),
        Optional.empty(),
        0,
        Instant.now());
  }

  private static String sha256(Path p) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  @Test
  void aRecordedSealIsOneEventThatNamesTheKey() throws Exception {
    Path out = dir.resolve("out.pdf");
    String before = sha256(in);

    sealer.sealAndRecord(in, out, seal, options(), "client:erp", log);

    SignedPdfs.verifiedSigner(out, -1);
    assertThat(recorded).hasSize(1);
    AuditEvent e = recorded.get(0);
    assertThat(e.type()).isEqualTo(EventType.DOCUMENT_SEALED);
    assertThat(e.actor()).isEqualTo("client:erp");
    assertThat(e.subject()).isEqualTo("evidence-seal");
    assertThat(e.attributes())
        .containsEntry("key", key.ref().toString())
        .containsEntry("algorithm", "ECDSA_SHA256")
        .containsEntry("level", "B-B")
        .containsEntry("documentSha256Before", before)
        .containsEntry("documentSha256After", sha256(out));
    assertThat(sha256(out)).isNotEqualTo(before);
  }

  @Test
  void theRecordedHashesAreThoseOfTheFilesForADocumentThatNeedsRepairs() throws Exception {
    // A wrong startxref offset: read only with repairs (the lenient path seals it and reads the
    // result back); the "after" hash, taken while the file is written, must still be the file's.
    String text = new String(Files.readAllBytes(in), java.nio.charset.StandardCharsets.ISO_8859_1);
    int at = text.lastIndexOf("startxref\n") + "startxref\n".length();
    int end = text.indexOf('\n', at);
    Path damaged = dir.resolve("damaged.pdf");
    Files.write(
        damaged,
        (text.substring(0, at) + "17" + text.substring(end))
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThat(PadesSealer.openStrict(damaged)).as("needs repairs").isNull();
    Path out = dir.resolve("repaired-out.pdf");

    sealer.sealAndRecord(damaged, out, seal, options(), "client:erp", log);

    SignedPdfs.verifiedSigner(out, -1);
    assertThat(recorded).hasSize(1);
    assertThat(recorded.get(0).attributes())
        .containsEntry("documentSha256Before", sha256(damaged))
        .containsEntry("documentSha256After", sha256(out));
  }

  @Test
  void aBareSealLeavesTheKeyUseEventOfAnyOtherSignature() throws Exception {
    sealer.seal(in, dir.resolve("out.pdf"), seal, options());

    assertThat(recorded).hasSize(1);
    assertThat(recorded.get(0).type()).isEqualTo(EventType.KEY_USED);
    assertThat(recorded.get(0).subject()).isEqualTo(key.ref().toString());
  }

  @Test
  void noSealedDocumentWithoutItsEvent() throws Exception {
    Path out = dir.resolve("out.pdf");
    logDown = true;

    assertThatThrownBy(() -> sealer.sealAndRecord(in, out, seal, options(), "client:erp", log))
        .hasMessageContaining("unreachable");

    assertThat(out).doesNotExist();
    assertThat(recorded).isEmpty();
  }
}
