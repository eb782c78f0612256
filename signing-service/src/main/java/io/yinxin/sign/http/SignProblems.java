package io.yinxin.sign.http;

import io.yinxin.sign.SignException;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** RFC 9457 problem+json for the signing service's endpoints, with a stable {@code code}. */
@RestControllerAdvice(assignableTypes = {TsaController.class})
public class SignProblems {

  @ExceptionHandler(SignException.class)
  public ResponseEntity<ProblemDetail> problem(SignException e) {
    HttpStatus status = HttpStatus.valueOf(e.code().httpStatus());
    ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, e.getMessage());
    pd.setTitle(e.code().name());
    pd.setProperty("code", e.code().name());
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(pd);
  }
}
