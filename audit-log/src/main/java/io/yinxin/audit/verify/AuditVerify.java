package io.yinxin.audit.verify;

import io.yinxin.audit.evidence.Json;
import io.yinxin.audit.evidence.Leaf;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.note.Checkpoint;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.audit.note.TlogProof;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The auditor's offline verifier for Yinxin evidence bundles. It trusts only the log key the
 * auditor passes with {@code --key} (never the key inside the bundle), uses no network and no
 * dependency beyond the JDK. {@code audit-verify.jar monitor ...} runs {@link LogMonitor}, which
 * follows a live log over HTTP.
 *
 * <pre>
 * java -jar audit-verify.jar bundle.json --key VKEY [--witness VKEY ...] [--quorum K]
 *      [--since old-checkpoint.txt] [--tsa-cert tsa.pem] [--json]
 * </pre>
 *
 * Checks: the checkpoint's signature; for every event, that its salted commitment matches its
 * public leaf, that the leaf's type and time match the event, and that its tlog-proof is an
 * inclusion proof against that same signed checkpoint; optionally witness cosignatures (k of n) and
 * consistency with a checkpoint the auditor already holds; with {@code --tsa-cert}, the RFC 3161
 * time-stamp of a checkpoint the bundle's one extends. Exit status 0 only if every check passes.
 */
public final class AuditVerify {
  private final List<String> failures = new ArrayList<>();
  private final List<String> lines = new ArrayList<>();
  private boolean emptyBundle;

  private AuditVerify() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the verifier; returns the exit status (0 valid, 1 invalid, 2 usage or unreadable). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    if (args.length > 0 && args[0].equals("monitor")) {
      return LogMonitor.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
    }
    Path bundle = null;
    String key = null;
    List<String> witnessKeys = new ArrayList<>();
    int quorum = 0;
    Path since = null;
    Path tsaCert = null;
    boolean json = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--key":
            key = args[++i];
            break;
          case "--witness":
            witnessKeys.add(args[++i]);
            break;
          case "--quorum":
            quorum = Integer.parseInt(args[++i]);
            break;
          case "--since":
            since = Path.of(args[++i]);
            break;
          case "--tsa-cert":
            tsaCert = Path.of(args[++i]);
            break;
          case "--json":
            json = true;
            break;
          default:
            if (args[i].startsWith("--") || bundle != null) {
              throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            bundle = Path.of(args[i]);
        }
      }
      if (bundle == null || key == null) {
        throw new IllegalArgumentException("a bundle file and --key are required");
      }
    } catch (RuntimeException e) {
      err.println("audit-verify: " + Printable.line(String.valueOf(e.getMessage())));
      err.println(
          "usage: java -jar audit-verify.jar bundle.json --key VKEY [--witness VKEY ...]"
              + " [--quorum K] [--since checkpoint.txt] [--tsa-cert tsa.pem] [--json]");
      return 2;
    }
    AuditVerify v = new AuditVerify();
    try {
      v.verify(
          Files.readString(bundle, StandardCharsets.UTF_8),
          NoteVerifierKey.parse(key),
          witnessKeys.stream().map(NoteVerifierKey::parse).toList(),
          quorum,
          since == null
              ? Optional.empty()
              : Optional.of(Files.readString(since, StandardCharsets.UTF_8)),
          tsaCert == null
              ? Optional.empty()
              : Optional.of(TimestampCheck.certificate(Files.readAllBytes(tsaCert))));
    } catch (IOException | IllegalArgumentException e) {
      v.fail("unreadable input: " + e.getMessage());
    } catch (RuntimeException e) {
      // A field of another type than the format says (a number for a text, an object for a list).
      v.fail(
          "unreadable input: not a bundle of the expected form ("
              + e.getClass().getSimpleName()
              + ")");
    }
    v.print(out, json);
    return v.failures.isEmpty() ? 0 : 1;
  }

  private void fail(String what) {
    failures.add(what);
    lines.add("FAIL  " + what);
  }

  private void ok(String what) {
    lines.add("ok    " + what);
  }

  @SuppressWarnings("unchecked")
  private void verify(
      String text,
      NoteVerifierKey logKey,
      List<NoteVerifierKey> witnesses,
      int quorum,
      Optional<String> since,
      Optional<X509Certificate> tsa) {
    if (!(Json.parse(text) instanceof Map<?, ?> parsed)
        || !"yinxin-evidence-bundle/v1".equals(parsed.get("format"))) {
      fail("not a yinxin-evidence-bundle/v1");
      return;
    }
    Map<String, Object> b = (Map<String, Object>) parsed;
    if (!(b.get("checkpoint") instanceof String checkpointText)) {
      fail("bundle has no checkpoint");
      return;
    }
    SignedNote note = SignedNote.parse(checkpointText);
    if (!note.verifiedBy(logKey)) {
      fail("checkpoint is not signed by " + logKey.name());
      return;
    }
    Checkpoint cp = Checkpoint.parse(note.body());
    if (!cp.origin().equals(logKey.name())) {
      fail("checkpoint origin " + cp.origin() + " is not " + logKey.name());
      return;
    }
    ok(
        "checkpoint signed by "
            + logKey.name()
            + ": size "
            + cp.size()
            + ", root "
            + b64(cp.root()));

    if (quorum > 0 || !witnesses.isEmpty()) {
      int valid = 0;
      for (NoteVerifierKey w : witnesses) {
        Optional<Long> t = note.cosignedBy(w);
        if (t.isPresent()) {
          valid++;
          ok("cosigned by witness " + w.name() + " at " + t.get());
        } else {
          lines.add("      no valid cosignature from " + w.name());
        }
      }
      if (valid < quorum) {
        fail("only " + valid + " of the required " + quorum + " witness cosignatures");
      }
    }

    if (!(b.get("entries") instanceof List<?> entries)) {
      fail("bundle has no entries array");
      return;
    }
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i) instanceof Map<?, ?> e && e.get("index") instanceof Long) {
        verifyEntry((Map<String, Object>) e, note, cp);
      } else {
        fail("entry " + (i + 1) + " of the bundle: not an object with a numeric index");
      }
    }
    if (entries.isEmpty()) {
      emptyBundle = true;
      lines.add(
          "      the bundle holds no events: it proves nothing about whether any event exists"
              + " (the log may hold events the bundle leaves out)");
    }

    if (since.isPresent()) {
      verifyConsistency((Map<String, Object>) b.get("consistency"), since.get(), logKey, cp);
    }
    Map<String, Object> ts = (Map<String, Object>) b.get("timestamp");
    if (tsa.isPresent()) {
      if (ts == null) {
        fail("the bundle carries no time-stamp (the log has no TSA, or none answered yet)");
      } else {
        verifyTimestamp(ts, tsa.get(), logKey, cp);
      }
    } else if (ts != null) {
      lines.add("      the bundle carries an RFC 3161 time-stamp; pass --tsa-cert to check it");
    }
  }

  /**
   * The time-stamp binds a checkpoint the log signed to a time the TSA vouches for; the consistency
   * proof shows the bundle's checkpoint extends it, so every entry below its size was logged by
   * then.
   */
  @SuppressWarnings("unchecked")
  private void verifyTimestamp(
      Map<String, Object> ts, X509Certificate tsa, NoteVerifierKey logKey, Checkpoint cp) {
    try {
      String stampedText = (String) ts.get("checkpoint");
      SignedNote stamped = SignedNote.parse(stampedText);
      if (!stamped.verifiedBy(logKey)) {
        fail("the time-stamped checkpoint is not signed by " + logKey.name());
        return;
      }
      Checkpoint tcp = Checkpoint.parse(stamped.body());
      List<byte[]> proof = new ArrayList<>();
      for (Object p : (List<Object>) ts.get("consistency")) {
        proof.add(Base64.getDecoder().decode((String) p));
      }
      boolean extended =
          tcp.size() == cp.size()
              ? MessageDigest.isEqual(tcp.root(), cp.root())
              : tcp.size() < cp.size()
                  && Rfc9162.verifyConsistency(tcp.size(), cp.size(), tcp.root(), cp.root(), proof);
      if (!extended) {
        fail("the time-stamped checkpoint " + tcp.size() + " is not a prefix of the bundle's");
        return;
      }
      TimestampCheck.Verified v =
          TimestampCheck.verify(
              Base64.getDecoder().decode((String) ts.get("reply")),
              stampedText.getBytes(StandardCharsets.UTF_8),
              tsa);
      ok(
          "time-stamped by "
              + v.tsa()
              + ": the log held its first "
              + tcp.size()
              + " entries at "
              + v.time());
    } catch (RuntimeException e) {
      fail("time-stamp: " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  private void verifyEntry(Map<String, Object> e, SignedNote note, Checkpoint cp) {
    long index = ((Number) e.get("index")).longValue();
    String where = "event " + index;
    try {
      byte[] leafBytes = Base64.getDecoder().decode((String) e.get("leaf"));
      String event = (String) e.get("event");
      byte[] salt = Base64.getDecoder().decode((String) e.get("salt"));
      Leaf leaf = Leaf.decode(leafBytes);
      if (!leaf.commitsTo(salt, event.getBytes(StandardCharsets.UTF_8))) {
        fail(where + ": event does not match the commitment in its leaf");
        return;
      }
      Map<String, Object> ev = (Map<String, Object>) Json.parse(event);
      if (!leaf.type().equals(ev.get("type")) || !leaf.time().equals(ev.get("time"))) {
        fail(where + ": leaf type/time differ from the event");
        return;
      }
      TlogProof proof = TlogProof.parse((String) e.get("proof"));
      if (proof.index() != index) {
        fail(where + ": proof is for index " + proof.index());
        return;
      }
      if (!proof.checkpoint().body().equals(note.body())) {
        fail(where + ": proof is bound to another checkpoint");
        return;
      }
      if (!Rfc9162.verifyInclusion(
          index, cp.size(), Rfc9162.leafHash(leafBytes), proof.proof(), cp.root())) {
        fail(where + ": inclusion proof does not verify");
        return;
      }
      ok(
          where
              + ": "
              + ev.get("type")
              + " at "
              + ev.get("time")
              + ", subject "
              + ev.get("subject")
              + ", actor "
              + ev.get("actor")
              + " — committed and included");
    } catch (RuntimeException ex) {
      fail(where + ": malformed (" + ex.getMessage() + ")");
    }
  }

  @SuppressWarnings("unchecked")
  private void verifyConsistency(
      Map<String, Object> c, String oldNoteText, NoteVerifierKey logKey, Checkpoint cp) {
    SignedNote old = SignedNote.parse(oldNoteText);
    if (!old.verifiedBy(logKey)) {
      fail("the --since checkpoint is not signed by " + logKey.name());
      return;
    }
    Checkpoint oldCp = Checkpoint.parse(old.body());
    if (c == null || ((Number) c.get("fromSize")).longValue() != oldCp.size()) {
      fail("bundle has no consistency proof from size " + oldCp.size());
      return;
    }
    List<byte[]> proof = new ArrayList<>();
    for (Object p : (List<Object>) c.get("proof")) {
      proof.add(Base64.getDecoder().decode((String) p));
    }
    if (Rfc9162.verifyConsistency(oldCp.size(), cp.size(), oldCp.root(), cp.root(), proof)) {
      ok("append-only: size " + oldCp.size() + " is a prefix of size " + cp.size());
    } else {
      fail(
          "checkpoint "
              + cp.size()
              + " is NOT consistent with the one you held at "
              + oldCp.size());
    }
  }

  private void print(PrintStream out, boolean json) {
    if (json) {
      StringBuilder sb =
          new StringBuilder("{\"valid\":")
              .append(failures.isEmpty())
              .append(",\"events\":")
              .append(!emptyBundle)
              .append(",\"failures\":[");
      for (int i = 0; i < failures.size(); i++) {
        Json.string(sb.append(i == 0 ? "" : ","), failures.get(i));
      }
      sb.append("],\"checks\":[");
      for (int i = 0; i < lines.size(); i++) {
        Json.string(sb.append(i == 0 ? "" : ","), lines.get(i));
      }
      out.println(sb.append("]}"));
      return;
    }
    lines.forEach(l -> out.println(Printable.line(l)));
    out.println(
        failures.isEmpty()
            ? (emptyBundle
                ? "VERDICT: VALID, BUT EMPTY (the checkpoint checks out; no event is proven, and"
                    + " no absence of events either)"
                : "VERDICT: VALID")
            : "VERDICT: INVALID (" + failures.size() + " failures)");
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }
}
