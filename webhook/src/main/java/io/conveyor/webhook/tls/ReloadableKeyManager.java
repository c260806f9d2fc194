package io.conveyor.webhook.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A server key manager whose certificate and key can be replaced while the server runs: the {@code
 * SSLContext} is built once with it, and new handshakes pick up the new material at once.
 *
 * <p>JSSE chooses an alias first and asks for the chain and the key afterwards, in separate calls;
 * a swap may happen in between. Each installation therefore gets its own alias, and the previous
 * one stays resolvable, so a handshake never pairs the chain of one generation with the key of
 * another.
 */
public final class ReloadableKeyManager extends X509ExtendedKeyManager {

  private record Entry(String alias, PrivateKey key, X509Certificate[] chain) {}

  private record State(Entry current, Entry previous) {}

  private final AtomicReference<State> state = new AtomicReference<>(new State(null, null));
  private final AtomicLong generation = new AtomicLong();

  /** Serves {@code chain} (leaf first) with {@code key} from the next handshake on. */
  public void install(PrivateKey key, X509Certificate... chain) {
    if (chain.length == 0) {
      throw new IllegalArgumentException("a certificate chain needs at least the leaf");
    }
    Entry entry = new Entry("conveyor-webhook-" + generation.incrementAndGet(), key, chain.clone());
    state.updateAndGet(s -> new State(entry, s.current()));
  }

  /** The leaf certificate served now, if any. */
  public Optional<X509Certificate> currentCertificate() {
    Entry current = state.get().current();
    return current == null ? Optional.empty() : Optional.of(current.chain()[0]);
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return choose(keyType);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    String alias = choose(keyType);
    return alias == null ? null : new String[] {alias};
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Entry entry = find(alias);
    return entry == null ? null : entry.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Entry entry = find(alias);
    return entry == null ? null : entry.key();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return null;
  }

  private String choose(String keyType) {
    Entry current = state.get().current();
    if (current == null || keyType == null) {
      return null;
    }
    String algorithm = current.key().getAlgorithm();
    return keyType.equals(algorithm) || keyType.startsWith(algorithm + "_")
        ? current.alias()
        : null;
  }

  private Entry find(String alias) {
    State s = state.get();
    if (s.current() != null && s.current().alias().equals(alias)) {
      return s.current();
    }
    if (s.previous() != null && s.previous().alias().equals(alias)) {
      return s.previous();
    }
    return null;
  }
}
