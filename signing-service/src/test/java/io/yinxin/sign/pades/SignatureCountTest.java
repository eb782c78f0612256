package io.yinxin.sign.pades;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.yinxin.sign.SignException;
import io.yinxin.sign.testing.TestPdfs;
import io.yinxin.sign.testing.TestSealer;
import io.yinxin.sign.validate.PadesValidator;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation takes at most {@code max-signatures} signatures per document: DSS's work grows with
 * their number times the document's size (a 3.3 MB document with 80 seals took 5.4 s on the
 * embedded node), and the endpoint needs no account.
 */
class SignatureCountTest {
  @TempDir Path dir;

  @Test
  void aDocumentWithMoreSignaturesThanTheLimitIsRefusedBeforeDss() throws Exception {
    TestSealer fixture = TestSealer.create(dir, "count", "CN=Count", "某某公司", "");
    Path doc = dir.resolve("doc.pdf");
    TestPdfs.contract(doc);
    SealOptions o = TestSealer.invisibleBasic();
    Path[] sealed = new Path[4];
    sealed[0] = doc;
    for (int i = 1; i <= 3; i++) {
      sealed[i] = dir.resolve("sealed-" + i + ".pdf");
      fixture.sealer().seal(sealed[i - 1], sealed[i], fixture.seal(), o);
    }
    PadesValidator two = new PadesValidator(List::of, 2);
    assertThat(PadesValidator.summary(two.validate(sealed[2]))).hasSize(2);
    assertThatThrownBy(() -> two.validate(sealed[3]))
        .isInstanceOfSatisfying(
            SignException.class,
            e -> {
              assertThat(e.code()).isEqualTo(SignException.Code.TOO_LARGE);
              assertThat(e.getMessage()).contains("3 signatures").contains("max-signatures");
            });
    assertThat(PadesValidator.summary(new PadesValidator(List::of).validate(sealed[3]))).hasSize(3);
  }
}
