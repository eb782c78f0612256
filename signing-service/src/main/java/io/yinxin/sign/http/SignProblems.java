package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** RFC 9457 problem+json for the signing service's endpoints, with a stable {@code code}. */
@RestControllerAdvice(
    assignableTypes = {SealController.class, ValidationController.class, SealKeyController.class})
public class SignProblems {

  @ExceptionHandler(SignException.class)
  public ResponseEntity<ProblemDetail> problem(SignException e) {
    HttpStatus status = HttpStatus.valueOf(e.code().httpStatus());
    ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, e.getMessage());
    pd.setTitle(e.code().name());
    pd.setProperty("code", e.code().name());
    ResponseEntity.BodyBuilder b =
        ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON);
    if (status == HttpStatus.UNAUTHORIZED) {
      b.header("WWW-Authenticate", "Bearer realm=\"yinxin-sign\"");
    }
    if (e.code() == SignException.Code.BUSY || e.code() == SignException.Code.RATE_LIMITED) {
      b.header("Retry-After", "1");
    }
    return b.body(pd);
  }

  @ExceptionHandler({
    org.springframework.web.bind.MissingServletRequestParameterException.class,
    org.springframework.web.method.annotation.MethodArgumentTypeMismatchException.class,
    org.springframework.http.converter.HttpMessageNotReadableException.class,
    // A query parameter of the sealing options (SealController.SealParams) that is not one value
    // in its one spelling.
    org.springframework.validation.BindException.class
  })
  public ResponseEntity<ProblemDetail> badParameter(Exception e) {
    String name = null;
    if (e
        instanceof
        org.springframework.web.method.annotation.MethodArgumentTypeMismatchException m) {
      name = m.getName();
    } else if (e
        instanceof org.springframework.web.bind.MissingServletRequestParameterException m) {
      name = m.getParameterName();
    } else if (e instanceof org.springframework.validation.BindException b
        && b.getFieldError() != null) {
      name = b.getFieldError().getField();
    }
    return problem(
        new SignException(
            SignException.Code.INVALID_REQUEST,
            name == null
                ? "missing or malformed parameter"
                : "missing or malformed parameter " + name));
  }
}
