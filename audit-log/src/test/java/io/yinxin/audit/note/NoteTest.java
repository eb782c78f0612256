package io.yinxin.audit.note;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NoteTest {

  static KeyPair ed25519() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  static byte[] sign(KeyPair k, byte[] msg) throws Exception {
    Signature s = Signature.getInstance("Ed25519");
    s.initSign(k.getPrivate());
    s.update(msg);
    return s.sign();
  }

  @Test
  void checkpointBodyIsTheC2spFormat() {
    byte[] root = new byte[32];
    root[0] = 1;
    Checkpoint cp = new Checkpoint("example.com/log", 20852163, root, List.of());
    assertThat(cp.body())
        .isEqualTo("example.com/log\n20852163\nAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    Checkpoint back = Checkpoint.parse(cp.body());
    assertThat(back.origin()).isEqualTo("example.com/log");
    assertThat(back.size()).isEqualTo(20852163);
    assertThat(back.root()).isEqualTo(root);
    assertThatThrownBy(() -> Checkpoint.parse("example.com/log\n012\nAA==\n"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void signedCheckpointVerifiesOnlyWithTheRightKeyAndUntouchedBody() throws Exception {
    KeyPair log = ed25519();
    NoteVerifierKey vkey =
        new NoteVerifierKey(
            "yinxin.test/log", NoteVerifierKey.ED25519, Ed25519Keys.raw(log.getPublic()));
    Checkpoint cp = new Checkpoint("yinxin.test/log", 7, new byte[32], List.of());
    SignedNote note =
        new SignedNote(
            cp.body(),
            List.of(new SignedNote.Line(vkey.name(), vkey.keyId(), sign(log, cp.bodyBytes()))));
    SignedNote parsed = SignedNote.parse(note.text());
    assertThat(parsed.verifiedBy(vkey)).isTrue();
    assertThat(parsed.verifiedBy(NoteVerifierKey.parse(vkey.toString()))).isTrue();
    assertThat(note.text()).contains("\n\n\u2014 yinxin.test/log ");

    SignedNote tampered = SignedNote.parse(note.text().replace("\n7\n", "\n8\n"));
    assertThat(tampered.verifiedBy(vkey)).isFalse();
    NoteVerifierKey other =
        new NoteVerifierKey(
            "yinxin.test/log", NoteVerifierKey.ED25519, Ed25519Keys.raw(ed25519().getPublic()));
    assertThat(parsed.verifiedBy(other)).isFalse();
  }

  @Test
  void verifierKeyIdIsSha256OfNameNewlineTypeAndKey() throws Exception {
    byte[] pub = Ed25519Keys.raw(ed25519().getPublic());
    NoteVerifierKey k = new NoteVerifierKey("a.example/log", NoteVerifierKey.ED25519, pub);
    java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
    md.update("a.example/log\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    md.update((byte) 1);
    md.update(pub);
    assertThat(k.keyId()).isEqualTo(java.util.Arrays.copyOf(md.digest(), 4));
    String text = k.toString();
    assertThat(text)
        .startsWith("a.example/log+")
        .matches("a\\.example/log\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]{44}");
    assertThatThrownBy(
            () -> NoteVerifierKey.parse(text.replaceFirst("\\+[0-9a-f]{8}\\+", "+00000000+")))
        .hasMessageContaining("does not match");
  }

  @Test
  void cosignatureV1IsVerifiedWithItsTimestamp() throws Exception {
    KeyPair witness = ed25519();
    NoteVerifierKey w =
        new NoteVerifierKey(
            "witness.test/w1",
            NoteVerifierKey.COSIGNATURE_V1,
            Ed25519Keys.raw(witness.getPublic()));
    String body = new Checkpoint("yinxin.test/log", 3, new byte[32], List.of()).body();
    long time = 1_795_000_000L;
    byte[] sig = sign(witness, SignedNote.cosignedMessage(body, time));
    byte[] ts = ByteBuffer.allocate(72).putLong(time).put(sig).array();
    SignedNote note = new SignedNote(body, List.of(new SignedNote.Line(w.name(), w.keyId(), ts)));
    assertThat(SignedNote.parse(note.text()).cosignedBy(w)).contains(time);

    byte[] wrongTime = ByteBuffer.allocate(72).putLong(time + 1).put(sig).array();
    SignedNote bad =
        new SignedNote(body, List.of(new SignedNote.Line(w.name(), w.keyId(), wrongTime)));
    assertThat(bad.cosignedBy(w)).isEqualTo(Optional.empty());
  }

  @Test
  void tlogProofRoundTrips() throws Exception {
    KeyPair log = ed25519();
    NoteVerifierKey vkey =
        new NoteVerifierKey(
            "yinxin.test/log", NoteVerifierKey.ED25519, Ed25519Keys.raw(log.getPublic()));
    Checkpoint cp = new Checkpoint("yinxin.test/log", 9, new byte[32], List.of());
    SignedNote note =
        new SignedNote(
            cp.body(),
            List.of(new SignedNote.Line(vkey.name(), vkey.keyId(), sign(log, cp.bodyBytes()))));
    TlogProof p = new TlogProof(Optional.empty(), 4, List.of(new byte[32], new byte[32]), note);
    assertThat(p.text()).startsWith("c2sp.org/tlog-proof@v1\nindex 4\n");
    TlogProof back = TlogProof.parse(p.text());
    assertThat(back.index()).isEqualTo(4);
    assertThat(back.proof()).hasSize(2);
    assertThat(back.checkpoint().verifiedBy(vkey)).isTrue();
    assertThatThrownBy(() -> TlogProof.parse(p.text().replace("index 4", "index 04")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
