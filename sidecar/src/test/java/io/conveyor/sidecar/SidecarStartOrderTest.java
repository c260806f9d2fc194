package io.conveyor.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.common.grpc.GrpcServers;
import io.conveyor.etl.v1.DescribeRequest;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.etl.v1.ServiceType;
import io.conveyor.etl.v1.TransformServiceGrpc;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.discovery.FreePorts;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Start-up order under mutual TLS: discovery does not wait for the certificate (it probes the pod's
 * own loopback in plaintext), so the first registration waits for the slower of the two, not their
 * sum; and the sidecar is still not ready, nor registered, until it holds a certificate.
 */
class SidecarStartOrderTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private Server app;
  private Sidecar sidecar;

  @AfterEach
  void tearDown() {
    if (sidecar != null) {
      sidecar.close();
    }
    if (app != null) {
      GrpcServers.shutdown(app, Duration.ofSeconds(1));
    }
  }

  @Test
  void discoveryRunsWhileTheCertificateIsStillPendingAndReadinessWaitsForIt() throws Exception {
    // A CA nobody serves: the router's port has no listener, so enrolment keeps retrying.
    CertificateAuthority ca =
        CertificateAuthority.create(
            WorkloadIdentity.DEFAULT_TRUST_DOMAIN, Clock.systemUTC(), new SecureRandom());
    Path bundle = Files.writeString(dir.resolve("ca.crt"), ca.rootPem());
    Path token = Files.writeString(dir.resolve("token"), "a-bootstrap-token-of-some-length");
    int appPort = FreePorts.anyFreePort();
    app = startTransform(appPort);

    Map<String, String> env = new HashMap<>();
    env.put("SIDECAR_ID", "sc-order");
    env.put("SECURITY_MODE", "mtls");
    env.put("TRUST_BUNDLE_FILE", bundle.toString());
    env.put("BOOTSTRAP_TOKEN_FILE", token.toString());
    env.put("POD_NAME", "orders-0");
    env.put("NAMESPACE", "shop");
    env.put("BIND_ADDRESS", "127.0.0.1");
    env.put("GRPC_PORT", String.valueOf(FreePorts.anyFreePort()));
    env.put("METRICS_PORT", String.valueOf(FreePorts.anyFreePort()));
    env.put("PEER_PORT", String.valueOf(FreePorts.anyFreePort()));
    env.put("CLUSTER_ENDPOINT", "127.0.0.1:" + FreePorts.anyFreePort());
    env.put("DISCOVERY_START_PORT", String.valueOf(appPort));
    env.put("DISCOVERY_END_PORT", String.valueOf(appPort));
    sidecar = Sidecar.start(SidecarConfig.fromEnv(env));

    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(get("/metrics"))
                    .contains(
                        "conveyor_sidecar_discovered_services{app=\"conveyor-sidecar\"} 1.0"));
    assertThat(sidecar.certificate()).isEmpty();
    assertThat(sidecar.isRegistered()).isFalse();
    HttpResponse<String> ready = request("/readyz");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("no workload certificate yet");
  }

  private static Server startTransform(int port) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(port));
    var health = GrpcServers.addStandardServices(builder);
    builder.addService(
        new TransformServiceGrpc.TransformServiceImplBase() {
          @Override
          public void describe(
              DescribeRequest request, StreamObserver<ServiceDescriptor> responses) {
            responses.onNext(
                ServiceDescriptor.newBuilder()
                    .setName("orders-enricher")
                    .setType(ServiceType.SERVICE_TYPE_TRANSFORM)
                    .setMaxBatchSize(100)
                    .setVersion("1.0.0")
                    .build());
            responses.onCompleted();
          }
        });
    Server server = builder.build().start();
    health.setStatus("", ServingStatus.SERVING);
    return server;
  }

  private String get(String path) throws Exception {
    return request(path).body();
  }

  private HttpResponse<String> request(String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.metricsPort() + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }
}
