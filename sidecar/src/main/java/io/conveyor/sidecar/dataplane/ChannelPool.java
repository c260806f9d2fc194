package io.conveyor.sidecar.dataplane;

import io.conveyor.common.grpc.GrpcServers;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Reusable channels by endpoint, for the pod's services and for other sidecars. One HTTP/2
 * connection per endpoint multiplexes every call to it. Bounded: past {@code maxChannels} the least
 * recently used channel is closed (gracefully: calls on it finish).
 */
public final class ChannelPool implements AutoCloseable {

  private final Function<String, ManagedChannel> factory;
  private final int maxChannels;
  private final Map<String, ManagedChannel> channels;
  private boolean closed;

  public ChannelPool(Function<String, ManagedChannel> factory, int maxChannels) {
    this.factory = factory;
    this.maxChannels = maxChannels;
    this.channels = new LinkedHashMap<>(16, 0.75f, true);
  }

  public synchronized ManagedChannel channel(String endpoint) {
    if (closed) {
      throw new IllegalStateException("channel pool is closed");
    }
    ManagedChannel channel = channels.get(endpoint);
    if (channel == null || channel.isShutdown()) {
      channel = factory.apply(endpoint);
      channels.put(endpoint, channel);
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

  @Override
  public void close() {
    Map<String, ManagedChannel> toClose;
    synchronized (this) {
      closed = true;
      toClose = Map.copyOf(channels);
      channels.clear();
    }
    toClose.values().forEach(c -> GrpcServers.shutdown(c, Duration.ofSeconds(1)));
  }
}
