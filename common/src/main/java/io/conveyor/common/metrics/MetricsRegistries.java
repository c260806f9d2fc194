package io.conveyor.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Creates the Prometheus registry of a Conveyor binary, with the JVM's own meters bound. */
public final class MetricsRegistries {

  private MetricsRegistries() {}

  /**
   * A registry whose meters all carry {@code app=<component>}, with JVM memory, threads, classes,
   * CPU and uptime bound.
   */
  public static PrometheusMeterRegistry prometheus(String component) {
    PrometheusMeterRegistry registry = withoutJvmMeters(component);
    bindJvmMeters(registry);
    return registry;
  }

  /** A registry whose meters all carry {@code app=<component>}, with no meter bound yet. */
  public static PrometheusMeterRegistry withoutJvmMeters(String component) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("app", component);
    return registry;
  }

  /** Binds the JVM's memory, threads, classes, CPU and uptime meters to {@code registry}. */
  public static void bindJvmMeters(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }
}
