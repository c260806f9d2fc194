package io.conveyor.identity.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The workload certificate as TLS presents it, replaced in place when it is renewed: every new
 * handshake, client or server, takes the key material held at that moment, and connections made
 * before keep theirs. That is how a certificate rotates without dropping a stream.
 *
 * <p>Until the first {@link #update} it offers nothing: a server handshake then fails and a client
 * handshake goes on without a client certificate.
 */
public final class LiveKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "workload";

  private final AtomicReference<KeyMaterial> current = new AtomicReference<>();

  /** Key material every handshake from now on presents. */
  public void update(KeyMaterial material) {
    current.set(material);
  }

  public Optional<KeyMaterial> current() {
    return Optional.ofNullable(current.get());
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return chooseClientAlias(keyTypes, issuers, null);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return chooseServerAlias(keyType, issuers, null);
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    KeyMaterial material = current.get();
    if (material == null) {
      return null;
    }
    if (keyTypes == null) {
      return ALIAS;
    }
    for (String keyType : keyTypes) {
      if (matches(material, keyType)) {
        return ALIAS;
      }
    }
    return null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    KeyMaterial material = current.get();
    return material != null && matches(material, keyType) ? ALIAS : null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    String alias = chooseServerAlias(keyType, issuers, null);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return getClientAliases(keyType, issuers);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    KeyMaterial material = current.get();
    return material == null || !ALIAS.equals(alias)
        ? null
        : material.chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    KeyMaterial material = current.get();
    return material == null || !ALIAS.equals(alias) ? null : material.privateKey();
  }

  /**
   * Whether the key suits what the handshake asks for. The JDK asks "EC" (or "EC_EC", the key and
   * its signer); netty's OpenSSL engine asks the same names; a null type accepts any key.
   */
  private static boolean matches(KeyMaterial material, String keyType) {
    if (keyType == null) {
      return true;
    }
    String algorithm = material.privateKey().getAlgorithm();
    String keyAlgorithm =
        keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
    return keyAlgorithm.equalsIgnoreCase(algorithm)
        || ("EC".equalsIgnoreCase(algorithm) && keyAlgorithm.equalsIgnoreCase("ECDSA"));
  }
}
