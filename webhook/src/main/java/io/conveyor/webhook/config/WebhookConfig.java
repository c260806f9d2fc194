package io.conveyor.webhook.config;

import io.conveyor.common.config.EnvReader;
import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.contract.SidecarProfile;
import io.conveyor.webhook.mutation.InjectionKeys;
import io.conveyor.webhook.mutation.ResourceQuantities;
import io.conveyor.webhook.mutation.SidecarMode;
import io.conveyor.webhook.mutation.SidecarResources;
import io.conveyor.webhook.mutation.SidecarSettings;
import io.conveyor.webhook.server.ServerSettings;
import io.conveyor.webhook.tls.TlsSettings;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The webhook's whole configuration, read once from the environment. A bad value stops the process
 * at start with one line per problem naming the variable and what it accepts.
 */
public record WebhookConfig(
    String namespace, ServerSettings server, TlsSettings tls, SidecarSettings sidecar) {

  public static final String DEFAULT_NAMESPACE = "conveyor-system";
  public static final String DEFAULT_SERVICE = "conveyor-webhook";
  public static final String DEFAULT_SECRET = "conveyor-webhook-tls";
  public static final String DEFAULT_WEBHOOK_CONFIGURATION = "conveyor-sidecar-injector";
  public static final String DEFAULT_SIDECAR_IMAGE = "ghcr.io/conveyor-etl/conveyor-sidecar:0.1.0";
  public static final String DEFAULT_CLUSTER_ENDPOINT = "conveyor-router.conveyor-system.svc:50051";

  private static final Pattern DNS_1123_LABEL =
      Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
  private static final Pattern DNS_NAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern SERVICE_ACCOUNT =
      Pattern.compile(
          "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern PULL_POLICY = Pattern.compile("Always|IfNotPresent|Never");
  private static final Pattern IMAGE = Pattern.compile("[^\\s]+");

  public static WebhookConfig fromEnv(Map<String, String> env) {
    EnvReader r = new EnvReader(env);

    String namespace =
        r.matching("POD_NAMESPACE", DEFAULT_NAMESPACE, DNS_1123_LABEL, "a namespace name");
    String service = r.matching("SERVICE_NAME", DEFAULT_SERVICE, DNS_1123_LABEL, "a Service name");
    String clusterDomain =
        r.matching("CLUSTER_DOMAIN", "cluster.local", DNS_NAME, "a DNS domain, e.g. cluster.local");

    ServerSettings server =
        new ServerSettings(
            r.ipAddress("BIND_ADDRESS", "0.0.0.0", "an IP address to listen on, e.g. 0.0.0.0"),
            r.integer("HTTPS_PORT", 8443, 0, 65_535),
            r.integer("METRICS_PORT", 9090, 0, 65_535),
            r.integer("HTTP_THREADS", 16, 1, 256),
            r.integer("HTTP_QUEUE", 512, 1, 10_000),
            r.bytes("MAX_REQUEST_BYTES", 3L << 20, 64L << 10, 64L << 20),
            r.seconds("HTTP_REQUEST_TIMEOUT_SECS", Duration.ofSeconds(10), 1, 300),
            r.seconds("SHUTDOWN_DELAY_SECS", Duration.ofSeconds(5), 0, 120),
            r.integer("WARMUP_REVIEWS", 2_000, 0, 100_000),
            r.integer("WARMUP_HANDSHAKES", 200, 0, 10_000));

    TlsSettings.Store store =
        r.enumValue("TLS_STORE", TlsSettings.Store.KUBERNETES, TlsSettings.Store.class);
    List<String> dnsNames =
        new ArrayList<>(TlsSettings.serviceDnsNames(service, namespace, clusterDomain));
    for (String extra :
        list(
            r.string(
                "TLS_EXTRA_DNS_NAMES", store == TlsSettings.Store.MEMORY ? "localhost" : ""))) {
      if (!dnsNames.contains(extra)) {
        dnsNames.add(extra);
      }
    }
    Duration caValidity = Duration.ofDays(r.longValue("TLS_CA_VALIDITY_DAYS", 1825, 2, 36_500));
    Duration certValidity = Duration.ofDays(r.longValue("TLS_CERT_VALIDITY_DAYS", 90, 2, 3650));
    Duration renewBefore = Duration.ofDays(r.longValue("TLS_RENEW_BEFORE_DAYS", 30, 1, 3649));
    if (renewBefore.compareTo(certValidity) >= 0) {
      r.problem("TLS_RENEW_BEFORE_DAYS must be smaller than TLS_CERT_VALIDITY_DAYS");
    }
    if (certValidity.compareTo(caValidity) >= 0) {
      r.problem("TLS_CERT_VALIDITY_DAYS must be smaller than TLS_CA_VALIDITY_DAYS");
    }
    Duration checkInterval =
        r.seconds("TLS_CHECK_INTERVAL_SECS", Duration.ofSeconds(60), 5, 86_400);
    Optional<Path> caOutput = r.raw("TLS_CA_OUTPUT_FILE").map(Path::of);
    String secretName = r.matching("TLS_SECRET_NAME", DEFAULT_SECRET, DNS_NAME, "a Secret name");
    String webhookConfiguration =
        r.matching(
            "WEBHOOK_CONFIGURATION_NAME",
            DEFAULT_WEBHOOK_CONFIGURATION,
            DNS_NAME,
            "a MutatingWebhookConfiguration name");

    String image = r.matching("SIDECAR_IMAGE", DEFAULT_SIDECAR_IMAGE, IMAGE, "an image reference");
    String pullPolicy =
        r.matching(
            "SIDECAR_IMAGE_PULL_POLICY",
            "IfNotPresent",
            PULL_POLICY,
            "Always, IfNotPresent or Never");
    SidecarMode mode = r.enumValue("SIDECAR_MODE", SidecarMode.NATIVE, SidecarMode.class);
    SidecarProfile profile =
        r.enumValue("SIDECAR_PROFILE", SidecarProfile.COMPACT, SidecarProfile.class);
    HostPort clusterEndpoint = r.hostPort("CLUSTER_ENDPOINT", DEFAULT_CLUSTER_ENDPOINT);
    String routerServiceAccount =
        r.matching(
            "ROUTER_SERVICE_ACCOUNT",
            SidecarEnvironment.ROUTER_SERVICE_ACCOUNT.defaultValue(),
            SERVICE_ACCOUNT,
            "namespace/name of the router's service account, e.g. conveyor-system/conveyor-operator");
    int grpcPort = r.port("SIDECAR_GRPC_PORT", 9091);
    int peerPort = r.port("SIDECAR_PEER_PORT", 9096);
    int metricsPort = r.port("SIDECAR_METRICS_PORT", 9090);
    samePort(r, "SIDECAR_GRPC_PORT", grpcPort, "SIDECAR_PEER_PORT", peerPort);
    samePort(r, "SIDECAR_GRPC_PORT", grpcPort, "SIDECAR_METRICS_PORT", metricsPort);
    samePort(r, "SIDECAR_PEER_PORT", peerPort, "SIDECAR_METRICS_PORT", metricsPort);
    SidecarResources resources =
        new SidecarResources(
            quantity(r, "SIDECAR_CPU_REQUEST", "50m", "a CPU quantity such as 50m, or none"),
            quantity(r, "SIDECAR_CPU_LIMIT", "none", "a CPU quantity such as 500m, or none"),
            quantity(
                r, "SIDECAR_MEMORY_REQUEST", "96Mi", "a memory quantity such as 96Mi, or none"),
            quantity(
                r, "SIDECAR_MEMORY_LIMIT", "192Mi", "a memory quantity such as 192Mi, or none"));
    resources
        .inconsistencies(
            "SIDECAR_CPU_REQUEST",
            "SIDECAR_CPU_LIMIT",
            "SIDECAR_MEMORY_REQUEST",
            "SIDECAR_MEMORY_LIMIT")
        .forEach(r::problem);
    long runAsUser = r.longValue("SIDECAR_RUN_AS_USER", 65_532, 1, 2_147_483_647L);
    String version = r.string("INJECTOR_VERSION", defaultVersion());

    r.validate();

    Set<String> excluded = Set.of(namespace);
    TlsSettings tls =
        new TlsSettings(
            store,
            namespace,
            secretName,
            webhookConfiguration,
            dnsNames,
            caValidity,
            certValidity,
            renewBefore,
            checkInterval,
            caOutput);
    SidecarSettings sidecar =
        new SidecarSettings(
            image,
            pullPolicy,
            mode,
            profile,
            clusterEndpoint,
            routerServiceAccount,
            grpcPort,
            peerPort,
            metricsPort,
            resources,
            runAsUser,
            version,
            excluded);
    return new WebhookConfig(namespace, server, tls, sidecar);
  }

  /** Namespaces the webhook never injects into. */
  public Set<String> excludedNamespaces() {
    Set<String> all = new TreeSet<>(InjectionKeys.SYSTEM_NAMESPACES);
    all.add(namespace);
    return all;
  }

  /** The sidecar's three ports must differ: each is a listener of its own in the pod. */
  private static void samePort(EnvReader r, String name, int port, String otherName, int other) {
    if (port == other) {
      r.problem(name + " and " + otherName + " must differ, both are " + port);
    }
  }

  private static Optional<Quantity> quantity(
      EnvReader r, String name, String defaultValue, String accepted) {
    String raw = r.string(name, defaultValue);
    if (raw.toLowerCase(Locale.ROOT).equals("none")) {
      return Optional.empty();
    }
    try {
      return Optional.of(ResourceQuantities.parse(raw));
    } catch (RuntimeException e) {
      r.problem(name + "='" + raw + "' is not valid: expected " + accepted);
      return Optional.empty();
    }
  }

  private static List<String> list(String commaSeparated) {
    return Arrays.stream(commaSeparated.split(","))
        .map(String::strip)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  private static String defaultVersion() {
    String version = WebhookConfig.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
