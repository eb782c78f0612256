package io.yinxin.ca.http;

import io.yinxin.ca.CaException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * RFC 9457 problem+json for the CA's REST endpoints, with a stable {@code code} and {@code field}.
 */
@RestControllerAdvice(
    assignableTypes = {
      CaController.class,
      RevocationInfoController.class,
      EmergencyController.class,
      AcmeKeysController.class
    })
public class CaProblems {

  @ExceptionHandler(CaException.class)
  public ResponseEntity<ProblemDetail> problem(CaException e) {
    HttpStatus status = HttpStatus.valueOf(e.code().httpStatus());
    ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, e.getMessage());
    pd.setTitle(e.code().name());
    pd.setProperty("code", e.code().name());
    if (!e.field().isEmpty()) {
      pd.setProperty("field", e.field());
    }
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
    if (status == HttpStatus.UNAUTHORIZED) {
      b.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"yinxin-ca\"");
    }
    return b.body(pd);
  }

  /**
   * A key backend that cannot sign (an HSM unplugged, Vault sealed): 503 with {@code
   * KEY_BACKEND_UNAVAILABLE} and {@code Retry-After}, nothing written (the signature comes before
   * the evidence and the row). Cached OCSP answers and published CRLs keep being served.
   */
  @ExceptionHandler(io.yinxin.hsm.KeyException.class)
  public ResponseEntity<ProblemDetail> keyBackend(io.yinxin.hsm.KeyException e) {
    boolean down =
        e.code() == io.yinxin.hsm.KeyException.Code.BACKEND_UNAVAILABLE
            || e.code() == io.yinxin.hsm.KeyException.Code.AUTH_FAILED;
    HttpStatus status = down ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.INTERNAL_SERVER_ERROR;
    ProblemDetail pd =
        ProblemDetail.forStatusAndDetail(
            status,
            down
                ? "the CA's key backend cannot sign now; nothing was issued or changed"
                : "the CA's key could not be used");
    String code = down ? "KEY_BACKEND_UNAVAILABLE" : "KEY_ERROR";
    pd.setTitle(code);
    pd.setProperty("code", code);
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
    if (down) {
      b.header(HttpHeaders.RETRY_AFTER, "30");
    }
    return b.body(pd);
  }

  @ExceptionHandler({
    MissingServletRequestParameterException.class,
    MethodArgumentTypeMismatchException.class,
    org.springframework.http.converter.HttpMessageNotReadableException.class
  })
  public ResponseEntity<ProblemDetail> badParameter(Exception e) {
    return problem(
        new CaException(CaException.Code.INVALID_REQUEST, "missing or malformed parameter"));
  }
}
