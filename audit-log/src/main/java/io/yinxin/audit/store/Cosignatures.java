package io.yinxin.audit.store;

import io.yinxin.audit.AuditException;
import io.yinxin.audit.AuditException.Code;
import io.yinxin.audit.note.NoteVerifierKey;
import io.yinxin.audit.note.SignedNote;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Witnesses' cosignatures (C2SP tlog-witness cosignature/v1): the only thing anyone outside the log
 * may write into it, so each line is checked against a configured witness key before it is stored,
 * and served with the checkpoint from then on.
 */
public final class Cosignatures {
  private final LogStore store;
  private final LogReader reader;
  private final Map<String, NoteVerifierKey> witnesses = new LinkedHashMap<>();

  public Cosignatures(LogStore store, LogReader reader, List<NoteVerifierKey> witnesses) {
    this.store = store;
    this.reader = reader;
    witnesses.forEach(w -> this.witnesses.put(w.name(), w));
  }

  /**
   * Accepts a witness's cosignature line for the checkpoint of {@code size}, if it is a valid
   * cosignature/v1 by a configured witness key.
   */
  public void add(long size, String line) {
    if (line.length() > 2000 || line.contains("\n")) {
      throw new AuditException(Code.INVALID_REQUEST, "one signature line, without newlines");
    }
    try (Connection c = store.connection()) {
      c.setAutoCommit(false);
      try {
        LogStore.StoredCheckpoint cp =
            store
                .checkpointAt(c, size)
                .orElseThrow(
                    () -> new AuditException(Code.NOT_FOUND, "no checkpoint of size " + size));
        SignedNote body = SignedNote.parse(cp.note());
        SignedNote.Line parsed;
        try {
          parsed = SignedNote.parse(body.body() + "\n" + line + "\n").signatures().get(0);
        } catch (IllegalArgumentException e) {
          throw new AuditException(Code.INVALID_REQUEST, "malformed signature line");
        }
        NoteVerifierKey w = witnesses.get(parsed.name());
        if (w == null) {
          throw new AuditException(Code.UNAUTHORIZED, "not a configured witness: " + parsed.name());
        }
        SignedNote one = new SignedNote(body.body(), List.of(parsed));
        Optional<Long> time = one.cosignedBy(w);
        if (time.isEmpty()) {
          throw new AuditException(Code.INVALID_REQUEST, "cosignature does not verify");
        }
        store.upsertCosignature(c, size, w.name(), line, time.get());
        store.commitDurably(c);
        reader.forgetLatest();
        AuditMetrics.cosigned(w.name());
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw LogStore.unavailable(e);
    }
  }
}
