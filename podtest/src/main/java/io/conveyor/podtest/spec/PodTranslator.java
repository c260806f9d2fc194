package io.conveyor.podtest.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMapProjection;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.DownwardAPIVolumeFile;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A pod spec translated into what runc needs, as a kubelet with containerd would do it: one OCI
 * runtime config per container, the volumes to prepare, and the probes and restart policy the
 * runner applies. Pure: no file is read or written here. Every field it does not honour, and every
 * value it cannot honour, is refused with a line naming it ({@link PodSpecException}).
 */
public final class PodTranslator {

  /** Where a kubelet mounts the termination message file unless the container says otherwise. */
  public static final String DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";

  /**
   * The nameserver of the pods' resolv.conf unless the runner is given a cluster DNS: the pod's own
   * loopback, where nothing listens, so a lookup fails at once, as a cluster DNS answers at once
   * for a name it does not know.
   */
  public static final String DEFAULT_CLUSTER_DNS = "127.0.0.1";

  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private static final Set<String> FIELD_REFS =
      Set.of(
          "metadata.name",
          "metadata.namespace",
          "metadata.uid",
          "status.podIP",
          "spec.serviceAccountName");

  private static final Pattern IP_LITERAL =
      Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*");

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final Map<String, ImageConfig> images;
  private final Map<String, Map<String, String>> configMaps;
  private final Optional<KubernetesService> apiServer;
  private final String clusterDns;

  /** A translator for a node with no API server: containers get no Kubernetes Service variables. */
  public PodTranslator(
      Map<String, ImageConfig> images, Map<String, Map<String, String>> configMaps) {
    this(images, configMaps, Optional.empty(), DEFAULT_CLUSTER_DNS);
  }

  /**
   * @param images the unpacked images by the name the pod spec uses
   * @param configMaps the configMaps the runner may mount, by name (data key to content)
   * @param apiServer the API server the pods can reach, given to every container as a kubelet gives
   *     the {@code kubernetes} Service
   * @param clusterDns the IP address the pods' resolv.conf names as nameserver (a kubelet's
   *     clusterDNS)
   */
  public PodTranslator(
      Map<String, ImageConfig> images,
      Map<String, Map<String, String>> configMaps,
      Optional<KubernetesService> apiServer,
      String clusterDns) {
    if (!IP_LITERAL.matcher(clusterDns).matches()) {
      throw new IllegalArgumentException(
          "the cluster DNS '" + clusterDns + "' is not an IP address (resolv.conf needs one)");
    }
    this.images = Map.copyOf(images);
    this.configMaps = Map.copyOf(configMaps);
    this.apiServer = apiServer;
    this.clusterDns = clusterDns;
  }

  /**
   * @param cgroupParent the cgroup (relative to each hierarchy's root) under which the pod's
   *     containers get theirs: {@code <cgroupParent>/<container>}
   */
  public PodPlan translate(Pod pod, PodIdentity identity, PodLayout layout, String cgroupParent) {
    List<String> problems =
        new ArrayList<>(UnsupportedFields.of(SERIALIZATION.convertValue(pod, JsonNode.class)));
    if (!problems.isEmpty()) {
      throw new PodSpecException(problems);
    }
    var spec = pod.getSpec();
    String podPolicy = orDefault(spec.getRestartPolicy(), "Always");
    if (!Set.of("Always", "OnFailure", "Never").contains(podPolicy)) {
      problems.add("spec.restartPolicy '" + podPolicy + "' is not Always, OnFailure or Never");
    }
    Map<String, VolumePlan> volumes = new LinkedHashMap<>();
    List<Volume> specVolumes = spec.getVolumes() == null ? List.of() : spec.getVolumes();
    for (int i = 0; i < specVolumes.size(); i++) {
      volume(specVolumes.get(i), "spec.volumes[" + i + "]", pod, identity, layout, problems)
          .ifPresent(v -> volumes.put(v.name(), v));
    }
    PodSecurityContext podSecurity =
        spec.getSecurityContext() == null ? new PodSecurityContext() : spec.getSecurityContext();
    List<ContainerPlan> containers = new ArrayList<>();
    List<Container> inits = spec.getInitContainers() == null ? List.of() : spec.getInitContainers();
    for (int i = 0; i < inits.size(); i++) {
      Container c = inits.get(i);
      String where = "spec.initContainers[" + i + "]";
      boolean sidecar = "Always".equals(c.getRestartPolicy());
      if (c.getRestartPolicy() != null && !sidecar) {
        problems.add(where + ".restartPolicy '" + c.getRestartPolicy() + "' is not Always");
      }
      if (!sidecar
          && (c.getStartupProbe() != null
              || c.getReadinessProbe() != null
              || c.getLivenessProbe() != null)) {
        problems.add(
            where + " is an init container that runs to completion and may not have probes");
      }
      // The kubelet restarts a failed init container unless the pod's policy is Never.
      String policy = sidecar ? "Always" : podPolicy.equals("Never") ? "Never" : "OnFailure";
      container(
              c,
              where,
              sidecar ? ContainerPlan.Kind.NATIVE_SIDECAR : ContainerPlan.Kind.INIT,
              policy,
              podSecurity,
              pod,
              identity,
              layout,
              cgroupParent,
              volumes,
              problems)
          .ifPresent(containers::add);
    }
    List<Container> apps = spec.getContainers() == null ? List.of() : spec.getContainers();
    if (apps.isEmpty()) {
      problems.add("spec.containers is empty");
    }
    for (int i = 0; i < apps.size(); i++) {
      container(
              apps.get(i),
              "spec.containers[" + i + "]",
              ContainerPlan.Kind.APP,
              podPolicy,
              podSecurity,
              pod,
              identity,
              layout,
              cgroupParent,
              volumes,
              problems)
          .ifPresent(containers::add);
    }
    Set<String> names = new LinkedHashSet<>();
    for (ContainerPlan c : containers) {
      if (!names.add(c.name())) {
        problems.add("container name '" + c.name() + "' is used twice");
      }
    }
    if (!problems.isEmpty()) {
      throw new PodSpecException(problems);
    }
    long grace =
        spec.getTerminationGracePeriodSeconds() == null
            ? 30
            : spec.getTerminationGracePeriodSeconds();
    return new PodPlan(
        identity,
        layout,
        List.copyOf(volumes.values()),
        List.copyOf(containers),
        Duration.ofSeconds(grace),
        etcHosts(identity),
        resolvConf(identity, clusterDns));
  }

  /**
   * The resolv.conf a kubelet writes for dnsPolicy ClusterFirst, whatever the image holds. There is
   * no cluster DNS on the runner's node: unless told otherwise the nameserver is {@link
   * #DEFAULT_CLUSTER_DNS}.
   */
  static String resolvConf(PodIdentity identity, String clusterDns) {
    return "nameserver "
        + clusterDns
        + "\n"
        + "search "
        + identity.namespace()
        + ".svc.cluster.local svc.cluster.local cluster.local\n"
        + "options ndots:5\n";
  }

  /** The hosts file a kubelet writes for a pod without hostNetwork. */
  static String etcHosts(PodIdentity identity) {
    return "# Kubernetes-managed hosts file (podtest runner).\n"
        + "127.0.0.1\tlocalhost\n"
        + "::1\tlocalhost ip6-localhost ip6-loopback\n"
        + identity.ip()
        + "\t"
        + identity.name()
        + "\n";
  }

  private Optional<VolumePlan> volume(
      Volume v,
      String where,
      Pod pod,
      PodIdentity identity,
      PodLayout layout,
      List<String> problems) {
    String name = v.getName();
    if (v.getEmptyDir() != null) {
      String medium = orDefault(v.getEmptyDir().getMedium(), "");
      long limit =
          v.getEmptyDir().getSizeLimit() == null ? 0 : bytes(v.getEmptyDir().getSizeLimit());
      if (medium.equals("Memory")) {
        return Optional.of(new VolumePlan.MemoryDir(name, layout.volume(name), limit));
      }
      if (!medium.isEmpty()) {
        problems.add(
            where + ".emptyDir.medium '" + medium + "' is not supported by the test runner");
        return Optional.empty();
      }
      return Optional.of(new VolumePlan.EmptyDir(name, layout.volume(name), limit));
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    int mode;
    if (v.getProjected() != null) {
      mode = v.getProjected().getDefaultMode() == null ? 0644 : v.getProjected().getDefaultMode();
      List<VolumeProjection> sources = v.getProjected().getSources();
      for (int i = 0; i < sources.size(); i++) {
        VolumeProjection source = sources.get(i);
        String at = where + ".projected.sources[" + i + "]";
        if (source.getServiceAccountToken() != null) {
          ServiceAccountTokenProjection token = source.getServiceAccountToken();
          files.put(token.getPath(), fakeToken(pod, identity, token.getAudience()));
        } else if (source.getConfigMap() != null) {
          ConfigMapProjection cm = source.getConfigMap();
          configMapFiles(
              cm.getName(), cm.getItems(), cm.getOptional(), at + ".configMap", files, problems);
        } else if (source.getDownwardAPI() != null) {
          List<DownwardAPIVolumeFile> items = source.getDownwardAPI().getItems();
          for (int j = 0; j < items.size(); j++) {
            DownwardAPIVolumeFile item = items.get(j);
            String path = item.getFieldRef().getFieldPath();
            String value = fieldRef(path, pod, identity);
            if (value == null) {
              problems.add(
                  at
                      + ".downwardAPI.items["
                      + j
                      + "].fieldRef.fieldPath '"
                      + path
                      + "' is not supported by the test runner");
            } else {
              files.put(item.getPath(), value.getBytes(StandardCharsets.UTF_8));
            }
          }
        } else {
          problems.add(at + " is not supported by the test runner");
        }
      }
    } else if (v.getConfigMap() != null) {
      ConfigMapVolumeSource cm = v.getConfigMap();
      mode = cm.getDefaultMode() == null ? 0644 : cm.getDefaultMode();
      configMapFiles(
          cm.getName(), cm.getItems(), cm.getOptional(), where + ".configMap", files, problems);
    } else {
      problems.add(where + " (" + name + ") has no volume source the test runner supports");
      return Optional.empty();
    }
    return Optional.of(new VolumePlan.Files(name, layout.volume(name), files, mode));
  }

  private void configMapFiles(
      String name,
      List<KeyToPath> items,
      Boolean optional,
      String where,
      Map<String, byte[]> files,
      List<String> problems) {
    Map<String, String> data = configMaps.get(name);
    if (data == null) {
      if (!Boolean.TRUE.equals(optional)) {
        // A kubelet would leave the pod in ContainerCreating; the runner refuses at once.
        problems.add(where + ": configMap '" + name + "' was not given to the test runner");
      }
      return;
    }
    if (items == null || items.isEmpty()) {
      data.forEach((k, value) -> files.put(k, value.getBytes(StandardCharsets.UTF_8)));
      return;
    }
    for (KeyToPath item : items) {
      String value = data.get(item.getKey());
      if (value == null) {
        if (!Boolean.TRUE.equals(optional)) {
          problems.add(where + ": configMap '" + name + "' has no key '" + item.getKey() + "'");
        }
        continue;
      }
      files.put(item.getPath(), value.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Not signed: no API server issues tokens here (see {@link FakeServiceAccountToken}). */
  static byte[] fakeToken(Pod pod, PodIdentity identity, String audience) {
    String account = orDefault(pod.getSpec().getServiceAccountName(), "default");
    return new FakeServiceAccountToken(
            identity.namespace(), account, identity.name(), identity.uid(), orDefault(audience, ""))
        .jwt()
        .getBytes(StandardCharsets.UTF_8);
  }

  private Optional<ContainerPlan> container(
      Container c,
      String where,
      ContainerPlan.Kind kind,
      String restartPolicy,
      PodSecurityContext podSecurity,
      Pod pod,
      PodIdentity identity,
      PodLayout layout,
      String cgroupParent,
      Map<String, VolumePlan> volumes,
      List<String> problems) {
    int before = problems.size();
    ImageConfig image = images.get(c.getImage());
    if (image == null) {
      problems.add(where + ".image '" + c.getImage() + "' was not given to the test runner");
      return Optional.empty();
    }
    if ("Always".equals(c.getImagePullPolicy())) {
      problems.add(where + ".imagePullPolicy Always: the test runner never pulls");
    }
    SecurityContext sc =
        c.getSecurityContext() == null ? new SecurityContext() : c.getSecurityContext();
    if (Boolean.TRUE.equals(sc.getPrivileged())) {
      problems.add(where + ".securityContext.privileged true is not supported by the test runner");
    }

    // Environment: the image's, then the container's in order, $(VAR) expanded as the kubelet does.
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", DEFAULT_PATH);
    for (String kv : image.env()) {
      int eq = kv.indexOf('=');
      env.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : kv.substring(eq + 1));
    }
    env.put("HOSTNAME", identity.name());
    Map<String, String> declared = new LinkedHashMap<>();
    // The kubelet's Service variables come before the container's own, which may use or override
    // them.
    apiServer.ifPresent(
        service -> {
          env.putAll(service.env());
          declared.putAll(service.env());
        });
    List<EnvVar> vars = c.getEnv() == null ? List.of() : c.getEnv();
    for (int i = 0; i < vars.size(); i++) {
      EnvVar var = vars.get(i);
      String value;
      if (var.getValueFrom() != null) {
        String path = var.getValueFrom().getFieldRef().getFieldPath();
        value = fieldRef(path, pod, identity);
        if (value == null) {
          problems.add(
              where
                  + ".env["
                  + i
                  + "].valueFrom.fieldRef.fieldPath '"
                  + path
                  + "' is not supported by the test runner");
          continue;
        }
      } else {
        value = EnvExpansion.expand(orDefault(var.getValue(), ""), declared);
      }
      declared.put(var.getName(), value);
      env.put(var.getName(), value);
    }

    // Process arguments: command replaces ENTRYPOINT, args replace CMD.
    List<String> command = c.getCommand() == null ? List.of() : c.getCommand();
    List<String> args = c.getArgs() == null ? List.of() : c.getArgs();
    List<String> argv = new ArrayList<>();
    if (!command.isEmpty()) {
      command.forEach(a -> argv.add(EnvExpansion.expand(a, declared)));
      args.forEach(a -> argv.add(EnvExpansion.expand(a, declared)));
    } else {
      argv.addAll(image.entrypoint());
      if (!args.isEmpty()) {
        args.forEach(a -> argv.add(EnvExpansion.expand(a, declared)));
      } else {
        argv.addAll(image.cmd());
      }
    }
    if (argv.isEmpty()) {
      problems.add(where + ": neither the image nor the pod spec gives a command");
    }

    // User and group: container over pod over image.
    Long uid = first(sc.getRunAsUser(), podSecurity.getRunAsUser());
    Long gid = first(sc.getRunAsGroup(), podSecurity.getRunAsGroup());
    if (uid == null || gid == null) {
      String[] user = image.user().split(":", 2);
      try {
        if (uid == null) {
          uid = user[0].isEmpty() ? 0L : Long.parseLong(user[0]);
        }
        if (gid == null) {
          gid = user.length > 1 ? Long.parseLong(user[1]) : 0L;
        }
      } catch (NumberFormatException e) {
        problems.add(
            where
                + ": image user '"
                + image.user()
                + "' is not numeric; the test runner does not read the image's /etc/passwd");
        uid = uid == null ? 0L : uid;
        gid = gid == null ? 0L : gid;
      }
    }
    Boolean nonRoot = first(sc.getRunAsNonRoot(), podSecurity.getRunAsNonRoot());
    if (Boolean.TRUE.equals(nonRoot) && uid == 0) {
      // The kubelet's own refusal (CreateContainerConfigError).
      problems.add(where + ": container has runAsNonRoot and image will run as root");
    }

    ObjectNode config = JSON.objectNode();
    config.put("ociVersion", "1.0.2");
    ObjectNode process = config.putObject("process");
    process.put("terminal", false);
    ObjectNode user = process.putObject("user");
    user.put("uid", uid);
    user.put("gid", gid);
    argv.forEach(process.putArray("args")::add);
    ArrayNode envArray = process.putArray("env");
    env.forEach((k, v) -> envArray.add(k + "=" + v));
    process.put("cwd", orDefault(c.getWorkingDir(), image.workingDir()));
    capabilities(process.putObject("capabilities"), sc.getCapabilities(), where, problems);
    // No rlimits: the container inherits the runtime's own, as under containerd (whose unit
    // sets them); a fixed value could exceed this host's hard limit.
    process.put("noNewPrivileges", Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation()));

    boolean readOnlyRoot = Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem());
    ObjectNode root = config.putObject("root");
    root.put("path", (readOnlyRoot ? image.rootfs() : layout.writableRoot(c.getName())).toString());
    root.put("readonly", readOnlyRoot);
    config.put("hostname", identity.name());

    ArrayNode mounts = config.putArray("mounts");
    RuntimeDefaults.addSystemMounts(mounts);
    bind(mounts, "/etc/hosts", layout.etcHosts().toString(), false);
    bind(mounts, "/etc/resolv.conf", layout.etcResolvConf().toString(), false);
    bind(mounts, "/etc/hostname", layout.etcHostname().toString(), true);
    bind(
        mounts,
        orDefault(c.getTerminationMessagePath(), DEFAULT_TERMINATION_MESSAGE_PATH),
        layout.terminationMessage(c.getName()).toString(),
        false);
    List<VolumeMount> volumeMounts = c.getVolumeMounts() == null ? List.of() : c.getVolumeMounts();
    for (int i = 0; i < volumeMounts.size(); i++) {
      VolumeMount m = volumeMounts.get(i);
      VolumePlan v = volumes.get(m.getName());
      if (v == null) {
        problems.add(where + ".volumeMounts[" + i + "]: no volume named '" + m.getName() + "'");
        continue;
      }
      boolean ro = Boolean.TRUE.equals(m.getReadOnly()) || v instanceof VolumePlan.Files;
      bind(mounts, m.getMountPath(), v.hostDir().toString(), ro);
    }

    ObjectNode linux = config.putObject("linux");
    ArrayNode namespaces = linux.putArray("namespaces");
    for (String ns : List.of("pid", "ipc", "uts", "mount")) {
      namespaces.addObject().put("type", ns);
    }
    namespaces.addObject().put("type", "network").put("path", identity.netns().toString());
    linux.put("cgroupsPath", "/" + cgroupParent + "/" + c.getName());
    ObjectNode resources = linux.putObject("resources");
    resources.putArray("devices").addObject().put("allow", false).put("access", "rwm");
    long memoryLimit = 0;
    var limits = c.getResources() == null ? null : c.getResources().getLimits();
    var requests = c.getResources() == null ? null : c.getResources().getRequests();
    if (limits != null && limits.get("memory") != null) {
      memoryLimit = bytes(limits.get("memory"));
      resources.putObject("memory").put("limit", memoryLimit);
    }
    ObjectNode cpu = JSON.objectNode();
    if (requests != null && requests.get("cpu") != null) {
      // the kubelet's milliCPUToShares
      long millis = millicores(requests.get("cpu"));
      cpu.put("shares", Math.max(2, millis * 1024 / 1000));
    }
    if (limits != null && limits.get("cpu") != null) {
      cpu.put("quota", Math.max(1000, millicores(limits.get("cpu")) * 100));
      cpu.put("period", 100_000);
    }
    if (!cpu.isEmpty()) {
      resources.set("cpu", cpu);
    }
    RuntimeDefaults.maskedAndReadonlyPaths(linux);
    String seccomp = seccompType(sc, podSecurity);
    if (seccomp.equals("RuntimeDefault")) {
      linux.set("seccomp", RuntimeDefaults.seccompRuntimeDefault());
    } else if (!seccomp.equals("Unconfined")) {
      problems.add(
          where + ": seccompProfile type '" + seccomp + "' is not supported by the test runner");
    }

    Map<String, Integer> ports = new LinkedHashMap<>();
    for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
      if (p.getName() != null) {
        ports.put(p.getName(), p.getContainerPort());
      }
    }
    Optional<ProbePlan> startup =
        probe(c.getStartupProbe(), where + ".startupProbe", ports, problems);
    Optional<ProbePlan> liveness =
        probe(c.getLivenessProbe(), where + ".livenessProbe", ports, problems);
    Optional<ProbePlan> readiness =
        probe(c.getReadinessProbe(), where + ".readinessProbe", ports, problems);
    String messagePolicy = orDefault(c.getTerminationMessagePolicy(), "File");
    if (!Set.of("File", "FallbackToLogsOnError").contains(messagePolicy)) {
      problems.add(
          where
              + ".terminationMessagePolicy '"
              + messagePolicy
              + "' is not File or FallbackToLogsOnError");
    }
    if (problems.size() > before) {
      return Optional.empty();
    }
    return Optional.of(
        new ContainerPlan(
            c.getName(),
            kind,
            config,
            image.rootfs(),
            readOnlyRoot,
            memoryLimit,
            restartPolicy,
            messagePolicy.equals("FallbackToLogsOnError"),
            startup,
            liveness,
            readiness,
            List.copyOf(argv)));
  }

  private static String seccompType(SecurityContext sc, PodSecurityContext pod) {
    if (sc.getSeccompProfile() != null) {
      return sc.getSeccompProfile().getType();
    }
    if (pod.getSeccompProfile() != null) {
      return pod.getSeccompProfile().getType();
    }
    return "Unconfined"; // the kubelet's default without the SeccompDefault feature
  }

  private static void capabilities(
      ObjectNode out, Capabilities caps, String where, List<String> problems) {
    Set<String> set = new LinkedHashSet<>(RuntimeDefaults.CAPABILITIES);
    if (caps != null) {
      for (String drop : caps.getDrop() == null ? List.<String>of() : caps.getDrop()) {
        if (drop.equals("ALL")) {
          set.clear();
        } else {
          set.remove(capability(drop));
        }
      }
      for (String add : caps.getAdd() == null ? List.<String>of() : caps.getAdd()) {
        if (add.equals("ALL")) {
          problems.add(
              where + ".securityContext.capabilities.add ALL is not supported by the test runner");
        } else if (!add.matches("(CAP_)?[A-Z_]+")) {
          problems.add(
              where + ".securityContext.capabilities.add '" + add + "' is not a capability");
        } else {
          set.add(capability(add));
        }
      }
    }
    // Like containerd: bounding, permitted and effective; the kernel clears the last two for a
    // non-root user at exec, as it would in a cluster.
    for (String field : List.of("bounding", "permitted", "effective")) {
      set.forEach(out.putArray(field)::add);
    }
  }

  private static String capability(String name) {
    return name.startsWith("CAP_") ? name : "CAP_" + name;
  }

  private static Optional<ProbePlan> probe(
      Probe p, String where, Map<String, Integer> ports, List<String> problems) {
    if (p == null) {
      return Optional.empty();
    }
    ProbePlan.Kind kind;
    IntOrString port;
    String path = "/";
    String service = "";
    if (p.getHttpGet() != null) {
      String scheme = orDefault(p.getHttpGet().getScheme(), "HTTP");
      kind = scheme.equals("HTTPS") ? ProbePlan.Kind.HTTPS : ProbePlan.Kind.HTTP;
      if (!Set.of("HTTP", "HTTPS").contains(scheme)) {
        problems.add(where + ".httpGet.scheme '" + scheme + "' is not HTTP or HTTPS");
      }
      port = p.getHttpGet().getPort();
      path = orDefault(p.getHttpGet().getPath(), "/");
    } else if (p.getTcpSocket() != null) {
      kind = ProbePlan.Kind.TCP;
      port = p.getTcpSocket().getPort();
    } else if (p.getGrpc() != null) {
      kind = ProbePlan.Kind.GRPC;
      port = new IntOrString(p.getGrpc().getPort());
      service = orDefault(p.getGrpc().getService(), "");
    } else {
      problems.add(where + " has no httpGet, tcpSocket or grpc action");
      return Optional.empty();
    }
    int number;
    if (port == null) {
      problems.add(where + " has no port");
      return Optional.empty();
    } else if (port.getIntVal() != null) {
      number = port.getIntVal();
    } else if (ports.containsKey(port.getStrVal())) {
      number = ports.get(port.getStrVal());
    } else {
      problems.add(
          where + ": port '" + port.getStrVal() + "' is not a named port of the container");
      return Optional.empty();
    }
    return Optional.of(
        new ProbePlan(
            kind,
            number,
            path,
            service,
            Duration.ofSeconds(orDefault(p.getInitialDelaySeconds(), 0)),
            Duration.ofSeconds(orDefault(p.getPeriodSeconds(), 10)),
            Duration.ofSeconds(orDefault(p.getTimeoutSeconds(), 1)),
            orDefault(p.getFailureThreshold(), 3),
            orDefault(p.getSuccessThreshold(), 1)));
  }

  private static String fieldRef(String path, Pod pod, PodIdentity identity) {
    if (!FIELD_REFS.contains(path)) {
      return null;
    }
    return switch (path) {
      case "metadata.name" -> identity.name();
      case "metadata.namespace" -> identity.namespace();
      case "metadata.uid" -> identity.uid();
      case "status.podIP" -> identity.ip();
      default -> orDefault(pod.getSpec().getServiceAccountName(), "default");
    };
  }

  private static void bind(ArrayNode mounts, String destination, String source, boolean readOnly) {
    RuntimeDefaults.mount(
        mounts, destination, source, "bind", List.of("rbind", "rprivate", readOnly ? "ro" : "rw"));
  }

  static long bytes(Quantity q) {
    return Quantity.getAmountInBytes(q).longValueExact();
  }

  static long millicores(Quantity q) {
    return Quantity.getAmountInBytes(q).movePointRight(3).longValue();
  }

  private static <T> T first(T a, T b) {
    return a != null ? a : b;
  }

  private static <T> T orDefault(T value, T otherwise) {
    return value == null ? otherwise : value;
  }
}
