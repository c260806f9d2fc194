package io.conveyor.identity.tls;

import io.conveyor.identity.IdentityFormatException;
import io.conveyor.identity.PeerCertificates;
import io.conveyor.identity.WorkloadIdentity;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Verifies a peer's certificate the way a workload mesh does: the chain must lead to a root of the
 * trust bundle held now (PKIX: signatures, validity dates, key usage), and its leaf must name
 * exactly one workload identity of the trust domain. A server's identity must further satisfy the
 * client's {@link PeerRule}. Host names play no part: workload certificates carry none.
 *
 * <p>The bundle is asked for at every handshake, so a re-read trust bundle applies to the next
 * connection. Each refusal is reported to a {@link Rejections} listener (for a log line and a
 * metric) and thrown with a message naming why, which TLS turns into an alert to the peer.
 */
public final class WorkloadTrustManager extends X509ExtendedTrustManager {

  /** Told about every certificate refused, once per handshake. */
  @FunctionalInterface
  public interface Rejections {
    /**
     * @param side "client" when a server refused a client's certificate, "server" otherwise
     * @param reason why, as the exception says it
     */
    void rejected(String side, String reason);

    Rejections NONE = (side, reason) -> {};
  }

  private final Supplier<TrustBundle> bundle;
  private final String trustDomain;
  private final PeerRule serverRule;
  private final Rejections rejections;

  private volatile Verifier verifier;

  /**
   * @param bundle the roots, asked for at every handshake
   * @param trustDomain the trust domain every peer must belong to
   * @param serverRule what a server must be (used only when this side is the client)
   */
  public WorkloadTrustManager(
      Supplier<TrustBundle> bundle,
      String trustDomain,
      PeerRule serverRule,
      Rejections rejections) {
    this.bundle = Objects.requireNonNull(bundle, "bundle");
    this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
    this.serverRule = Objects.requireNonNull(serverRule, "serverRule");
    this.rejections = Objects.requireNonNull(rejections, "rejections");
  }

  /** The identity a verified chain's leaf names; for tests and for the interceptor's use. */
  public static WorkloadIdentity identityOf(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the peer presented no certificate");
    }
    try {
      return PeerCertificates.identityOf(chain[0]);
    } catch (IdentityFormatException e) {
      throw new CertificateException(
          "the peer's certificate names no workload identity: " + e.getMessage(), e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check("client", chain, authType, null);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check("server", chain, authType, serverRule);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkClientTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    try {
      return bundle.get().roots().toArray(X509Certificate[]::new);
    } catch (IllegalStateException e) {
      return new X509Certificate[0];
    }
  }

  private void check(String side, X509Certificate[] chain, String authType, PeerRule rule)
      throws CertificateException {
    try {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the " + side + " presented no certificate");
      }
      TrustBundle roots;
      try {
        roots = bundle.get();
      } catch (IllegalStateException e) {
        throw new CertificateException(e.getMessage(), e);
      }
      Verifier current = verifierFor(roots);
      try {
        if (side.equals("client")) {
          current.pkix.checkClientTrusted(chain, authType);
        } else {
          current.pkix.checkServerTrusted(chain, authType);
        }
      } catch (CertificateException e) {
        throw new CertificateException(
            "the "
                + side
                + "'s certificate does not verify against the Conveyor trust bundle: "
                + rootMessage(e),
            e);
      }
      WorkloadIdentity identity = identityOf(chain);
      if (!identity.trustDomain().equals(trustDomain)) {
        throw new CertificateException(
            "the "
                + side
                + "'s certificate names trust domain "
                + identity.trustDomain()
                + ", not "
                + trustDomain);
      }
      if (rule != null && !rule.accepts(identity)) {
        throw new CertificateException(
            "the server's certificate names " + identity.toUri() + ", not " + rule.describe());
      }
    } catch (CertificateException e) {
      rejections.rejected(side, e.getMessage());
      throw e;
    }
  }

  private Verifier verifierFor(TrustBundle now) throws CertificateException {
    Verifier held = verifier;
    if (held != null && held.bundle == now) {
      return held;
    }
    Verifier built = new Verifier(now, pkixFor(now));
    verifier = built;
    return built;
  }

  private static X509TrustManager pkixFor(TrustBundle bundle) throws CertificateException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (X509Certificate root : bundle.roots()) {
        store.setCertificateEntry("conveyor-root-" + i++, root);
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(store);
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          return x509;
        }
      }
      throw new CertificateException("the JDK offers no X.509 trust manager");
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new CertificateException("cannot build a trust manager from the bundle: " + e, e);
    }
  }

  /** "NotAfter: …" rather than the PKIX wrappers' "PKIX path validation failed: …". */
  private static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.toString() : root.getMessage();
  }

  private record Verifier(TrustBundle bundle, X509TrustManager pkix) {}
}
