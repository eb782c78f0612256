package io.yinxin.ca.revoke;

import io.yinxin.ca.CaException;
import java.util.Arrays;

/** RFC 5280 §5.3.1 CRLReason codes, by the names the standard gives them. */
public enum RevocationReason {
  UNSPECIFIED("unspecified", 0),
  KEY_COMPROMISE("keyCompromise", 1),
  CA_COMPROMISE("cACompromise", 2),
  AFFILIATION_CHANGED("affiliationChanged", 3),
  SUPERSEDED("superseded", 4),
  CESSATION_OF_OPERATION("cessationOfOperation", 5),
  CERTIFICATE_HOLD("certificateHold", 6),
  REMOVE_FROM_CRL("removeFromCRL", 8),
  PRIVILEGE_WITHDRAWN("privilegeWithdrawn", 9),
  AA_COMPROMISE("aACompromise", 10);

  private final String rfcName;
  private final int code;

  RevocationReason(String rfcName, int code) {
    this.rfcName = rfcName;
    this.code = code;
  }

  public String rfcName() {
    return rfcName;
  }

  public int code() {
    return code;
  }

  public static RevocationReason ofCode(int code) {
    for (RevocationReason r : values()) {
      if (r.code == code) {
        return r;
      }
    }
    throw new IllegalArgumentException("CRLReason " + code);
  }

  /**
   * The reason an operator may give when revoking an end-entity certificate.
   *
   * @throws CaException {@code INVALID_REQUEST} for an unknown name or one that does not apply
   */
  public static RevocationReason forRevocation(String name) {
    String n = name == null || name.isBlank() ? "unspecified" : name;
    for (RevocationReason r : values()) {
      if (r.rfcName.equals(n)) {
        if (r == REMOVE_FROM_CRL || r == CA_COMPROMISE || r == AA_COMPROMISE) {
          break;
        }
        return r;
      }
    }
    throw new CaException(
        CaException.Code.INVALID_REQUEST,
        "reason",
        "must be one of "
            + Arrays.stream(values())
                .filter(r -> r != REMOVE_FROM_CRL && r != CA_COMPROMISE && r != AA_COMPROMISE)
                .map(RevocationReason::rfcName)
                .toList());
  }
}
