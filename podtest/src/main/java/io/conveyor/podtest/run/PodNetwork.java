package io.conveyor.podtest.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pods as network namespaces on a test bridge: a /24 inside 198.18.0.0/15 (the benchmarking range,
 * never routed), the bridge holding .1 (where the host side, e.g. the router, listens) and each pod
 * a namespace with its own loopback and a veth with the next address. Every name starts with the
 * run's prefix, so a killed run's leftovers are found and removed.
 */
public final class PodNetwork implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PodNetwork.class);

  private final String prefix;
  private final String bridge;

  /** The last host number of the /24, never given to a pod: {@link #unheldAddress()}. */
  private static final int UNHELD_HOST = 254;

  private final String subnet; // "198.18.x" or "198.19.x"
  private final List<String> namespaces = new ArrayList<>();
  private int nextHost = 2;

  private PodNetwork(String prefix, String subnet) {
    this.prefix = prefix;
    this.bridge = prefix + "b";
    this.subnet = subnet;
  }

  /** Creates the bridge on a /24 of 198.18.0.0/15 that no interface of this host uses yet. */
  public static PodNetwork create(String prefix, Random random) {
    String addresses = Commands.run("ip", "-o", "-4", "addr", "show");
    String subnet = null;
    for (int attempt = 0; attempt < 64 && subnet == null; attempt++) {
      int n = random.nextInt(512);
      String candidate = "198." + (18 + n / 256) + "." + (n % 256);
      if (!addresses.contains(" " + candidate + ".")) {
        subnet = candidate;
      }
    }
    if (subnet == null) {
      throw new IllegalStateException("no free /24 in 198.18.0.0/15 after 64 draws");
    }
    PodNetwork network = new PodNetwork(prefix, subnet);
    try {
      Commands.run("ip", "link", "add", network.bridge, "type", "bridge");
      Commands.run("ip", "addr", "add", network.hostAddress() + "/24", "dev", network.bridge);
      Commands.run("ip", "link", "set", network.bridge, "up");
    } catch (RuntimeException e) {
      network.close();
      throw e;
    }
    log.info("pod network {} on bridge {} ({}.0/24)", prefix, network.bridge, subnet);
    return network;
  }

  /** The bridge's address: the host side, reachable from every pod. */
  public String hostAddress() {
    return subnet + ".1";
  }

  /**
   * An address on the pod network that no pod and no host interface ever holds: a packet sent to it
   * vanishes (the sender's ARP finds no one), as with a cluster DNS that does not answer.
   */
  public String unheldAddress() {
    return subnet + "." + UNHELD_HOST;
  }

  public String bridge() {
    return bridge;
  }

  /** A new namespace for {@code pod} with loopback up and a pod IP on the bridge. */
  public synchronized Attachment attach(String pod) {
    int host = nextHost++;
    if (host >= UNHELD_HOST) {
      throw new IllegalStateException("the pod network " + subnet + ".0/24 is full");
    }
    String netns = prefix + "-" + pod;
    String hostSide = prefix + "h" + host;
    String podSide = prefix + "p" + host;
    String ip = subnet + "." + host;
    Commands.run("ip", "netns", "add", netns);
    namespaces.add(netns);
    Commands.run("ip", "link", "add", hostSide, "type", "veth", "peer", "name", podSide);
    Commands.run("ip", "link", "set", hostSide, "master", bridge, "up");
    Commands.run("ip", "link", "set", podSide, "netns", netns);
    Commands.run("ip", "-n", netns, "link", "set", podSide, "name", "eth0");
    Commands.run("ip", "-n", netns, "addr", "add", ip + "/24", "dev", "eth0");
    Commands.run("ip", "-n", netns, "link", "set", "eth0", "up");
    Commands.run("ip", "-n", netns, "link", "set", "lo", "up");
    Commands.run("ip", "-n", netns, "route", "add", "default", "via", hostAddress());
    log.info("pod {} in netns {} at {}", pod, netns, ip);
    return new Attachment(netns, Path.of("/var/run/netns", netns), ip);
  }

  /** Removes {@code pod}'s namespace, and with it both ends of its veth. */
  public synchronized void detach(String pod) {
    String netns = prefix + "-" + pod;
    if (namespaces.remove(netns)) {
      Commands.run("ip", "netns", "del", netns);
    }
  }

  /** Deleting a namespace deletes its veth end, and with it the host end. */
  @Override
  public synchronized void close() {
    for (String netns : namespaces) {
      Commands.Result r =
          Commands.attempt(List.of("ip", "netns", "del", netns), Commands.DEFAULT_TIMEOUT);
      if (r.exit() != 0) {
        log.warn("ip netns del {}: {}", netns, r.output().strip());
      }
    }
    namespaces.clear();
    Commands.attempt(List.of("ip", "link", "del", bridge), Commands.DEFAULT_TIMEOUT);
  }

  /** A pod's place on the network. */
  public record Attachment(String netnsName, Path netns, String ip) {}
}
