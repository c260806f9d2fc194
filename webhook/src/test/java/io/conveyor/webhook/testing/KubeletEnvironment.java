package io.conveyor.webhook.testing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A container's environment as the kubelet hands it to the process, following {@code
 * makeEnvironmentVariables} in {@code pkg/kubelet/kubelet_pods.go}: variables in the order the
 * container lists them (a later one of the same name wins); a plain value has its {@code $(VAR)}
 * references expanded against the variables before it and the service links ({@code $$} is a
 * literal {@code $}, an unknown reference stays as written); a downward-API {@code fieldRef} is
 * read from the running pod; the namespace's service links are added last, only under names the
 * container does not define.
 *
 * <p>What cannot be resolved without a cluster (Secrets, ConfigMaps, resource fields, {@code
 * envFrom}) is refused, so a test built on this fails rather than silently skipping a variable.
 */
public final class KubeletEnvironment {

  private static final Pattern LABEL_OR_ANNOTATION =
      Pattern.compile("metadata\\.(labels|annotations)\\['([^']*)'\\]");

  private KubeletEnvironment() {}

  /** The environment of {@code container} in the running {@code pod}, with no service links. */
  public static Map<String, String> resolve(Pod pod, Container container) {
    return resolve(pod, container, List.of());
  }

  /**
   * The environment of {@code container} in the running {@code pod}, in a namespace with {@code
   * services} (whose links the kubelet adds, {@code enableServiceLinks} being on by default).
   */
  public static Map<String, String> resolve(Pod pod, Container container, List<Service> services) {
    if (container.getEnvFrom() != null && !container.getEnvFrom().isEmpty()) {
      throw new IllegalArgumentException(
          "container " + container.getName() + ": envFrom cannot be resolved without a cluster");
    }
    Map<String, String> links = serviceLinks(services);
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar variable : orEmpty(container.getEnv())) {
      String value;
      if (variable.getValue() != null && !variable.getValue().isEmpty()) {
        value =
            expand(
                variable.getValue(),
                name ->
                    Optional.ofNullable(env.get(name))
                        .or(() -> Optional.ofNullable(links.get(name)))
                        .orElse("$(" + name + ")"));
      } else if (variable.getValueFrom() != null) {
        value = valueFrom(pod, variable.getName(), variable.getValueFrom());
      } else {
        value = "";
      }
      env.put(variable.getName(), value);
    }
    links.forEach(env::putIfAbsent);
    return env;
  }

  /**
   * The variables the kubelet defines for each Service of the pod's namespace ({@code
   * pkg/kubelet/envvars}): {@code NAME_SERVICE_HOST}, {@code NAME_SERVICE_PORT}, {@code
   * NAME_SERVICE_PORT_<PORTNAME>} and the Docker-link style {@code NAME_PORT=tcp://ip:port}, {@code
   * NAME_PORT_<port>_TCP...}. A Service called {@code grpc} thus defines {@code GRPC_PORT}.
   */
  public static Map<String, String> serviceLinks(List<Service> services) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Service service : services) {
      String prefix = variableName(service.getMetadata().getName());
      String ip = service.getSpec().getClusterIP();
      List<ServicePort> ports = service.getSpec().getPorts();
      env.put(prefix + "_SERVICE_HOST", ip);
      env.put(prefix + "_SERVICE_PORT", Integer.toString(ports.get(0).getPort()));
      for (ServicePort port : ports) {
        if (port.getName() != null && !port.getName().isEmpty()) {
          env.put(
              prefix + "_SERVICE_PORT_" + variableName(port.getName()),
              Integer.toString(port.getPort()));
        }
      }
      for (int i = 0; i < ports.size(); i++) {
        ServicePort port = ports.get(i);
        String protocol = port.getProtocol() == null ? "TCP" : port.getProtocol();
        String lower = protocol.toLowerCase(Locale.ROOT);
        String hostPort = (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port.getPort();
        if (i == 0) {
          env.put(prefix + "_PORT", lower + "://" + hostPort);
        }
        String portPrefix =
            prefix + "_PORT_" + port.getPort() + "_" + protocol.toUpperCase(Locale.ROOT);
        env.put(portPrefix, lower + "://" + hostPort);
        env.put(portPrefix + "_PROTO", lower);
        env.put(portPrefix + "_PORT", Integer.toString(port.getPort()));
        env.put(portPrefix + "_ADDR", ip);
      }
    }
    return env;
  }

  /**
   * {@code third_party/forked/golang/expansion}: {@code $(NAME)} is replaced by {@code
   * mapping(NAME)}, {@code $$} by {@code $}; any other {@code $} is kept.
   */
  static String expand(String input, Function<String, String> mapping) {
    StringBuilder out = new StringBuilder();
    int checkpoint = 0;
    for (int cursor = 0; cursor < input.length(); cursor++) {
      if (input.charAt(cursor) == '$' && cursor + 1 < input.length()) {
        out.append(input, checkpoint, cursor);
        char next = input.charAt(cursor + 1);
        int advance = 1;
        if (next == '$') {
          out.append('$');
        } else if (next == '(') {
          int close = input.indexOf(')', cursor + 2);
          if (close < 0) {
            out.append("$(");
          } else {
            out.append(mapping.apply(input.substring(cursor + 2, close)));
            advance = close - cursor;
          }
        } else {
          out.append('$').append(next);
        }
        cursor += advance;
        checkpoint = cursor + 1;
      }
    }
    return out.append(input.substring(checkpoint)).toString();
  }

  private static String valueFrom(Pod pod, String name, EnvVarSource source) {
    ObjectFieldSelector field = source.getFieldRef();
    if (field == null) {
      throw new IllegalArgumentException(
          name + ": only downward-API fieldRefs can be resolved here, not " + source);
    }
    if (field.getApiVersion() != null && !"v1".equals(field.getApiVersion())) {
      throw new IllegalArgumentException(
          name + ": fieldRef apiVersion " + field.getApiVersion() + " is not v1");
    }
    String path = field.getFieldPath();
    Matcher keyed = LABEL_OR_ANNOTATION.matcher(path);
    if (keyed.matches()) {
      Map<String, String> map =
          keyed.group(1).equals("labels")
              ? pod.getMetadata().getLabels()
              : pod.getMetadata().getAnnotations();
      return map == null ? "" : map.getOrDefault(keyed.group(2), "");
    }
    String value =
        switch (path) {
          case "metadata.name" -> pod.getMetadata().getName();
          case "metadata.namespace" -> pod.getMetadata().getNamespace();
          case "metadata.uid" -> pod.getMetadata().getUid();
          case "spec.nodeName" -> pod.getSpec().getNodeName();
          case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
          case "status.hostIP" -> pod.getStatus().getHostIP();
          case "status.podIP" -> pod.getStatus().getPodIP();
          case "status.podIPs" ->
              orEmpty(pod.getStatus().getPodIPs()).stream()
                  .map(PodIP::getIp)
                  .collect(Collectors.joining(","));
          default ->
              throw new IllegalArgumentException(
                  name + ": fieldRef " + path + " is not a field the kubelet supports for env");
        };
    if (value == null) {
      throw new IllegalArgumentException(
          name + ": the running pod has no " + path + "; give the test pod one");
    }
    return value;
  }

  private static String variableName(String name) {
    return name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
