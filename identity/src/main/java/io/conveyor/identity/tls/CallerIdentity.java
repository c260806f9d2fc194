package io.conveyor.identity.tls;

import io.conveyor.identity.IdentityFormatException;
import io.conveyor.identity.PeerCertificates;
import io.conveyor.identity.WorkloadIdentity;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Puts the identity a call's client certificate proved into the call's {@link Context}, where the
 * services' authorization reads it. Only what the TLS handshake verified counts: the certificate of
 * the connection's session, checked by {@link WorkloadTrustManager}. A plaintext connection, or one
 * whose client presented no certificate, carries no identity.
 */
public final class CallerIdentity implements ServerInterceptor {

  private static final Context.Key<Optional<WorkloadIdentity>> IDENTITY =
      Context.keyWithDefault("conveyor-caller-identity", Optional.empty());

  /** Where a TLS session keeps the identity its peer certificate names, once read. */
  private static final String SESSION_KEY = "io.conveyor.identity.caller";

  private static final Context.Key<Optional<SocketAddress>> ADDRESS =
      Context.keyWithDefault("conveyor-caller-address", Optional.empty());

  /** The identity of the call being served; empty when it has none or outside a call. */
  public static Optional<WorkloadIdentity> current() {
    return IDENTITY.get();
  }

  /** The remote address of the call being served, for log lines about it. */
  public static Optional<SocketAddress> address() {
    return ADDRESS.get();
  }

  /** Who the caller is, for a log line: its identity, else its address. */
  public static String describeCurrent() {
    return current()
        .map(WorkloadIdentity::toUri)
        .orElseGet(() -> "an unauthenticated caller" + address().map(a -> " at " + a).orElse(""));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Context context =
        Context.current()
            .withValues(
                IDENTITY,
                identityOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)),
                ADDRESS,
                Optional.ofNullable(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
    return Contexts.interceptCall(context, call, headers, next);
  }

  /**
   * The identity of a TLS session, read from its peer certificate once and kept in the session:
   * every call on a connection shares the session, and the certificate does not change within it.
   */
  static Optional<WorkloadIdentity> identityOf(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    if (session.getValue(SESSION_KEY) instanceof Known known) {
      return known.identity();
    }
    Optional<WorkloadIdentity> identity = readIdentity(session);
    session.putValue(SESSION_KEY, new Known(identity));
    return identity;
  }

  /** What a session's certificate was found to name. */
  private record Known(Optional<WorkloadIdentity> identity) {}

  private static Optional<WorkloadIdentity> readIdentity(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    try {
      return Optional.of(PeerCertificates.identityOf(leaf));
    } catch (IdentityFormatException e) {
      // The trust manager let no such certificate through; fail closed all the same.
      return Optional.empty();
    }
  }
}
