package io.conveyor.examples.transform;

import io.conveyor.common.metrics.MetricsRegistries;
import io.conveyor.examples.support.ExampleProcess;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * The demo transform runnable ({@code conveyor-examples.jar transform}): serves TransformService on
 * PORT.
 */
public final class TransformApp {

  private TransformApp() {}

  public static ExampleProcess start(TransformConfig config, PrintStream out) {
    DemoTransform transform = new DemoTransform(config.transform());
    PrometheusMeterRegistry meters = MetricsRegistries.prometheus(config.transform().name());
    FunctionCounter.builder("demo_transform_records_total", transform, DemoTransform::records)
        .register(meters);
    FunctionCounter.builder("demo_transform_filtered_total", transform, DemoTransform::filtered)
        .register(meters);
    FunctionCounter.builder("demo_transform_batches_total", transform, DemoTransform::batches)
        .register(meters);
    ExampleProcess process =
        ExampleProcess.start(
            config.transform().name(), out, config.server(), meters, Map.of(), List.of(transform));
    out.println(process.servingLine());
    out.flush();
    return process;
  }
}
