package io.conveyor.sidecar.dataplane;

import io.conveyor.common.grpc.GrpcServers;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Reusable channels by endpoint, for the pod's services and for other sidecars. One HTTP/2
 * connection per endpoint multiplexes every call to it. Bounded: past {@code maxChannels} the least
 * recently used channel is closed (gracefully: calls on it finish).
 */
public final class ChannelPool implements AutoCloseable {

  private final Function<String, ManagedChannel> localFactory;
  private final BiFunction<String, String, ManagedChannel> peerFactory;
  private final int maxChannels;
  private final Map<Key, ManagedChannel> channels;
  private boolean closed;

  /** One factory for every channel: the pod's services and peers alike (no mutual TLS). */
  public ChannelPool(Function<String, ManagedChannel> factory, int maxChannels) {
    this(factory, (endpoint, identity) -> factory.apply(endpoint), maxChannels);
  }

  /**
   * @param localFactory makes the channel to one of the pod's own services (plaintext, loopback)
   * @param peerFactory makes the channel to another sidecar, whose server must prove the identity
   *     given (mutual TLS); it throws, and nothing is sent, where that is not possible
   */
  public ChannelPool(
      Function<String, ManagedChannel> localFactory,
      BiFunction<String, String, ManagedChannel> peerFactory,
      int maxChannels) {
    this.localFactory = localFactory;
    this.peerFactory = peerFactory;
    this.maxChannels = maxChannels;
    this.channels = new LinkedHashMap<>(16, 0.75f, true);
  }

  /** The channel to one of the pod's own services. */
  public ManagedChannel channel(String endpoint) {
    return channel(new Key(endpoint, false, ""));
  }

  /**
   * The channel to the sidecar at {@code endpoint}, which must prove {@code identity}. Keyed by
   * both: a new pod that reuses an old pod's address is another peer, with a connection of its own.
   */
  public ManagedChannel peerChannel(String endpoint, String identity) {
    return channel(new Key(endpoint, true, identity));
  }

  private synchronized ManagedChannel channel(Key key) {
    if (closed) {
      throw new IllegalStateException("channel pool is closed");
    }
    ManagedChannel channel = channels.get(key);
    if (channel == null || channel.isShutdown()) {
      channel =
          key.peer
              ? peerFactory.apply(key.endpoint, key.identity)
              : localFactory.apply(key.endpoint);
      channels.put(key, channel);
      if (channels.size() > maxChannels) {
        var eldest = channels.entrySet().iterator().next();
        channels.remove(eldest.getKey());
        eldest.getValue().shutdown();
      }
    }
    return channel;
  }

  public synchronized int size() {
    return channels.size();
  }

  private record Key(String endpoint, boolean peer, String identity) {}

  @Override
  public void close() {
    Map<Key, ManagedChannel> toClose;
    synchronized (this) {
      closed = true;
      toClose = Map.copyOf(channels);
      channels.clear();
    }
    toClose.values().forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
  }
}
