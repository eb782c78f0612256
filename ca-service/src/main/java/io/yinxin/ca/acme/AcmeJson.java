package io.yinxin.ca.acme;

import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * JSON of the ACME server, with Jackson as everywhere in Yinxin. Strict: a member given twice is
 * refused (which one would count is up to the parser, and the client's and ours may disagree), and
 * so is anything after the object. Nimbus parses only what is JOSE's (the protected header).
 */
final class AcmeJson {
  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private AcmeJson() {}

  /** The bytes as a JSON object, or empty if they are not exactly one. */
  static Optional<Map<String, Object>> object(byte[] json) {
    try {
      Object o = MAPPER.readValue(json, Object.class);
      if (o instanceof Map<?, ?>) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) o;
        return Optional.of(m);
      }
      return Optional.empty();
    } catch (JacksonException e) {
      return Optional.empty();
    }
  }

  static byte[] write(Map<String, Object> value) {
    return MAPPER.writeValueAsBytes(value);
  }
}
