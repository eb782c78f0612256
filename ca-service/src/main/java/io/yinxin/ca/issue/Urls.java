package io.yinxin.ca.issue;

/**
 * Where relying parties find revocation information and issuer certificates; written into every
 * certificate (CRL distribution points, freshest CRL, authority information access).
 *
 * @param base public base URL of the CA, e.g. {@code http://127.0.0.1:8080}, no trailing slash
 */
public record Urls(String base) {
  public Urls {
    if (!base.matches("https?://[^\\s/?#]+(/[^\\s?#]*)?") || base.endsWith("/")) {
      throw new IllegalArgumentException(
          "yinxin.ca.public-url must be an http(s) URL without a trailing slash");
    }
  }

  public String crl(String ca, int partition) {
    return base + "/ca/crl/" + ca + "/" + partition + ".crl";
  }

  public String deltaCrl(String ca, int partition) {
    return base + "/ca/crl/" + ca + "/" + partition + "-delta.crl";
  }

  public String ocsp() {
    return base + "/ca/ocsp";
  }

  public String caCertificate(String ca) {
    return base + "/ca/v1/cas/" + ca + "/certificate";
  }
}
