package io.conveyor.webhook.mutation;

import io.conveyor.common.config.HostPort;
import io.conveyor.common.contract.SidecarEnvironment;
import io.conveyor.common.contract.SidecarProfile;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Applies a pod's override annotations to the injector's settings. Every invalid annotation is
 * reported, each naming the annotation, its value and what it accepts.
 */
public final class SidecarSpecResolver {

  static final String QUANTITY_CPU = "a Kubernetes CPU quantity, e.g. 100m or 0.5";
  static final String QUANTITY_MEMORY = "a Kubernetes memory quantity, e.g. 128Mi or 1Gi";
  static final String PORT = "a port number from 1 to 65535";

  private SidecarSpecResolver() {}

  public static SidecarSpec resolve(SidecarSettings settings, Map<String, String> annotations)
      throws InjectionDeniedException {
    Parser p = new Parser(annotations);

    SidecarMode mode =
        p.parse(
            InjectionKeys.SIDECAR_MODE,
            settings.mode(),
            v -> SidecarMode.parse(v).orElseThrow(IllegalArgumentException::new),
            "native or container");
    SidecarProfile profile =
        p.parse(
            InjectionKeys.SIDECAR_PROFILE,
            settings.profile(),
            v -> SidecarProfile.parse(v).orElseThrow(IllegalArgumentException::new),
            "compact or throughput");
    HostPort endpoint =
        p.parse(
            InjectionKeys.CLUSTER_ENDPOINT,
            settings.clusterEndpoint(),
            HostPort::parse,
            "host:port, e.g. conveyor-router.conveyor-system.svc:50051");
    Optional<PortRange> discovery =
        p.parseOptional(
            InjectionKeys.DISCOVERY_PORTS,
            SidecarSpecResolver::scanRange,
            "start-end with ports from 1 to 65535, start <= end and at most "
                + SidecarEnvironment.MAX_DISCOVERY_PORTS
                + " ports, e.g. 50051-50060");
    int grpcPort =
        p.parse(InjectionKeys.GRPC_PORT, settings.grpcPort(), SidecarSpecResolver::port, PORT);
    int peerPort =
        p.parse(InjectionKeys.PEER_PORT, settings.peerPort(), SidecarSpecResolver::port, PORT);
    int metricsPort =
        p.parse(
            InjectionKeys.METRICS_PORT, settings.metricsPort(), SidecarSpecResolver::port, PORT);

    SidecarResources defaults = settings.resources();
    SidecarResources resources =
        new SidecarResources(
            p.quantity(InjectionKeys.CPU_REQUEST, defaults.cpuRequest(), QUANTITY_CPU),
            p.quantity(InjectionKeys.CPU_LIMIT, defaults.cpuLimit(), QUANTITY_CPU),
            p.quantity(InjectionKeys.MEMORY_REQUEST, defaults.memoryRequest(), QUANTITY_MEMORY),
            p.quantity(InjectionKeys.MEMORY_LIMIT, defaults.memoryLimit(), QUANTITY_MEMORY));

    if (p.problems.isEmpty()) {
      List<SidecarPort> ports =
          List.of(
              new SidecarPort("gRPC", InjectionKeys.GRPC_PORT, grpcPort),
              new SidecarPort("peer", InjectionKeys.PEER_PORT, peerPort),
              new SidecarPort("metrics", InjectionKeys.METRICS_PORT, metricsPort));
      for (int i = 0; i < ports.size(); i++) {
        for (int j = i + 1; j < ports.size(); j++) {
          SidecarPort a = ports.get(i);
          SidecarPort b = ports.get(j);
          if (a.number() == b.number()) {
            p.problems.add(
                "the sidecar's "
                    + a.what()
                    + " port and "
                    + b.what()
                    + " port are both "
                    + a.number()
                    + ": set "
                    + a.annotation()
                    + " or "
                    + b.annotation()
                    + " so that they differ");
          }
        }
      }
      p.problems.addAll(
          resources.inconsistencies(
              InjectionKeys.CPU_REQUEST,
              InjectionKeys.CPU_LIMIT,
              InjectionKeys.MEMORY_REQUEST,
              InjectionKeys.MEMORY_LIMIT));
    }
    if (!p.problems.isEmpty()) {
      throw new InjectionDeniedException(p.problems);
    }
    return new SidecarSpec(
        settings.image(),
        settings.imagePullPolicy(),
        mode,
        profile,
        endpoint,
        settings.routerServiceAccount(),
        grpcPort,
        peerPort,
        metricsPort,
        discovery,
        resources,
        settings.runAsUser());
  }

  /** One of the sidecar's ports, named as a denial names it. */
  private record SidecarPort(String what, String annotation, int number) {}

  /** A range the sidecar scans: one it would refuse at start is refused at admission instead. */
  private static PortRange scanRange(String value) {
    PortRange range = PortRange.parse(value);
    if (range.size() > SidecarEnvironment.MAX_DISCOVERY_PORTS) {
      throw new IllegalArgumentException("too wide");
    }
    return range;
  }

  private static int port(String value) {
    int port = Integer.parseInt(value);
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException("out of range");
    }
    return port;
  }

  private static final class Parser {
    private final Map<String, String> annotations;
    private final List<String> problems = new ArrayList<>();

    Parser(Map<String, String> annotations) {
      this.annotations = annotations == null ? Map.of() : annotations;
    }

    <T> T parse(String key, T defaultValue, Function<String, T> parser, String accepted) {
      return parseOptional(key, parser, accepted).orElse(defaultValue);
    }

    <T> Optional<T> parseOptional(String key, Function<String, T> parser, String accepted) {
      String raw = annotations.get(key);
      if (raw == null) {
        return Optional.empty();
      }
      try {
        return Optional.of(parser.apply(raw.strip()));
      } catch (RuntimeException e) {
        problems.add("annotation " + key + "='" + raw + "' is not valid: expected " + accepted);
        return Optional.empty();
      }
    }

    Optional<Quantity> quantity(String key, Optional<Quantity> defaultValue, String accepted) {
      Optional<Quantity> parsed = parseOptional(key, ResourceQuantities::parse, accepted);
      return parsed.isPresent() ? parsed : defaultValue;
    }
  }
}
