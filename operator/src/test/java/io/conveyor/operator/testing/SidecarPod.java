package io.conveyor.operator.testing;

import io.conveyor.common.config.HostPort;
import io.conveyor.etl.v1.Record;
import io.conveyor.etl.v1.ServiceDescriptor;
import io.conveyor.sidecar.Sidecar;
import io.conveyor.sidecar.config.SidecarConfig;
import io.conveyor.sidecar.identity.WorkloadCertificate;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What runs inside an injected pod, in this JVM: the real Conveyor sidecar ({@link Sidecar}, with
 * its discovery and cluster client), configured from the environment the webhook gives it, and the
 * pod's applications ({@link PodApps}) on the loopback port it discovers.
 *
 * <p>The sidecar heartbeats every second and finds the router at {@code CLUSTER_ENDPOINT}: the
 * harness's {@link RouterService}, so it fails over between replicas by itself.
 */
public final class SidecarPod implements AutoCloseable {

  /** The shortest period the router accepts: keeps fail-over and expiry tests short. */
  static final int HEARTBEAT_SECONDS = 1;

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final String sidecarId;
  private final PodApps apps;
  private final Sidecar sidecar;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private SidecarPod(String sidecarId, PodApps apps, Sidecar sidecar) {
    this.sidecarId = sidecarId;
    this.apps = apps;
    this.sidecar = sidecar;
  }

  /** How the sidecar talks to the router and to other sidecars ({@code SECURITY_MODE}). */
  public sealed interface Security {

    /** {@code SECURITY_MODE=plaintext}: no TLS, no enrolment. */
    static Security plaintext() {
      return new Plaintext();
    }

    /**
     * {@code SECURITY_MODE=mtls}, as the webhook injects it: the projected token's file for
     * enrolment and the trust bundle's file to verify the router and other sidecars.
     */
    static Security mutualTls(Path serviceAccountTokenFile, Path trustBundleFile) {
      return new MutualTls(serviceAccountTokenFile, trustBundleFile);
    }

    /** No TLS. */
    record Plaintext() implements Security {}

    /** Mutual TLS with a certificate enrolled for with the pod's ServiceAccount token. */
    record MutualTls(Path serviceAccountTokenFile, Path trustBundleFile) implements Security {}
  }

  /** As {@link #start(Pod, String, HostPort, Security, ServiceDescriptor...)}, plaintext. */
  public static SidecarPod start(
      Pod pod, String sidecarId, HostPort router, ServiceDescriptor... services) {
    return start(pod, sidecarId, router, Security.plaintext(), services);
  }

  /**
   * Starts the pod's applications, then its sidecar for {@code pod} (name, namespace, UID and IP as
   * the downward API gives them), pointed at the router at {@code router} and secured as {@code
   * security}.
   */
  public static SidecarPod start(
      Pod pod,
      String sidecarId,
      HostPort router,
      Security security,
      ServiceDescriptor... services) {
    PodApps apps = PodApps.serve(services);
    try {
      int[] ports = freePorts(3);
      Map<String, String> env = new HashMap<>();
      env.put("SIDECAR_ID", sidecarId);
      env.put("POD_NAME", pod.getMetadata().getName());
      env.put("NAMESPACE", pod.getMetadata().getNamespace());
      env.put("POD_UID", pod.getMetadata().getUid());
      if (pod.getStatus() != null && pod.getStatus().getPodIP() != null) {
        env.put("POD_IP", pod.getStatus().getPodIP());
      }
      env.put("CLUSTER_ENDPOINT", router.toString());
      env.put("BIND_ADDRESS", "127.0.0.1");
      env.put("GRPC_PORT", Integer.toString(ports[0]));
      env.put("METRICS_PORT", Integer.toString(ports[1]));
      env.put("PEER_PORT", Integer.toString(ports[2]));
      if (security instanceof Security.MutualTls mtls) {
        env.put("SECURITY_MODE", "mtls");
        env.put("SERVICE_ACCOUNT_TOKEN_FILE", mtls.serviceAccountTokenFile().toString());
        env.put("TRUST_BUNDLE_FILE", mtls.trustBundleFile().toString());
      } else {
        env.put("SECURITY_MODE", "plaintext");
      }
      env.put("DISCOVERY_START_PORT", Integer.toString(apps.port()));
      env.put("DISCOVERY_END_PORT", Integer.toString(apps.port()));
      env.put("HEARTBEAT_INTERVAL_SECS", Integer.toString(HEARTBEAT_SECONDS));
      return new SidecarPod(sidecarId, apps, Sidecar.start(SidecarConfig.fromEnv(env)));
    } catch (RuntimeException e) {
      apps.close();
      throw e;
    }
  }

  public String sidecarId() {
    return sidecarId;
  }

  public boolean isRegistered() {
    return sidecar.isRegistered();
  }

  /** The loopback port the pod's own sources push into. */
  public int grpcPort() {
    return sidecar.grpcPort();
  }

  /** The port other sidecars reach this one on: what its data-plane endpoint advertises. */
  public int peerPort() {
    return sidecar.peerPort();
  }

  /** The records the pod's sink has written so far. */
  public List<Record> written() {
    return apps.written();
  }

  /** Successful registrations so far, as the sidecar's own metrics count them. */
  public long registrations() {
    return counter("conveyor_sidecar_registrations_total", "result=\"ok\"");
  }

  /**
   * The value of counter {@code name} on the sidecar's metrics page, in the series whose labels
   * contain {@code label} (e.g. {@code result="issued"}); 0 when there is no such series.
   */
  public long counter(String name, String label) {
    for (String line : metricsPage().split("\n")) {
      if (line.startsWith(name + "{") && line.contains(label)) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  /** Whether the sidecar's readiness probe ({@code /readyz}) passes, as the kubelet asks it. */
  public boolean ready() {
    return admin("/readyz").statusCode() == 200;
  }

  /** The workload certificate the sidecar holds now (empty before enrolment). */
  public Optional<WorkloadCertificate> certificate() {
    return sidecar.certificate();
  }

  /** SIGTERM: refuse new batches, finish in-flight ones, deregister, stop. */
  public void shutdown(String reason) {
    if (stopped.compareAndSet(false, true)) {
      sidecar.shutdown(reason);
    }
  }

  /** SIGKILL: the sidecar stops at once and tells the router nothing; its heartbeats stop. */
  public void kill() {
    if (stopped.compareAndSet(false, true)) {
      sidecar.close();
    }
  }

  /** Kills the sidecar unless it was stopped already, then stops the applications. */
  @Override
  public void close() {
    try {
      kill();
    } finally {
      apps.close();
    }
  }

  private String metricsPage() {
    return admin("/metrics").body();
  }

  private HttpResponse<String> admin(String path) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.metricsPort() + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the sidecar's " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the sidecar's " + path, e);
    }
  }

  /**
   * Ports free at this moment (held open together, so they differ): the sidecar's configuration
   * takes no port 0, and its advertised endpoint names the gRPC port it was given.
   */
  private static int[] freePorts(int count) {
    ServerSocket[] sockets = new ServerSocket[count];
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ports[i] = sockets[i].getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("no free port for the sidecar", e);
    } finally {
      for (ServerSocket socket : sockets) {
        if (socket != null) {
          try {
            socket.close();
          } catch (IOException e) {
            // a closed listener: the port is free again, which is what we want
          }
        }
      }
    }
  }
}
