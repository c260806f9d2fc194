package io.conveyor.examples.sink;

import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.examples.support.ExampleProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * The demo sink runnable ({@code conveyor-examples.jar sink}): serves SinkService on PORT and its
 * counts on {@code http://<host>:ADMIN_PORT/stats?sent=N}.
 */
public final class SinkApp {

  private SinkApp() {}

  public static ExampleProcess start(SinkConfig config, PrintStream out) {
    DemoSink sink = new DemoSink(config.sink());
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus(config.sink().name());
    FunctionCounter.builder("demo_sink_records_written_total", sink, DemoSink::writes)
        .register(meters);
    FunctionCounter.builder("demo_sink_batches_total", sink, DemoSink::batches).register(meters);
    SinkStatsHandler stats = new SinkStatsHandler(sink);
    ExampleProcess process =
        ExampleProcess.start(
            config.sink().name(),
            out,
            config.server(),
            meters,
            Map.of("/stats", stats, "/stats/reset", stats.resetHandler()),
            List.of(sink));
    out.println(
        process.servingLine()
            + "; counts on http://localhost:"
            + process.adminPort()
            + "/stats?sent=N");
    out.flush();
    return process;
  }
}
