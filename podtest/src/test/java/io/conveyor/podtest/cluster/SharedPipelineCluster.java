package io.conveyor.podtest.cluster;

import io.conveyor.podtest.run.RunSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives test methods a {@link PipelineCluster} parameter: one cluster for every scenario of the
 * test run, started by the first that asks and closed (everything of the run removed) when the run
 * ends, also after failures. Restarts back off from 1 s instead of the kubelet's 10 s, doubling as
 * the kubelet's do, to keep the restart scenario short.
 *
 * <p>The cluster starts before the class's tests, not while a parameter is resolved: a machine
 * without the images skips the scenarios (and one without root fails them) with the one line that
 * says why, which parameter resolution would wrap into an error of its own.
 */
public final class SharedPipelineCluster implements BeforeAllCallback, ParameterResolver {

  public static final RunSettings SETTINGS =
      RunSettings.kubeletDefaults().withRestartBackoff(Duration.ofSeconds(1));

  @Override
  public void beforeAll(ExtensionContext context) {
    store(context)
        .getOrComputeIfAbsent(PipelineCluster.class, key -> start(), PipelineCluster.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == PipelineCluster.class;
  }

  @Override
  public PipelineCluster resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return store(context).get(PipelineCluster.class, PipelineCluster.class);
  }

  private static ExtensionContext.Store store(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.create(SharedPipelineCluster.class));
  }

  private static PipelineCluster start() {
    try {
      return PipelineCluster.start(SETTINGS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
