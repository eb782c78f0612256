package io.yinxin.hsm.pkcs11;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyException.Code;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.security.auth.login.LoginException;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * Maps PKCS#11 failures, from either binding, to {@link KeyException}s. Only CKR_ names go into
 * messages: neither binding ever puts a PIN into an exception, and nor do we.
 */
final class Pkcs11Errors {
  private static final Pattern CKR = Pattern.compile("CKR_[A-Z_0-9]+");

  private static final Set<String> AUTH =
      Set.of(
          "CKR_PIN_INCORRECT",
          "CKR_PIN_LEN_RANGE",
          "CKR_PIN_INVALID",
          "CKR_PIN_LOCKED",
          "CKR_PIN_EXPIRED");

  /** Errors after which new sessions (and, for SunPKCS11, a new provider) may succeed. */
  private static final Set<String> RECOVERABLE =
      Set.of(
          "CKR_SESSION_HANDLE_INVALID",
          "CKR_SESSION_CLOSED",
          "CKR_DEVICE_REMOVED",
          "CKR_DEVICE_ERROR",
          "CKR_TOKEN_NOT_PRESENT",
          "CKR_TOKEN_NOT_RECOGNIZED",
          "CKR_USER_NOT_LOGGED_IN",
          "CKR_KEY_HANDLE_INVALID",
          "CKR_OBJECT_HANDLE_INVALID",
          "CKR_CRYPTOKI_NOT_INITIALIZED",
          "CKR_GENERAL_ERROR");

  private Pkcs11Errors() {}

  /** The CKR_ name found in the exception or its causes, or the innermost class name. */
  static String describe(Throwable e) {
    Throwable last = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      last = t;
      if (t instanceof PKCS11Exception p) {
        return org.xipki.pkcs11.wrapper.PKCS11Constants.ckrCodeToName(p.getErrorCode());
      }
      String m = t.getMessage();
      if (m != null) {
        Matcher matcher = CKR.matcher(m);
        if (matcher.find()) {
          return matcher.group();
        }
        if (m.contains("Token has been removed") || m.contains("Token removed")) {
          return "CKR_TOKEN_NOT_PRESENT";
        }
      }
    }
    return last.getClass().getSimpleName();
  }

  static boolean isRecoverable(Throwable e) {
    return RECOVERABLE.contains(describe(e));
  }

  static KeyException translate(Throwable e, String context) {
    if (e instanceof KeyException k) {
      return k;
    }
    String name = describe(e);
    boolean login = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      login |= t instanceof LoginException;
    }
    if (AUTH.contains(name) || login) {
      // No cause attached: keep every layer of the PKCS#11 stack out of the caller's hands.
      return new KeyException(Code.AUTH_FAILED, context + ": PIN rejected (" + name + ")");
    }
    return new KeyException(Code.BACKEND_UNAVAILABLE, context + ": " + name, e);
  }
}
