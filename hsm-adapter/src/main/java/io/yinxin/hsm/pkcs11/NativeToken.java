package io.yinxin.hsm.pkcs11;

import io.yinxin.hsm.KeyException;
import io.yinxin.hsm.KeyException.Code;
import io.yinxin.hsm.KeySpec;
import io.yinxin.hsm.PlaceholderCertificate;
import io.yinxin.hsm.PublicKeys;
import io.yinxin.hsm.SignatureAlgorithm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Slot;
import org.xipki.pkcs11.wrapper.Token;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_PSS_PARAMS;

/**
 * The token as seen through the xipki PKCS#11 binding: slot lookup by label, login, key and
 * certificate objects, and CKM_EDDSA signing. Never calls C_Finalize: the module is shared with
 * SunPKCS11 in the same process.
 */
final class NativeToken implements AutoCloseable {
  /** Raw ECDSA over a digest: SoftHSM2 2.6 has no CKM_ECDSA_SHA256/384. */
  private static final long CKM_ECDSA = 0x1041;

  private static final long CKM_SHA256_RSA_PKCS = 0x40;

  private final Token token;
  private final long slotId;
  private final BlockingQueue<Session> idle;
  private final Map<String, Long> privateHandles = new ConcurrentHashMap<>();
  private final Map<String, Long> secretHandles = new ConcurrentHashMap<>();

  private NativeToken(Token token, long slotId, int poolSize) {
    this.token = token;
    this.slotId = slotId;
    this.idle = new ArrayBlockingQueue<>(poolSize);
  }

  static NativeToken open(Path library, String label, char[] pin, int poolSize) {
    try {
      PKCS11Module module = PKCS11Module.getInstance(library.toAbsolutePath().toString());
      try {
        module.initialize();
      } catch (PKCS11Exception e) {
        if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
          throw e;
        }
      }
      for (Slot slot : module.getSlotList(true)) {
        Token t = slot.getToken();
        if (t.getTokenInfo().getLabel().strip().equals(label)) {
          NativeToken nt = new NativeToken(t, slot.getSlotID(), poolSize);
          nt.login(pin);
          return nt;
        }
      }
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "no PKCS#11 token labelled " + label);
    } catch (KeyException e) {
      throw e;
    } catch (IOException | PKCS11Exception e) {
      throw Pkcs11Errors.translate(e, "cannot open PKCS#11 token " + label);
    } catch (org.xipki.pkcs11.wrapper.TokenException e) {
      throw Pkcs11Errors.translate(e, "cannot open PKCS#11 token " + label);
    }
  }

  long slotId() {
    return slotId;
  }

  private void login(char[] pin) throws PKCS11Exception {
    Session s = borrow();
    try {
      s.login(PKCS11Constants.CKU_USER, pin);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
        throw e;
      }
    } finally {
      giveBack(s);
    }
  }

  private Session borrow() throws PKCS11Exception {
    Session s = idle.poll();
    return s != null ? s : token.openSession(true);
  }

  private void giveBack(Session s) {
    if (!idle.offer(s)) {
      try {
        s.closeSession();
      } catch (PKCS11Exception e) {
        // Already gone; nothing to give back.
      }
    }
  }

  /** Runs {@code op} on a pooled session; a session that failed is closed, not pooled. */
  private <T> T withSession(String context, SessionOp<T> op) {
    Session s;
    try {
      s = borrow();
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.translate(e, context);
    }
    try {
      T result = op.run(s);
      giveBack(s);
      return result;
    } catch (PKCS11Exception e) {
      try {
        s.closeSession();
      } catch (PKCS11Exception ignored) {
        // The session is already unusable.
      }
      throw Pkcs11Errors.translate(e, context);
    }
  }

  @FunctionalInterface
  private interface SessionOp<T> {
    T run(Session s) throws PKCS11Exception;
  }

  PublicKey generate(KeySpec spec, String label, byte[] id) {
    return withSession(
        "key generation for " + label,
        s -> {
          long keyType;
          long mechanism;
          AttributeVector pub;
          AttributeVector priv;
          switch (spec) {
            case RSA_3072:
              keyType = PKCS11Constants.CKK_RSA;
              mechanism = PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN;
              pub =
                  AttributeVector.newPublicKey(keyType)
                      .modulusBits(3072)
                      .publicExponent(BigInteger.valueOf(65537));
              break;
            case ED25519:
              keyType = PKCS11Constants.CKK_EC_EDWARDS;
              mechanism = PKCS11Constants.CKM_EC_EDWARDS_KEY_PAIR_GEN;
              pub = AttributeVector.newPublicKey(keyType).ecParams(der(curveOid(spec)));
              break;
            default:
              keyType = PKCS11Constants.CKK_EC;
              mechanism = PKCS11Constants.CKM_EC_KEY_PAIR_GEN;
              pub = AttributeVector.newPublicKey(keyType).ecParams(der(curveOid(spec)));
          }
          pub.token(true).private_(false).verify(true).encrypt(false).wrap(false);
          pub.label(label).id(id);
          // Exactly what a signing key needs: a token object, private, sensitive,
          // non-extractable, able to sign and nothing else — and fixed so: not modifiable (no
          // later C_SetAttributeValue can turn on decrypt or extraction) and not copyable
          // (C_CopyObject cannot make a twin with other attributes).
          priv =
              AttributeVector.newPrivateKey(keyType)
                  .token(true)
                  .private_(true)
                  .sensitive(true)
                  .extractable(false)
                  .modifiable(false)
                  .copyable(false)
                  .sign(true)
                  .decrypt(false)
                  .unwrap(false)
                  .derive(false)
                  .signRecover(false)
                  .label(label)
                  .id(id);
          PKCS11KeyPair pair =
              s.generateKeyPair(new Mechanism(mechanism), new KeyPairTemplate(priv, pub));
          privateHandles.put(label, pair.getPrivateKey());
          return readPublicKey(s, spec, pair.getPublicKey());
        });
  }

  /**
   * Creates an AES-256 token key for data protection: private, sensitive, non-extractable, not
   * modifiable or copyable, able to encrypt and decrypt and nothing else (no wrap, unwrap, sign or
   * derive).
   */
  void generateAesKey(String label, byte[] id) {
    withSession(
        "key generation for " + label,
        s -> {
          AttributeVector t =
              AttributeVector.newAESSecretKey()
                  .token(true)
                  .private_(true)
                  .sensitive(true)
                  .extractable(false)
                  .modifiable(false)
                  .copyable(false)
                  .encrypt(true)
                  .decrypt(true)
                  .wrap(false)
                  .unwrap(false)
                  .sign(false)
                  .verify(false)
                  .derive(false)
                  .valueLen(32)
                  .label(label)
                  .id(id);
          long h = s.generateKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), t);
          secretHandles.put(label, h);
          return h;
        });
  }

  /** Whether an AES token key has this label. */
  boolean hasAesKey(String label) {
    return withSession(
        "key lookup for " + label,
        s ->
            s.findObjectsSingle(AttributeVector.newAESSecretKey().label(label).token(true), 2)
                    .length
                > 0);
  }

  private long secretHandle(Session s, String label) throws PKCS11Exception {
    Long h = secretHandles.get(label);
    if (h != null) {
      return h;
    }
    long[] found =
        s.findObjectsSingle(AttributeVector.newAESSecretKey().label(label).token(true), 2);
    if (found.length == 0) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no data protection key object " + label);
    }
    if (found.length > 1) {
      throw new KeyException(Code.INVALID_REQUEST, "two secret key objects labelled " + label);
    }
    secretHandles.put(label, found[0]);
    return found[0];
  }

  /** CKM_AES_GCM with a 12-byte nonce and a 128-bit tag: ciphertext ‖ tag. */
  byte[] encryptAesGcm(String label, byte[] nonce, byte[] aad, byte[] plaintext) {
    return withSession(
        "encryption with " + label,
        s ->
            s.encryptSingle(
                new Mechanism(
                    PKCS11Constants.CKM_AES_GCM,
                    new org.xipki.pkcs11.wrapper.params.GCM_PARAMS(nonce, aad, 128)),
                secretHandle(s, label),
                plaintext));
  }

  /**
   * Opens ciphertext ‖ tag; a wrong tag is {@code INVALID_CIPHERTEXT} (the token says
   * CKR_ENCRYPTED_DATA_INVALID or _LEN_RANGE, or SoftHSM2's CKR_GENERAL_ERROR).
   */
  byte[] decryptAesGcm(String label, byte[] nonce, byte[] aad, byte[] sealed) {
    Session s;
    try {
      s = borrow();
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.translate(e, "decryption with " + label);
    }
    try {
      byte[] out =
          s.decryptSingle(
              new Mechanism(
                  PKCS11Constants.CKM_AES_GCM,
                  new org.xipki.pkcs11.wrapper.params.GCM_PARAMS(nonce, aad, 128)),
              secretHandle(s, label),
              sealed);
      giveBack(s);
      return out;
    } catch (PKCS11Exception e) {
      long code = e.getErrorCode();
      if (code == PKCS11Constants.CKR_ENCRYPTED_DATA_INVALID
          || code == PKCS11Constants.CKR_ENCRYPTED_DATA_LEN_RANGE) {
        giveBack(s);
        throw new KeyException(
            Code.INVALID_CIPHERTEXT, "not a ciphertext of this key with this associated data");
      }
      try {
        s.closeSession();
      } catch (PKCS11Exception ignored) {
        // The session is already unusable.
      }
      // SoftHSM2 reports a GCM tag that does not verify as CKR_GENERAL_ERROR (its decryptFinal
      // fails); the session is closed all the same, in case it was a real fault.
      if (code == PKCS11Constants.CKR_GENERAL_ERROR) {
        throw new KeyException(
            Code.INVALID_CIPHERTEXT, "not a ciphertext of this key with this associated data");
      }
      throw Pkcs11Errors.translate(e, "decryption with " + label);
    }
  }

  private static ASN1ObjectIdentifier curveOid(KeySpec spec) {
    switch (spec) {
      case EC_P256:
        return X9ObjectIdentifiers.prime256v1;
      case EC_P384:
        return SECObjectIdentifiers.secp384r1;
      case ED25519:
        return EdECObjectIdentifiers.id_Ed25519;
      default:
        throw new KeyException(Code.UNSUPPORTED_ALGORITHM, spec + " is not a PKCS#11 curve here");
    }
  }

  private static byte[] der(ASN1ObjectIdentifier oid) {
    try {
      return oid.getEncoded();
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "OID encoding", e);
    }
  }

  private static PublicKey readPublicKey(Session s, KeySpec spec, long handle)
      throws PKCS11Exception {
    try {
      if (spec == KeySpec.RSA_3072) {
        AttributeVector a =
            s.getAttrValues(
                handle, PKCS11Constants.CKA_MODULUS, PKCS11Constants.CKA_PUBLIC_EXPONENT);
        return KeyFactory.getInstance("RSA")
            .generatePublic(new RSAPublicKeySpec(a.modulus(), a.publicExponent()));
      }
      byte[] point = s.getAttrValues(handle, PKCS11Constants.CKA_EC_POINT).ecPoint();
      byte[] raw = unwrapOctetString(point, spec);
      AlgorithmIdentifier algId =
          spec == KeySpec.ED25519
              ? new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519)
              : new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curveOid(spec));
      return PublicKeys.decode(new SubjectPublicKeyInfo(algId, raw).getEncoded());
    } catch (IOException | GeneralSecurityException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "unreadable public key object", e);
    }
  }

  /** CKA_EC_POINT is a DER OCTET STRING by the standard; some tokens return the raw point. */
  private static byte[] unwrapOctetString(byte[] point, KeySpec spec) {
    int rawLength = spec == KeySpec.ED25519 ? 32 : spec == KeySpec.EC_P256 ? 65 : 97;
    if (point.length == rawLength) {
      return point;
    }
    return ASN1OctetString.getInstance(point).getOctets();
  }

  private long privateHandle(Session s, String label) throws PKCS11Exception {
    Long h = privateHandles.get(label);
    if (h != null) {
      return h;
    }
    long[] found = s.findObjectsSingle(AttributeVector.newPrivateKey().label(label).token(true), 2);
    if (found.length == 0) {
      throw new KeyException(Code.KEY_NOT_FOUND, "no private key object " + label);
    }
    if (found.length > 1) {
      throw new KeyException(Code.INVALID_REQUEST, "two private key objects labelled " + label);
    }
    privateHandles.put(label, found[0]);
    return found[0];
  }

  byte[] sign(String label, long mechanism, byte[] data) {
    return withSession(
        "signing with " + label,
        s -> s.signSingle(new Mechanism(mechanism), privateHandle(s, label), data));
  }

  byte[] signEdDsa(String label, byte[] data) {
    return sign(label, PKCS11Constants.CKM_EDDSA, data);
  }

  /**
   * Signs a digest: raw ECDSA, PKCS#1 v1.5 over the DigestInfo, or PSS (CKM_RSA_PKCS_PSS, which
   * takes the digest) with SHA-256, MGF1-SHA-256 and a 32-byte salt.
   */
  byte[] signDigest(String label, SignatureAlgorithm alg, byte[] digest) {
    switch (alg) {
      case ECDSA_SHA256:
      case ECDSA_SHA384:
        return rawToDer(sign(label, CKM_ECDSA, digest));
      case RSA_PKCS1_SHA256:
        return sign(label, PKCS11Constants.CKM_RSA_PKCS, alg.digestInfo(digest));
      case RSA_PSS_SHA256:
        Mechanism pss =
            new Mechanism(
                PKCS11Constants.CKM_RSA_PKCS_PSS,
                new RSA_PKCS_PSS_PARAMS(
                    PKCS11Constants.CKM_SHA256, PKCS11Constants.CKG_MGF1_SHA256, 32));
        return withSession(
            "signing with " + label, s -> s.signSingle(pss, privateHandle(s, label), digest));
      default:
        throw new KeyException(Code.UNSUPPORTED_ALGORITHM, alg + " cannot sign a bare digest");
    }
  }

  /** A Bouncy Castle signer over this token, used only to self-sign placeholder certificates. */
  ContentSigner contentSigner(String label, KeySpec spec, SignatureAlgorithm alg) {
    AlgorithmIdentifier algId = new DefaultSignatureAlgorithmIdentifierFinder().find(alg.jcaName());
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    return new ContentSigner() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return algId;
      }

      @Override
      public OutputStream getOutputStream() {
        return buffer;
      }

      @Override
      public byte[] getSignature() {
        byte[] data = buffer.toByteArray();
        switch (alg) {
          case ECDSA_SHA256:
            return rawToDer(sign(label, CKM_ECDSA, digest("SHA-256", data)));
          case ECDSA_SHA384:
            return rawToDer(sign(label, CKM_ECDSA, digest("SHA-384", data)));
          case RSA_PKCS1_SHA256:
            return sign(label, CKM_SHA256_RSA_PKCS, data);
          case ED25519:
            return signEdDsa(label, data);
          default:
            throw new KeyException(Code.UNSUPPORTED_ALGORITHM, alg + " on PKCS#11");
        }
      }
    };
  }

  private static byte[] digest(String alg, byte[] data) {
    try {
      return java.security.MessageDigest.getInstance(alg).digest(data);
    } catch (GeneralSecurityException e) {
      throw new KeyException(Code.UNSUPPORTED_ALGORITHM, alg + " digest", e);
    }
  }

  private static byte[] rawToDer(byte[] raw) {
    int n = raw.length / 2;
    try {
      return new DERSequence(
              new org.bouncycastle.asn1.ASN1Encodable[] {
                new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(raw, 0, n))),
                new ASN1Integer(new BigInteger(1, java.util.Arrays.copyOfRange(raw, n, 2 * n)))
              })
          .getEncoded();
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "signature encoding", e);
    }
  }

  void storeCertificate(String label, byte[] id, X509Certificate cert) {
    withSession(
        "storing certificate for " + label,
        s ->
            s.createObject(
                AttributeVector.newX509Certificate()
                    .token(true)
                    .private_(false)
                    .label(label)
                    .id(id)
                    .subject(cert.getSubjectX500Principal().getEncoded())
                    .value(Pkcs11KeyBackend.encoded(cert))));
  }

  /**
   * Destroys every object labelled {@code label} (key pair, placeholder certificate, or data key):
   * a key just generated whose record failed.
   */
  void destroyLabelled(String label) {
    privateHandles.remove(label);
    withSession(
        "destroying " + label,
        s -> {
          for (long h : s.findObjectsSingle(new AttributeVector().label(label), 16)) {
            s.destroyObject(h);
          }
          return null;
        });
  }

  /** Removes every object with this label or id: the cleanup after a failed generation. */
  void destroyObjects(String label, byte[] id) {
    privateHandles.remove(label);
    try {
      withSession(
          "cleanup of " + label,
          s -> {
            LinkedHashSet<Long> handles = new LinkedHashSet<>();
            for (long h : s.findObjectsSingle(new AttributeVector().id(id), 16)) {
              handles.add(h);
            }
            for (long h : handles) {
              s.destroyObject(h);
            }
            return null;
          });
    } catch (KeyException e) {
      // Best effort: the generation error is the one the caller needs to see.
    }
  }

  /** The DER of the placeholder certificate labelled {@code label}, or null. */
  byte[] certificate(String label) {
    return withSession(
        "reading certificate " + label,
        s -> {
          long[] found = s.findObjectsSingle(certificateTemplate().label(label), 2);
          if (found.length == 0) {
            return null;
          }
          if (found.length > 1) {
            // Which key is meant would be a guess: a second object with the same label could
            // have been planted to point a signature at another key.
            throw new KeyException(
                KeyException.Code.BACKEND_UNAVAILABLE,
                "the token holds two placeholder certificates labelled "
                    + label
                    + "; remove the one that does not belong to the key");
          }
          return s.getAttrValues(found[0], PKCS11Constants.CKA_VALUE).value();
        });
  }

  List<String> certificateLabels() {
    return withSession(
        "listing keys",
        s -> {
          List<String> labels = new ArrayList<>();
          for (long h : s.findObjectsSingle(certificateTemplate(), 100_000)) {
            AttributeVector a =
                s.getAttrValues(h, PKCS11Constants.CKA_LABEL, PKCS11Constants.CKA_SUBJECT);
            String label = a.label();
            byte[] subject = a.subject();
            if (label != null
                && subject != null
                && java.util.Arrays.equals(subject, encodedSubject(label))) {
              labels.add(label);
            }
          }
          return labels;
        });
  }

  private static byte[] encodedSubject(String label) {
    try {
      return PlaceholderCertificate.subject(label).getEncoded();
    } catch (IOException e) {
      throw new KeyException(Code.BACKEND_UNAVAILABLE, "name encoding", e);
    }
  }

  private static AttributeVector certificateTemplate() {
    return AttributeVector.newX509Certificate().token(true);
  }

  void ping() {
    withSession("token health", Session::getSessionInfo);
  }

  /** Closes this binding's pooled sessions (not the module: SunPKCS11 shares it). */
  @Override
  public void close() {
    Session s;
    while ((s = idle.poll()) != null) {
      try {
        s.closeSession();
      } catch (PKCS11Exception e) {
        // Closing a session that is already gone.
      }
    }
  }

  /** Test hook: closes every session of this application on the slot, as a token reset does. */
  void closeAllSessions() {
    try {
      token.getSlot().getModule().getPKCS11Module().C_CloseAllSessions(slotId);
    } catch (iaik.pkcs.pkcs11.wrapper.PKCS11Exception e) {
      throw Pkcs11Errors.translate(e, "closing sessions");
    }
  }
}
