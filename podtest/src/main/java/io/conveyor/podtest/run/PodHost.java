package io.conveyor.podtest.run;

import io.conveyor.podtest.image.DockerArchive;
import io.conveyor.podtest.spec.ImageConfig;
import io.conveyor.podtest.spec.KubernetesService;
import io.conveyor.podtest.spec.PodIdentity;
import io.conveyor.podtest.spec.PodLayout;
import io.conveyor.podtest.spec.PodPlan;
import io.conveyor.podtest.spec.PodTranslator;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test's node: a run prefix, a pod network on its own bridge, unpacked images and the pods
 * running on them. {@link #close()} removes everything the run made (containers, namespaces, links,
 * cgroups, mounts, files); a shutdown hook does the same if a test never gets to it, and the next
 * start removes what a killed run left.
 */
public final class PodHost implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PodHost.class);

  private final RunSettings settings;
  private final String prefix;
  private final Path workDir;
  private final PodNetwork network;
  private final Random random;
  private final Clock clock = Clock.systemUTC();
  private final Map<String, ImageConfig> images = new LinkedHashMap<>();
  private int unpacked;
  private final List<RunningPod> pods = new ArrayList<>();
  private Optional<KubernetesService> apiServer = Optional.empty();
  private String clusterDns = PodTranslator.DEFAULT_CLUSTER_DNS;
  private final Thread shutdownHook;
  private boolean closed;

  private PodHost(RunSettings settings, String prefix, PodNetwork network, Random random) {
    this.settings = settings;
    this.prefix = prefix;
    this.workDir = settings.workRoot().resolve(prefix);
    this.network = network;
    this.random = random;
    this.shutdownHook = new Thread(this::close, "podhost-" + prefix + "-shutdown");
  }

  /** Removes stale runs' leftovers, then sets up this run's bridge. */
  public static PodHost start(RunSettings settings) throws IOException {
    Files.createDirectories(settings.workRoot());
    Leftovers.removeStale(settings.workRoot());
    Random random = new SecureRandom();
    String prefix = Leftovers.register(random);
    PodNetwork network;
    try {
      network = PodNetwork.create(prefix, random);
    } catch (RuntimeException e) {
      Leftovers.remove(prefix, settings.workRoot());
      throw e;
    }
    PodHost host = new PodHost(settings, prefix, network, random);
    Runtime.getRuntime().addShutdownHook(host.shutdownHook);
    log.info("pod host {} started", prefix);
    return host;
  }

  public String prefix() {
    return prefix;
  }

  /** The bridge address: where host-side services (the router) listen for pods. */
  public String hostAddress() {
    return network.hostAddress();
  }

  /**
   * Makes {@code host:port} the pods' API server: every container started from now on gets it in
   * the Kubernetes Service variables, as a kubelet gives the {@code kubernetes} Service.
   */
  public synchronized void apiServer(String host, int port) {
    apiServer = Optional.of(new KubernetesService(host, port));
  }

  /**
   * Makes {@code address} the nameserver of the resolv.conf of every pod started from now on, as a
   * kubelet's clusterDNS; until then it is {@link PodTranslator#DEFAULT_CLUSTER_DNS}. A setting of
   * the started host rather than of {@link RunSettings}: an address on the pod network, such as
   * {@link #unheldAddress()}, is known only once the host has drawn its subnet.
   */
  public synchronized void clusterDns(String address) {
    clusterDns = address;
  }

  /**
   * An address on the pod network that no pod and no interface holds: packets to it vanish (ARP
   * finds no one), as with a cluster DNS that never answers.
   */
  public String unheldAddress() {
    return network.unheldAddress();
  }

  /**
   * Unpacks a docker-save tarball once, under the name pod specs use for it. Images of different
   * names may be unpacked by concurrent calls, side by side (each into a folder of its own); pods
   * can use an image once its call returned.
   */
  public ImageConfig image(String name, Path tarball) throws IOException {
    Path rootfs;
    synchronized (this) {
      ImageConfig image = images.get(name);
      if (image != null) {
        return image;
      }
      rootfs = workDir.resolve("images").resolve(Integer.toString(unpacked++)).resolve("rootfs");
    }
    Files.createDirectories(rootfs.getParent());
    ImageConfig image = DockerArchive.unpack(tarball, rootfs);
    log.info("image {} unpacked from {}", name, tarball);
    synchronized (this) {
      // Two calls for one name at once unpack it twice; the first stored is used (the other
      // folder goes with the run's files).
      return images.computeIfAbsent(name, n -> image);
    }
  }

  /**
   * Translates {@code pod} (refusing what the runner does not honour), gives it a name and uid
   * (unless it has them), namespace and IP, and starts it; returns once init containers completed
   * and native sidecars started.
   */
  public RunningPod run(Pod pod, String namespace, Map<String, Map<String, String>> configMaps)
      throws IOException {
    String name = pod.getMetadata().getName();
    if (name == null) {
      name = pod.getMetadata().getGenerateName() + suffix();
    }
    // A pod the test already stored in an API server keeps that object's uid: whatever checks the
    // pod's token against the API server (the operator's TokenReview) compares them.
    String uid = pod.getMetadata().getUid();
    if (uid == null || uid.isBlank()) {
      uid = UUID.randomUUID().toString();
    }
    PodNetwork.Attachment attachment = network.attach(name);
    PodIdentity identity =
        new PodIdentity(name, namespace, uid, attachment.ip(), attachment.netns());
    PodLayout layout = new PodLayout(workDir.resolve("pods").resolve(name));
    String cgroupParent = prefix + "/" + name;
    PodPlan plan;
    synchronized (this) {
      plan =
          new PodTranslator(images, configMaps, apiServer, clusterDns)
              .translate(pod, identity, layout, cgroupParent);
    }
    RunningPod running = new RunningPod(plan, prefix + "-" + name, cgroupParent, settings, clock);
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("pod host " + prefix + " is closed");
      }
      pods.add(running);
    }
    running.start();
    return running;
  }

  /**
   * Stops {@code pod} as {@link RunningPod#close()} does and removes its network namespace: what a
   * node does when a pod is deleted. The rest of the run stays.
   */
  public void remove(RunningPod pod) {
    synchronized (this) {
      if (!pods.remove(pod)) {
        return;
      }
    }
    try {
      pod.close();
    } finally {
      network.detach(pod.name());
    }
  }

  private String suffix() {
    String alphabet = "bcdfghjklmnpqrstvwxz2456789"; // the API server's generateName alphabet
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      s.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return s.toString();
  }

  @Override
  public void close() {
    List<RunningPod> running;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      running = new ArrayList<>(pods);
    }
    for (int i = running.size() - 1; i >= 0; i--) {
      try {
        running.get(i).close();
      } catch (RuntimeException e) {
        log.warn("pod {} did not stop cleanly", running.get(i).name(), e);
      }
    }
    network.close();
    Leftovers.remove(prefix, settings.workRoot());
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: this is the hook
    }
    log.info("pod host {} removed", prefix);
  }
}
