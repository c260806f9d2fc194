package io.conveyor.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.conveyor.identity.CertificateAuthority;
import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.EnrolmentCredential;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.identity.BootstrapTokenVerifier;
import io.conveyor.router.identity.CertificateIssuingService;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.discovery.FreePorts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A whole sidecar enrolling with a real standalone router's certificate service on a loopback port,
 * and one without a credential, which does not enrol at all.
 */
class SidecarEnrolmentTest {

  private static final String TOKEN = "a-bootstrap-token-of-some-length";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private final int routerPort = FreePorts.anyFreePort();
  private final Logger logger = (Logger) LoggerFactory.getLogger(Sidecar.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private RouterServer router;
  private Sidecar sidecar;

  @BeforeEach
  void setUp() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    logger.detachAppender(logs);
    if (sidecar != null) {
      sidecar.close();
    }
    if (router != null) {
      router.close();
    }
  }

  private void startRouter() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    router =
        RouterServer.start(
            NettyServerBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), routerPort)),
            new RouterCore(Clock.systemUTC(), RouterSettings.defaults()),
            meters,
            RouterServer.DEFAULT_MIN_ASSIGN_INTERVAL,
            List.of(
                new CertificateIssuingService(
                    new BootstrapTokenVerifier(new EnrolmentCredential.BootstrapToken(TOKEN)),
                    new CsrValidator(),
                    CertificateAuthority.create(
                        WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                        Clock.systemUTC(),
                        new SecureRandom()),
                    WorkloadIdentity.DEFAULT_TRUST_DOMAIN,
                    meters)));
  }

  private SidecarConfig config(Map<String, String> extra) {
    int grpcPort = FreePorts.anyFreePort();
    int metricsPort = FreePorts.anyFreePort();
    Map<String, String> env = new HashMap<>();
    env.put("SIDECAR_ID", "sc-enrol");
    // The router here serves CertificateService in plaintext: what is tested is the enroller.
    env.put("SECURITY_MODE", "plaintext");
    env.put("PEER_PORT", String.valueOf(FreePorts.anyFreePort()));
    env.put("POD_NAME", "orders-0");
    env.put("NAMESPACE", "shop");
    env.put("BIND_ADDRESS", "127.0.0.1");
    env.put("GRPC_PORT", String.valueOf(grpcPort));
    env.put("METRICS_PORT", String.valueOf(metricsPort == grpcPort ? grpcPort + 1 : metricsPort));
    env.put("CLUSTER_ENDPOINT", "127.0.0.1:" + routerPort);
    env.put("DISCOVERY_START_PORT", String.valueOf(routerPort));
    env.put("DISCOVERY_END_PORT", String.valueOf(routerPort));
    env.putAll(extra);
    return SidecarConfig.fromEnv(env);
  }

  private String scrape() throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + sidecar.metricsPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void withABootstrapTokenFileTheSidecarEnrolsForItsPod() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), TOKEN);
    startRouter();
    sidecar = Sidecar.start(config(Map.of("BOOTSTRAP_TOKEN_FILE", token.toString())));

    await().atMost(WAIT).until(() -> sidecar.certificate().isPresent());
    assertThat(sidecar.certificate().orElseThrow().leaf().getSubjectAlternativeNames())
        .containsExactly(List.of(6, "spiffe://conveyor.etl/ns/shop/pod/orders-0/sa/default"));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(scrape())
                    .contains(
                        "conveyor_sidecar_enrolments_total{app=\"conveyor-sidecar\","
                            + "result=\"issued\"} 1.0"));
    assertThat(scrape())
        .doesNotContain("conveyor_sidecar_certificate_expiry_seconds{app=\"conveyor-sidecar\"} -1");
  }

  @Test
  void withoutACredentialTheSidecarDoesNotEnrolAndSaysSoOnce() throws Exception {
    startRouter();
    sidecar = Sidecar.start(config(Map.of()));

    assertThat(sidecar.certificate()).isEmpty();
    assertThat(scrape())
        .contains("conveyor_sidecar_certificate_expiry_seconds{app=\"conveyor-sidecar\"} -1.0")
        .contains(
            "conveyor_sidecar_enrolments_total{app=\"conveyor-sidecar\",result=\"issued\"} 0.0");
    assertThat(logs.list)
        .map(ILoggingEvent::getFormattedMessage)
        .filteredOn(m -> m.contains("no enrolment credential"))
        .hasSize(1);
  }
}
