package io.conveyor.webhook.tls;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The server's {@code SSLContext}: TLS 1.3 and 1.2 only, key material from a reloadable manager.
 */
public final class ServerTls {

  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private ServerTls() {}

  public static SSLContext context(ReloadableKeyManager keyManager) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keyManager}, null, new SecureRandom());
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot create a TLS context", e);
    }
  }

  /** Parameters for every connection: no protocol below TLS 1.2, no client certificates. */
  public static SSLParameters parameters(SSLContext context) {
    SSLParameters parameters = context.getDefaultSSLParameters();
    List<String> supported = Arrays.asList(context.getSupportedSSLParameters().getProtocols());
    parameters.setProtocols(PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new));
    parameters.setNeedClientAuth(false);
    parameters.setWantClientAuth(false);
    return parameters;
  }
}
