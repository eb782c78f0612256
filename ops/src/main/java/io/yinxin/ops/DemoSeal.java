package io.yinxin.ops;

import io.yinxin.ca.issue.IssuanceService;
import io.yinxin.ca.issue.Issuer;
import io.yinxin.ca.profile.Profile;
import io.yinxin.hsm.KeyInfo;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import io.yinxin.sign.registry.Seal;
import io.yinxin.sign.registry.SealRegistry;
import io.yinxin.sign.registry.SealSummary;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default's demo enterprise seal, created on first start: a key in the software
 * backend, an {@code enterprise-seal} certificate for 福州某某科技有限公司 (unified social credit code
 * 91350100M000100Y43) from the embedded CA, the drawn appearance, granted to the development
 * caller. Found again on later starts by the id the previous start wrote to {@code dev.json}, and
 * only if that seal is still active and granted to the development caller: not by its name, which
 * anyone allowed to register seals can give another seal with another key (until 2026-12-07 the
 * first seal of that name granted to {@code dev-sealer} became the demo seal).
 */
final class DemoSeal {
  static final String ORGANIZATION = "福州某某科技有限公司";
  static final String CREDIT_CODE = "91350100M000100Y43";
  static final String GRANTEE = "dev-sealer";
  private static final Logger log = LoggerFactory.getLogger(DemoSeal.class);

  private DemoSeal() {}

  static Optional<String> ensure(
      KeyService keys, IssuanceService issuance, SealRegistry registry, Optional<String> previous) {
    Optional<SealSummary> known = previous.flatMap(registry::summary);
    if (known.isPresent()
        && known.get().active()
        && known.get().name().equals(ORGANIZATION)
        && known.get().grantees().contains(GRANTEE)) {
      return Optional.of(known.get().id());
    }
    return Optional.of(create(keys, issuance, registry));
  }

  /** A new demo seal, its key, certificate and grant; its id. */
  static String create(KeyService keys, IssuanceService issuance, SealRegistry registry) {
    try {
      byte[] r = new byte[4];
      io.yinxin.hsm.Randomness.current().nextBytes(r);
      KeyInfo key =
          keys.generate(
              KeyRef.Scheme.SOFT, KeySpec.EC_P256, "demo-seal-" + HexFormat.of().formatHex(r));
      X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
      subject.addRDN(BCStyle.C, "CN");
      subject.addRDN(BCStyle.O, ORGANIZATION);
      subject.addRDN(BCStyle.CN, ORGANIZATION);
      PKCS10CertificationRequest csr =
          new PKCS10CertificationRequestBuilder(
                  subject.build(), SubjectPublicKeyInfo.getInstance(key.publicKey().getEncoded()))
              .build(
                  new KeyServiceContentSigner(
                      keys, key.ref(), key.spec().defaultAlgorithm(), "demo seal CSR"));
      IssuanceService.Issued issued =
          issuance.issue(
              "dev-bootstrap",
              Profile.Channel.REST,
              new IssuanceService.IssueRequest(
                  "enterprise-seal",
                  pem(csr.getEncoded(), "CERTIFICATE REQUEST"),
                  Map.of("organization", ORGANIZATION, "creditCode", CREDIT_CODE),
                  List.of(),
                  List.of()));
      List<X509CertificateHolder> chain = new ArrayList<>();
      chain.add(issued.certificate());
      issued.chain().stream().map(Issuer::certificate).forEach(chain::add);
      StringBuilder chainPem = new StringBuilder();
      for (X509CertificateHolder c : chain) {
        chainPem.append(pem(c.getEncoded(), "CERTIFICATE"));
      }
      Seal seal =
          registry.create(
              "dev-bootstrap",
              new SealRegistry.NewSeal(
                  ORGANIZATION,
                  "合同专用章",
                  key.ref().toString(),
                  chainPem.toString(),
                  Optional.empty(),
                  List.of(GRANTEE)));
      log.info("event=demo_seal_created seal={}", seal.id());
      return seal.id();
    } catch (IOException e) {
      throw new IllegalStateException("the demo seal could not be created", e);
    }
  }

  private static String pem(byte[] der, String type) throws IOException {
    StringWriter w = new StringWriter();
    try (PemWriter pw = new PemWriter(w)) {
      pw.writeObject(new org.bouncycastle.util.io.pem.PemObject(type, der));
    }
    return w.toString();
  }
}
