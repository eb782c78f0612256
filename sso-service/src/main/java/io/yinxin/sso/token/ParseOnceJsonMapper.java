package io.yinxin.sso.token;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcOperations;
import org.springframework.security.jackson.SecurityJacksonModules;
import org.springframework.security.oauth2.server.authorization.JdbcOAuth2AuthorizationService;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON mapper of the JDBC authorization service, configured as upstream's (Spring Security's
 * Jackson modules with their allow-list of types), that parses each distinct column text once.
 *
 * <p>Why: an authorization row keeps the authorization request and the signed-in principal as typed
 * JSON, and Spring Security's allow-listed polymorphic parsing of it is slow — a tenth of the CPU
 * of a complete code + PKCE sign-in, twelve times the cost of writing the same JSON. The same text
 * is read several times in one sign-in (the token request finds the authorization by its code, then
 * {@code save} reads it again to choose between INSERT and UPDATE, and refresh-token reuse
 * detection reads it once more), and the {@code attributes} column does not change after the
 * authorization request. The cache is keyed by the exact text and target type, so what it returns
 * is what parsing that text returns — on any node, whatever another node wrote meanwhile: nothing
 * can be stale, since a changed row is a different key. Each caller gets its own copies of the
 * mutable JDK containers (maps, lists, sets) so no caller sees another's changes; the objects
 * inside (authorization requests, principals, instants) are shared, as upstream's own code never
 * changes them after parsing.
 *
 * <p>Bounded: at most {@link #CAPACITY} entries, least recently used first out, and texts longer
 * than {@link #MAX_CACHED_CHARS} are parsed every time.
 */
public final class ParseOnceJsonMapper extends JsonMapper {
  static final int CAPACITY = 1024;
  static final int MAX_CACHED_CHARS = 64 * 1024;

  private record Key(JavaType type, String text) {}

  private final Map<Key, Object> parsed =
      new LinkedHashMap<>(CAPACITY * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Object> eldest) {
          return size() > CAPACITY;
        }
      };

  /** Texts really parsed, cached or not. */
  private long parses;

  public ParseOnceJsonMapper() {
    super(
        JsonMapper.builder()
            .addModules(
                SecurityJacksonModules.getModules(ParseOnceJsonMapper.class.getClassLoader())));
  }

  /**
   * The JDBC authorization service with this mapper reading its rows (writing stays upstream's).
   */
  public static JdbcOAuth2AuthorizationService authorizations(
      JdbcOperations jdbc, RegisteredClientRepository clients) {
    JdbcOAuth2AuthorizationService service = new JdbcOAuth2AuthorizationService(jdbc, clients);
    service.setAuthorizationRowMapper(
        new JdbcOAuth2AuthorizationService.JsonMapperOAuth2AuthorizationRowMapper(
            clients, new ParseOnceJsonMapper()));
    return service;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T readValue(String content, JavaType valueType) {
    if (content == null || content.length() > MAX_CACHED_CHARS) {
      synchronized (parsed) {
        parses++;
      }
      return super.readValue(content, valueType);
    }
    Key key = new Key(valueType, content);
    Object value;
    synchronized (parsed) {
      value = parsed.get(key);
    }
    if (value == null) {
      value = super.readValue(content, valueType);
      synchronized (parsed) {
        parses++;
        if (value != null) {
          parsed.put(key, value);
        }
      }
    }
    return (T) copy(value);
  }

  /** How many texts were really parsed (for tests). */
  long parses() {
    synchronized (parsed) {
      return parses;
    }
  }

  /** Fresh copies of the JDK's mutable containers, recursively; every other object shared. */
  private static Object copy(Object v) {
    Class<?> c = v == null ? null : v.getClass();
    if (c == LinkedHashMap.class || c == HashMap.class) {
      Map<Object, Object> out =
          c == HashMap.class ? new HashMap<>() : new LinkedHashMap<>(((Map<?, ?>) v).size() * 2);
      ((Map<?, ?>) v).forEach((k, x) -> out.put(k, copy(x)));
      return out;
    }
    if (c == ArrayList.class) {
      List<Object> out = new ArrayList<>(((List<?>) v).size());
      ((List<?>) v).forEach(x -> out.add(copy(x)));
      return out;
    }
    if (c == HashSet.class || c == LinkedHashSet.class) {
      var out = c == HashSet.class ? new HashSet<Object>() : new LinkedHashSet<Object>();
      ((java.util.Set<?>) v).forEach(x -> out.add(copy(x)));
      return out;
    }
    return v;
  }
}
