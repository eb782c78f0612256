package io.yinxin.sign.validate;

import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * The certificates validation trusts: configured PEM files, or (on a node that also runs the CA)
 * the CA hierarchy's roots. Asked on every validation.
 */
@FunctionalInterface
public interface TrustAnchors {
  List<X509CertificateHolder> current();
}
