package io.conveyor.identity.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CertificateChain;
import io.conveyor.identity.CertificateRequests;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.testkit.MutableClock;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.protobuf.services.HealthStatusManager;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real gRPC servers and channels over loopback TLS 1.3, with both providers: who gets in, what the
 * server learns about the caller, and that a renewed certificate applies to new connections while
 * open ones keep working.
 */
class MutualTlsTest {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String DOMAIN = "conveyor.etl";
  private static final WorkloadIdentity SERVER = WorkloadIdentity.of("shop", "sink-0", "sink");
  private static final WorkloadIdentity CLIENT = WorkloadIdentity.of("shop", "source-0", "source");

  // The root is made three days ago (so a test can issue a certificate that has since expired);
  // the JDK's trust managers check validity against the real time.
  private final MutableClock clock =
      new MutableClock(MutableClock.startingNow().instant().minus(Duration.ofDays(3)));
  private final CertificateAuthority ca = CertificateAuthority.create(DOMAIN, clock, RANDOM);

  {
    clock.advance(Duration.ofDays(3));
  }

  private final List<String> serverRejections = new CopyOnWriteArrayList<>();
  private final List<String> clientRejections = new CopyOnWriteArrayList<>();
  private final List<Optional<WorkloadIdentity>> callers = new CopyOnWriteArrayList<>();
  private final List<BigInteger> callerSerials = new CopyOnWriteArrayList<>();
  private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientWithAnIssuedCertificateIsKnownToTheServerByItsIdentity(TlsProvider provider)
      throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.of(keysFor(CLIENT)), PeerRule.exactly(SERVER), port);

    client.check(HealthCheckRequest.getDefaultInstance());

    assertThat(callers).containsExactly(Optional.of(CLIENT));
    assertThat(serverRejections).isEmpty();
    assertThat(clientRejections).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientWithoutACertificateIsRefusedWhereOneIsRequired(TlsProvider provider)
      throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.empty(), PeerRule.exactly(SERVER), port);

    assertThatThrownBy(() -> client.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(callers).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void whereACertificateIsOptionalACallerWithoutOneHasNoIdentity(TlsProvider provider)
      throws Exception {
    int port = serve(provider, ClientAuth.OPTIONAL);
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.empty(), PeerRule.exactly(SERVER), port);

    client.check(HealthCheckRequest.getDefaultInstance());

    assertThat(callers).containsExactly(Optional.empty());
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aCertificateOfAnotherCaIsRefusedAndTheRefusalSaysWhy(TlsProvider provider) throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    CertificateAuthority other = CertificateAuthority.create(DOMAIN, clock, RANDOM);
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.of(keysFor(CLIENT, other)), PeerRule.exactly(SERVER), port);

    assertThatThrownBy(() -> client.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(callers).isEmpty();
    assertThat(serverRejections)
        .singleElement()
        .asString()
        .startsWith("client: the client's certificate does not verify against the Conveyor trust");
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void anExpiredCertificateIsRefused(TlsProvider provider) throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    LiveKeyManager expired = new LiveKeyManager();
    KeyPair keyPair = CertificateRequests.newKeyPair(RANDOM);
    // Issued two days ago for an hour, by the same root.
    clock.advance(Duration.ofDays(-2));
    CertificateChain chain =
        ca.issue(
            new CsrValidator().validate(CertificateRequests.csrFor(CLIENT, keyPair), CLIENT),
            Duration.ofHours(1));
    clock.advance(Duration.ofDays(2));
    expired.update(new KeyMaterial(keyPair.getPrivate(), chain.asList()));
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.of(expired), PeerRule.exactly(SERVER), port);

    assertThatThrownBy(() -> client.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(serverRejections).singleElement().asString().containsIgnoringCase("NotAfter");
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientRefusesAServerThatIsNotTheWorkloadItMeantToReach(TlsProvider provider)
      throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    WorkloadIdentity meant = WorkloadIdentity.of("shop", "sink-1", "sink");
    HealthGrpc.HealthBlockingStub client =
        client(provider, Optional.of(keysFor(CLIENT)), PeerRule.exactly(meant), port);

    assertThatThrownBy(() -> client.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);
    assertThat(clientRejections)
        .containsExactly(
            "server: the server's certificate names " + SERVER.toUri() + ", not " + meant.toUri());
    assertThat(callers).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aRenewedCertificateServesNewConnectionsWhileAnOpenOneKeepsWorking(TlsProvider provider)
      throws Exception {
    int port = serve(provider, ClientAuth.REQUIRE);
    LiveKeyManager keys = keysFor(CLIENT);
    BigInteger first = keys.current().orElseThrow().leaf().getSerialNumber();
    HealthGrpc.HealthBlockingStub open =
        client(provider, Optional.of(keys), PeerRule.exactly(SERVER), port);
    open.check(HealthCheckRequest.getDefaultInstance());

    KeyPair renewed = CertificateRequests.newKeyPair(RANDOM);
    keys.update(
        new KeyMaterial(
            renewed.getPrivate(),
            ca.issue(
                    new CsrValidator()
                        .validate(CertificateRequests.csrFor(CLIENT, renewed), CLIENT))
                .asList()));
    BigInteger second = keys.current().orElseThrow().leaf().getSerialNumber();
    open.check(HealthCheckRequest.getDefaultInstance());
    client(provider, Optional.of(keys), PeerRule.exactly(SERVER), port)
        .check(HealthCheckRequest.getDefaultInstance());

    assertThat(second).isNotEqualTo(first);
    assertThat(callerSerials).containsExactly(first, first, second);
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aTrustBundleFileReReadAfterARootRotationAdmitsTheNewRoot(
      TlsProvider provider, @TempDir Path dir) throws Exception {
    CertificateAuthority newRoot = CertificateAuthority.create(DOMAIN, clock, RANDOM);
    Path file = dir.resolve("ca.crt");
    Files.writeString(file, pem(ca.root()));
    TrustBundleFile bundle = TrustBundleFile.open(file, clock, Duration.ofSeconds(10));
    int port = serve(provider, ClientAuth.REQUIRE, bundle);
    HealthGrpc.HealthBlockingStub underNewRoot =
        client(provider, Optional.of(keysFor(CLIENT, newRoot)), PeerRule.exactly(SERVER), port);
    assertThatThrownBy(() -> underNewRoot.check(HealthCheckRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class);

    Files.writeString(file, pem(ca.root()) + pem(newRoot.root()));
    clock.advance(Duration.ofSeconds(11));
    HealthGrpc.HealthBlockingStub again =
        client(provider, Optional.of(keysFor(CLIENT, newRoot)), PeerRule.exactly(SERVER), port);
    again.check(HealthCheckRequest.getDefaultInstance());

    assertThat(callers).containsExactly(Optional.of(CLIENT));
  }

  private int serve(TlsProvider provider, ClientAuth clientAuth) throws Exception {
    return serve(provider, clientAuth, () -> new TrustBundle(List.of(ca.root())));
  }

  private int serve(
      TlsProvider provider, ClientAuth clientAuth, java.util.function.Supplier<TrustBundle> bundle)
      throws Exception {
    WorkloadTrustManager trust =
        new WorkloadTrustManager(
            bundle,
            DOMAIN,
            PeerRule.anyWorkloadOf(DOMAIN),
            (side, reason) -> serverRejections.add(side + ": " + reason));
    ServerInterceptor recorder =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            callers.add(CallerIdentity.current());
            SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              callerSerials.add(
                  ((X509Certificate) session.getPeerCertificates()[0]).getSerialNumber());
            } catch (Exception e) {
              // no client certificate: nothing to record
            }
            return next.startCall(call, headers);
          }
        };
    HealthStatusManager health = new HealthStatusManager();
    // Interceptors run last-added first: CallerIdentity, then the recorder.
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(MutualTls.server(keysFor(SERVER), trust, clientAuth, provider))
            .addService(
                ServerInterceptors.intercept(
                    health.getHealthService(), recorder, new CallerIdentity()))
            .build()
            .start();
    toClose.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return server.getPort();
  }

  private HealthGrpc.HealthBlockingStub client(
      TlsProvider provider, Optional<LiveKeyManager> keys, PeerRule rule, int port) {
    WorkloadTrustManager trust =
        new WorkloadTrustManager(
            () -> new TrustBundle(List.of(ca.root())),
            DOMAIN,
            rule,
            (side, reason) -> clientRejections.add(side + ": " + reason));
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .sslContext(MutualTls.client(keys, trust, provider))
            .build();
    toClose.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private LiveKeyManager keysFor(WorkloadIdentity identity) throws Exception {
    return keysFor(identity, ca);
  }

  private static LiveKeyManager keysFor(WorkloadIdentity identity, CertificateAuthority issuer)
      throws Exception {
    KeyPair keyPair = CertificateRequests.newKeyPair(RANDOM);
    CertificateChain chain =
        issuer.issue(
            new CsrValidator().validate(CertificateRequests.csrFor(identity, keyPair), identity));
    LiveKeyManager keys = new LiveKeyManager();
    keys.update(new KeyMaterial(keyPair.getPrivate(), chain.asList()));
    return keys;
  }

  private static String pem(X509Certificate certificate) throws Exception {
    return "-----BEGIN CERTIFICATE-----\n"
        + java.util.Base64.getMimeEncoder(64, "\n".getBytes())
            .encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }
}
