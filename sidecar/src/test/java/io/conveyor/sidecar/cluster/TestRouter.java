package io.conveyor.sidecar.cluster;

import io.conveyor.router.core.RouterCore;
import io.conveyor.router.core.RouterSettings;
import io.conveyor.router.grpc.RouterServer;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Collection;

/** The real router — RouterCore behind RouterServer — on a real loopback port. */
final class TestRouter implements AutoCloseable {

  final RouterCore core;
  final ShiftableClock clock = new ShiftableClock();
  private final RouterServer server;
  private boolean closed;

  private TestRouter(int port, Collection<PipelineDefinition> pipelines) {
    this.core = new RouterCore(clock, RouterSettings.defaults());
    core.replacePipelines(pipelines);
    this.server =
        RouterServer.start(
            NettyServerBuilder.forAddress(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port)),
            core,
            new SimpleMeterRegistry());
  }

  static TestRouter start(int port, Collection<PipelineDefinition> pipelines) {
    return new TestRouter(port, pipelines);
  }

  /** Stops at once, as a crashed or rescheduled router does; idempotent. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      server.close();
    }
  }

  /** The system clock, moved forward on demand (to make the router expire silent sidecars). */
  static final class ShiftableClock extends Clock {
    private volatile Duration shift = Duration.ZERO;

    void shift(Duration by) {
      shift = shift.plus(by);
    }

    @Override
    public Instant instant() {
      return Instant.now().plus(shift);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }
}
