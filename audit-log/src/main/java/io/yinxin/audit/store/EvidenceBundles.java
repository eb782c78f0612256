package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.merkle.Rfc9162;
import io.yinxin.audit.merkle.SubtreeHashes;
import io.yinxin.audit.merkle.Tiles;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import io.yinxin.audit.note.TlogProof;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.json.JsonMapper;

/**
 * Evidence bundles for auditors: the events they ask for with what proves each one is in the log,
 * in one JSON document that {@code audit-verify} checks offline.
 */
public final class EvidenceBundles {
  public static final String BUNDLE_FORMAT = "yinxin-evidence-bundle/v1";

  /** Most events one bundle holds. */
  public static final int MAX_BUNDLE_EVENTS = 10_000;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final LogStore store;
  private final TileCache tiles;
  private final LogReader reader;
  private final NoteVerifierKey logKey;
  private CheckpointKeys checkpointKeys;

  /** Bundles that name, as their log key, the checkpoint key that signed their checkpoint. */
  public EvidenceBundles(
      LogStore store, TileCache tiles, LogReader reader, CheckpointKeys checkpointKeys) {
    this(store, tiles, reader, checkpointKeys.active().verifierKey());
    this.checkpointKeys = checkpointKeys;
  }

  public EvidenceBundles(
      LogStore store, TileCache tiles, LogReader reader, NoteVerifierKey logKey) {
    this.store = store;
    this.tiles = tiles;
    this.reader = reader;
    this.logKey = logKey;
  }

  /** What an auditor asks for. */
  public record BundleQuery(
      Optional<String> subject,
      Optional<String> type,
      Optional<Instant> from,
      Optional<Instant> to,
      Optional<Long> knownSize,
      int limit) {
    /**
     * A query that can match nothing for a reason the auditor would want to hear of (a misspelt
     * type, a subject longer than any, the range's ends swapped) is refused, not answered with an
     * empty bundle that reads like an absence.
     */
    public BundleQuery {
      type.ifPresent(
          t -> {
            if (java.util.Arrays.stream(io.yinxin.audit.EventType.values())
                .noneMatch(e -> e.name().equals(t))) {
              throw new io.yinxin.audit.AuditException(
                  io.yinxin.audit.AuditException.Code.INVALID_REQUEST, "unknown event type");
            }
          });
      subject.ifPresent(
          s -> {
            if (s.length() > 512) {
              throw new io.yinxin.audit.AuditException(
                  io.yinxin.audit.AuditException.Code.INVALID_REQUEST,
                  "subject is at most 512 characters, as in every event");
            }
          });
      if (from.isPresent() && to.isPresent() && from.get().isAfter(to.get())) {
        throw new io.yinxin.audit.AuditException(
            io.yinxin.audit.AuditException.Code.INVALID_REQUEST, "from is after to");
      }
    }
  }

  /**
   * An evidence bundle (JSON, format {@value #BUNDLE_FORMAT}): the matching events with their salts
   * and leaves, a tlog-proof per event bound to the newest checkpoint, the log's verifier key, the
   * newest time-stamped checkpoint with its RFC 3161 reply and a consistency proof to the newest
   * (if a TSA stamps this log), and optionally a consistency proof from a checkpoint size the
   * auditor already holds.
   */
  public String bundle(BundleQuery q) {
    if (q.limit() < 1 || q.limit() > MAX_BUNDLE_EVENTS) {
      throw new AuditException(Code.INVALID_REQUEST, "limit must be 1-" + MAX_BUNDLE_EVENTS);
    }
    return reader.read(
        c -> {
          LogStore.StoredCheckpoint cp = reader.checkpointFor(c, Optional.empty());
          SignedNote note = reader.withCosignatures(c, cp);
          SubtreeHashes h = Tiles.subtreeHashes(tiles.reader(c), cp.size());
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("format", BUNDLE_FORMAT);
          NoteVerifierKey signer =
              checkpointKeys == null
                  ? logKey
                  : checkpointKeys
                      .signerOf(c, note)
                      .map(CheckpointKeys.Key::verifierKey)
                      .orElse(logKey);
          out.put("origin", signer.name());
          out.put("logKey", signer.toString());
          out.put("checkpoint", note.text());
          List<Object> entries = new ArrayList<>();
          for (LogStore.StoredEvent e :
              store.events(c, q.subject(), q.type(), q.from(), q.to(), cp.size(), q.limit())) {
            List<byte[]> proof = Rfc9162.inclusionProof(h, e.index(), cp.size());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("index", e.index());
            entry.put("leaf", b64(e.leaf()));
            if (e.event() == null) {
              throw new AuditException(
                  AuditException.Code.UNAVAILABLE,
                  "event " + e.index() + " does not decrypt (changed, or its key is gone)");
            }
            entry.put("event", e.event());
            entry.put("salt", b64(e.salt()));
            entry.put("proof", new TlogProof(Optional.empty(), e.index(), proof, note).text());
            entries.add(entry);
          }
          out.put("entries", entries);
          Optional<LogStore.TimestampedCheckpoint> stamped = store.latestTimestamped(c, cp.size());
          if (stamped.isPresent()) {
            // Trusted time for a prefix of the log: the newest time-stamped checkpoint, the TSA's
            // reply over it, and the proof that the bundle's checkpoint extends it.
            LogStore.StoredCheckpoint t = stamped.get().checkpoint();
            Map<String, Object> ts = new LinkedHashMap<>();
            ts.put("checkpoint", t.note());
            ts.put("reply", b64(stamped.get().reply()));
            ts.put(
                "consistency",
                b64s(
                    t.size() == cp.size()
                        ? List.of()
                        : Rfc9162.consistencyProof(h, t.size(), cp.size())));
            out.put("timestamp", ts);
          }
          if (q.knownSize().isPresent()) {
            long known = q.knownSize().get();
            if (known < 1 || known > cp.size()) {
              throw new AuditException(Code.INVALID_REQUEST, "knownSize must be 1-" + cp.size());
            }
            Map<String, Object> consistency = new LinkedHashMap<>();
            consistency.put("fromSize", known);
            consistency.put("proof", b64s(Rfc9162.consistencyProof(h, known, cp.size())));
            out.put("consistency", consistency);
          }
          return JSON.writeValueAsString(out);
        });
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static List<String> b64s(List<byte[]> hashes) {
    return hashes.stream().map(EvidenceBundles::b64).toList();
  }
}
