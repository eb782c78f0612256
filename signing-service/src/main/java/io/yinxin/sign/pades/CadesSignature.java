package io.yinxin.sign.pades;

import io.yinxin.hsm.BouncyCastle;
import io.yinxin.hsm.KeyRef;
import io.yinxin.hsm.KeyService;
import io.yinxin.hsm.SignatureAlgorithm;
import io.yinxin.hsm.bridge.KeyServiceContentSigner;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuerSerial;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAbsentContent;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * The CMS of a PAdES baseline signature (ETSI EN 319 142-1 §6.3, EN 319 122-1): detached SignedData
 * over the PDF's byte ranges, with exactly three signed attributes — content-type, message-digest
 * and signing-certificate-v2 — and no signing-time (the signature dictionary's {@code /M} carries
 * the claimed time). The digest is computed here while the byte ranges stream by, so a document of
 * any size costs one buffer; the signature is made in the key backend.
 *
 * <p>ECDSA and RSA signatures use SHA-256 throughout. An SM2 key gets the national profile: SM3
 * digests (message digest and the certificate hash, OID 1.2.156.10197.1.401) and an SM3withSM2
 * signature (1.2.156.10197.1.501) over the DER of the signed attributes, with the default signer ID
 * of GM/T 0009.
 */
public final class CadesSignature {
  private CadesSignature() {}

  /** Whether the algorithm is the national SM2/SM3 one. */
  static boolean sm2(SignatureAlgorithm alg) {
    return alg == SignatureAlgorithm.SM3_WITH_SM2;
  }

  /** The digest algorithm of the content and certificate hashes for a signature algorithm. */
  public static ASN1ObjectIdentifier digestOid(SignatureAlgorithm alg) {
    return switch (alg) {
      case SM3_WITH_SM2 -> GMObjectIdentifiers.sm3;
      case ECDSA_SHA384 -> NISTObjectIdentifiers.id_sha384;
      default -> NISTObjectIdentifiers.id_sha256;
    };
  }

  /** A fresh digest for {@link #digestOid}. */
  public static MessageDigest digest(SignatureAlgorithm alg) {
    try {
      return MessageDigest.getInstance(digestOid(alg).getId(), BouncyCastle.PROVIDER);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Digests a stream (the document's signed byte ranges) with the algorithm's digest. */
  public static byte[] digest(SignatureAlgorithm alg, InputStream content) throws IOException {
    MessageDigest md = digest(alg);
    byte[] buf = new byte[64 * 1024];
    for (int n; (n = content.read(buf)) > 0; ) {
      md.update(buf, 0, n);
    }
    return md.digest();
  }

  /**
   * Signs a precomputed content digest.
   *
   * @param chain the signer's certificate first, then its issuers (all go into the CMS)
   * @param purpose recorded with the key use
   * @return the DER SignedData
   */
  public static byte[] sign(
      KeyService keys,
      KeyRef key,
      SignatureAlgorithm alg,
      List<X509CertificateHolder> chain,
      byte[] contentDigest,
      String purpose) {
    return sign(keys, key, alg, chain, contentDigest, purpose, false);
  }

  /**
   * As {@link #sign(KeyService, KeyRef, SignatureAlgorithm, List, byte[], String)}; with {@code
   * recordedByCaller} the key use is left to the caller's own audit event ({@link
   * io.yinxin.hsm.KeyService#signRecordedByCaller}): only {@link PadesSealer#sealAndRecord}, whose
   * DOCUMENT_SEALED event names the key, signs so.
   */
  static byte[] sign(
      KeyService keys,
      KeyRef key,
      SignatureAlgorithm alg,
      List<X509CertificateHolder> chain,
      byte[] contentDigest,
      String purpose,
      boolean recordedByCaller) {
    try {
      return sign(
          keys,
          key,
          alg,
          chain,
          signingCertificateV2(alg, chain.get(0)),
          contentDigest,
          purpose,
          recordedByCaller);
    } catch (IOException e) {
      throw new IllegalStateException("unusable certificate", e);
    }
  }

  /**
   * As {@link #sign(KeyService, KeyRef, SignatureAlgorithm, List, byte[], String, boolean)}, with
   * the signer's signing-certificate-v2 attribute already computed ({@link
   * SealIdentity#signingCertificateV2()}).
   */
  static byte[] sign(
      KeyService keys,
      KeyRef key,
      SignatureAlgorithm alg,
      List<X509CertificateHolder> chain,
      Attribute signingCertificateV2,
      byte[] contentDigest,
      String purpose,
      boolean recordedByCaller) {
    try {
      X509CertificateHolder signer = chain.get(0);
      CMSAttributeTableGenerator signedAttributes =
          (Map params) -> {
            Hashtable<ASN1ObjectIdentifier, Attribute> t = new Hashtable<>();
            t.put(
                CMSAttributes.contentType,
                new Attribute(CMSAttributes.contentType, new DERSet(PKCSObjectIdentifiers.data)));
            t.put(
                CMSAttributes.messageDigest,
                new Attribute(
                    CMSAttributes.messageDigest, new DERSet(new DEROctetString(contentDigest))));
            t.put(PKCSObjectIdentifiers.id_aa_signingCertificateV2, signingCertificateV2);
            return new AttributeTable(t);
          };
      CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
      gen.addSignerInfoGenerator(
          new JcaSignerInfoGeneratorBuilder(
                  new JcaDigestCalculatorProviderBuilder()
                      .setProvider(BouncyCastle.PROVIDER)
                      .build())
              .setSignedAttributeGenerator(signedAttributes)
              .build(
                  recordedByCaller
                      ? KeyServiceContentSigner.recordedByCaller(keys, key, alg, purpose)
                      : new KeyServiceContentSigner(keys, key, alg, purpose),
                  signer));
      gen.addCertificates(new JcaCertStore(chain));
      // Detached: the content (the byte ranges) was digested by the caller.
      CMSSignedData signed = gen.generate(new CMSAbsentContent(), false);
      return signed.getEncoded("DER");
    } catch (CMSException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("CMS signature could not be built", e);
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("unusable certificate", e);
    }
  }

  /** ESS signing-certificate-v2 (RFC 5035): the signer certificate's hash and issuer/serial. */
  static Attribute signingCertificateV2(SignatureAlgorithm alg, X509CertificateHolder cert)
      throws IOException {
    MessageDigest md = digest(alg);
    byte[] hash = md.digest(cert.getEncoded());
    IssuerSerial issuerSerial =
        new IssuerSerial(
            new GeneralNames(new GeneralName(cert.getIssuer())), cert.getSerialNumber());
    ASN1ObjectIdentifier oid = digestOid(alg);
    // SHA-256 is the default hashAlgorithm and is left out (DER); any other is named.
    ESSCertIDv2 id =
        oid.equals(NISTObjectIdentifiers.id_sha256)
            ? new ESSCertIDv2(hash, issuerSerial)
            : new ESSCertIDv2(new AlgorithmIdentifier(oid), hash, issuerSerial);
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(new SigningCertificateV2(new ESSCertIDv2[] {id}));
    return new Attribute(PKCSObjectIdentifiers.id_aa_signingCertificateV2, new DERSet(v));
  }
}
