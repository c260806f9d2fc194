package io.conveyor.examples.transform;

import io.conveyor.common.config.EnvReader;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.FaultSettings;

/**
 * What the demo transform does.
 *
 * @param name Describe name ({@code NAME}, {@code demo-transform})
 * @param maxBatchSize largest batch accepted, announced in Describe ({@code MAX_BATCH_SIZE}, 1000)
 * @param filterPeriod records with {@code sequence % filterPeriod == filterPeriod - 1} are
 *     FILTERED; 0 filters nothing ({@code FILTER_PERIOD}, 10)
 * @param faults injected failures and delay
 */
public record TransformSettings(
    String name, int maxBatchSize, int filterPeriod, FaultSettings faults) {

  public TransformSettings {
    if (maxBatchSize < 1 || filterPeriod < 0) {
      throw new IllegalArgumentException(
          "maxBatchSize must be positive and filterPeriod not negative");
    }
  }

  public static TransformSettings defaults() {
    return new TransformSettings(
        DemoTransform.DEFAULT_NAME, 1000, DemoTransform.DEFAULT_FILTER_PERIOD, FaultSettings.NONE);
  }

  public static TransformSettings read(EnvReader reader) {
    return new TransformSettings(
        Describes.name(reader, DemoTransform.DEFAULT_NAME),
        reader.integer("MAX_BATCH_SIZE", 1000, 1, 1_000_000),
        reader.integer("FILTER_PERIOD", DemoTransform.DEFAULT_FILTER_PERIOD, 0, Integer.MAX_VALUE),
        FaultSettings.read(reader));
  }

  public TransformSettings withFilterPeriod(int value) {
    return new TransformSettings(name, maxBatchSize, value, faults);
  }

  public TransformSettings withFaults(FaultSettings value) {
    return new TransformSettings(name, maxBatchSize, filterPeriod, value);
  }

  public TransformSettings withMaxBatchSize(int value) {
    return new TransformSettings(name, value, filterPeriod, faults);
  }
}
