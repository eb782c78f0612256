package io.yinxin.sign.pades;

import io.yinxin.sign.SignException;
import java.time.Instant;
import java.util.Optional;

/**
 * How one document is sealed.
 *
 * @param level the PAdES baseline level
 * @param placement where the seal appears, or {@link Placement.Invisible}
 * @param reason the signature dictionary's /Reason (optional)
 * @param location its /Location (optional)
 * @param certify 0 for an approval signature, 1-3 for a certification signature with that DocMDP
 *     permission (1: no changes, 2: form filling and signing, 3: also annotations)
 * @param signingTime the claimed signing time written as /M
 */
public record SealOptions(
    Level level,
    Placement placement,
    Optional<String> reason,
    Optional<String> location,
    int certify,
    Instant signingTime) {
  public SealOptions {
    if (certify < 0 || certify > 3) {
      throw new SignException(SignException.Code.INVALID_REQUEST, "certify must be 1, 2 or 3");
    }
    reason.ifPresent(r -> checkText("reason", r));
    location.ifPresent(l -> checkText("location", l));
  }

  private static void checkText(String what, String value) {
    if (value.length() > 200 || value.chars().anyMatch(c -> c < 0x20)) {
      throw new SignException(
          SignException.Code.INVALID_REQUEST, what + " must be at most 200 printable characters");
    }
  }

  /** PAdES baseline levels (ETSI EN 319 142-1 §6). */
  public enum Level {
    B_B,
    B_T,
    B_LT,
    B_LTA;

    /** Parses {@code B-B}, {@code B-T}, {@code B-LT}, {@code B-LTA}. */
    public static Level parse(String s) {
      return switch (s) {
        case "B-B" -> B_B;
        case "B-T" -> B_T;
        case "B-LT" -> B_LT;
        case "B-LTA" -> B_LTA;
        default ->
            throw new SignException(
                SignException.Code.INVALID_REQUEST, "level must be B-B, B-T, B-LT or B-LTA");
      };
    }

    public String label() {
      return name().replace('_', '-');
    }
  }

  /** Where a seal goes. */
  public sealed interface Placement {
    /** No appearance: the signature is in the document's form, not on a page. */
    record Invisible() implements Placement {}

    /**
     * A rectangle on a page, in PDF points from the page's lower-left corner (as displayed).
     *
     * @param page 1-based page number
     */
    record Box(int page, float x, float y, float width, float height) implements Placement {
      public Box {
        if (page < 1
            || !(width >= 10 && width <= 2000)
            || !(height >= 10 && height <= 2000)
            || !Float.isFinite(x)
            || !Float.isFinite(y)) {
          throw new SignException(
              SignException.Code.INVALID_PLACEMENT,
              "a seal box needs page >= 1 and a width and height of 10-2000 points");
        }
      }
    }

    /**
     * A square seal of {@code size} points centred on the first occurrence of {@code text} (e.g.
     * {@code {{seal}}}) in the document.
     */
    record Anchor(String text, float size) implements Placement {
      public Anchor {
        if (text.isBlank() || text.length() > 100) {
          throw new SignException(
              SignException.Code.INVALID_PLACEMENT, "an anchor is 1-100 characters");
        }
        if (!(size >= 10 && size <= 2000)) {
          throw new SignException(
              SignException.Code.INVALID_PLACEMENT, "a seal size is 10-2000 points");
        }
      }
    }

    /** An existing empty signature field, by its fully qualified name. */
    record Field(String name) implements Placement {}
  }
}
