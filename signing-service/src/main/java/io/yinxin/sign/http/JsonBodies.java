package io.yinxin.sign.http;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import io.yinxin.sign.SignException;
import io.yinxin.sign.SignException.Code;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.LogicalType;

/**
 * The JSON bodies of the registry's endpoints, read into records only after the caller is known, at
 * most a given number of bytes far, and in one spelling: a member given twice is refused (which one
 * counts is up to the parser, and a proxy or a reviewer may read the other), so is a member the
 * record does not have (a misspelt {@code "grantee"} would otherwise be dropped without a word), a
 * number or a yes-or-no where text is expected, a decimal where a whole number is, a null in a
 * list, and anything after the object. Spring's {@code @RequestBody} does none of this with Boot's
 * mapper (the last duplicate wins, unknown members are ignored, {@code 1} becomes {@code "1"}), and
 * reads the whole body before the handler can check the token.
 */
final class JsonBodies {
  private JsonBodies() {}

  static final JsonMapper STRICT =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .withCoercionConfig(
              LogicalType.Textual,
              c ->
                  c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                      .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                      .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
          .withCoercionConfig(
              LogicalType.Integer,
              c -> c.setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
          .changeDefaultNullHandling(h -> JsonSetter.Value.forContentNulls(Nulls.FAIL))
          .build();

  /**
   * The body as a {@code type}, read at most {@code max} bytes far.
   *
   * @throws SignException TOO_LARGE beyond {@code max}, INVALID_REQUEST for anything not in the one
   *     accepted spelling, naming the member at fault where there is one
   */
  static <T> T read(HttpServletRequest request, int max, Class<T> type) {
    byte[] b;
    try (InputStream in = request.getInputStream()) {
      b = in.readNBytes(max + 1);
    } catch (IOException e) {
      throw new SignException(Code.INVALID_REQUEST, "the body could not be read");
    }
    if (b.length > max) {
      throw new SignException(Code.TOO_LARGE, "the body is larger than " + max + " bytes");
    }
    T value;
    try {
      value = STRICT.readValue(b, type);
    } catch (UnrecognizedPropertyException e) {
      throw new SignException(Code.INVALID_REQUEST, "unknown member " + e.getPropertyName());
    } catch (MismatchedInputException e) {
      throw new SignException(
          Code.INVALID_REQUEST,
          member(e)
              .map(m -> m + " has the wrong type")
              .orElse("the body is not the expected JSON"));
    } catch (JacksonException e) {
      String m = String.valueOf(e.getOriginalMessage());
      throw new SignException(
          Code.INVALID_REQUEST,
          m.startsWith("Duplicate") ? "a member appears twice" : "the body is not JSON");
    }
    if (value == null) {
      throw new SignException(Code.INVALID_REQUEST, "the body is not a JSON object");
    }
    return value;
  }

  /** The top-level member an error is about, if any. */
  private static java.util.Optional<String> member(MismatchedInputException e) {
    return e.getPath().stream()
        .findFirst()
        .map(JacksonException.Reference::getPropertyName)
        .filter(n -> n != null && n.matches("[A-Za-z]{1,40}"));
  }
}
