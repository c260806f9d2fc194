package io.conveyor.sidecar;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty resources every server and channel of the sidecar shares: one small event loop group
 * (epoll where available) instead of one per channel, which is most of what keeps the sidecar's
 * thread count and memory low.
 */
final class Transport implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  /** The shutdown's own timeout (1 s) and a margin for tasks still queued on the loops. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  /**
   * A fixed HTTP/2 flow-control window per stream and connection (grpc-java's default size).
   * Setting it turns off grpc-java's automatic window tuning, which sends a PING with every burst
   * of data to estimate the bandwidth-delay product: a frame out and an ack back per batch, about
   * 3% of a sidecar's CPU in a profile, to tune a window that is already larger than a batch on
   * loopback and in a pod network.
   */
  static final int FLOW_CONTROL_WINDOW = 1 << 20;

  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> serverChannel;
  private final Class<? extends io.grpc.netty.shaded.io.netty.channel.Channel> clientChannel;

  Transport(int threads) {
    DefaultThreadFactory threadFactory = new DefaultThreadFactory("sidecar-io", true);
    if (Epoll.isAvailable()) {
      group = new EpollEventLoopGroup(threads, threadFactory);
      serverChannel = EpollServerSocketChannel.class;
      clientChannel = EpollSocketChannel.class;
    } else {
      group = new NioEventLoopGroup(threads, threadFactory);
      serverChannel = NioServerSocketChannel.class;
      clientChannel = NioSocketChannel.class;
    }
  }

  NettyServerBuilder server(InetSocketAddress address) {
    return NettyServerBuilder.forAddress(address)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group)
        .channelType(serverChannel)
        .flowControlWindow(FLOW_CONTROL_WINDOW);
  }

  /**
   * A plaintext channel whose callbacks run on the I/O thread: every callback of the sidecar's
   * clients only starts the next asynchronous step, so a thread hop would cost more than it saves.
   */
  ManagedChannel channel(String endpoint, int maxInboundMessageBytes) {
    return channel(endpoint, maxInboundMessageBytes, Optional.empty());
  }

  /** As {@link #channel(String, int)}, over TLS with {@code tls} when given. */
  ManagedChannel channel(String endpoint, int maxInboundMessageBytes, Optional<SslContext> tls) {
    NettyChannelBuilder builder =
        NettyChannelBuilder.forTarget(endpoint).eventLoopGroup(group).channelType(clientChannel);
    if (tls.isPresent()) {
      builder.sslContext(tls.get());
    } else {
      builder.usePlaintext();
    }
    return builder
        .directExecutor()
        .flowControlWindow(FLOW_CONTROL_WINDOW)
        .disableRetry()
        .maxInboundMessageSize(maxInboundMessageBytes)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .idleTimeout(5, TimeUnit.MINUTES)
        .userAgent("conveyor-sidecar")
        .build();
  }

  /**
   * Stops the event loops, closing every channel and server still on them; waits (a few seconds at
   * most) until their threads are gone, so that a closed sidecar leaves no thread behind.
   */
  @Override
  public void close() {
    boolean terminated =
        group
            .shutdownGracefully(0, 1, TimeUnit.SECONDS)
            .awaitUninterruptibly(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (!terminated) {
      log.warn("the sidecar's I/O threads did not stop within {} s", CLOSE_WAIT.toSeconds());
    }
  }
}
