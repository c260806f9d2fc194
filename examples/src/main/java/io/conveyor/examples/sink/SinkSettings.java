package io.conveyor.examples.sink;

import io.conveyor.common.config.EnvReader;
import io.conveyor.examples.support.Describes;
import io.conveyor.examples.support.FaultSettings;
import io.conveyor.examples.transform.DemoTransform;

/**
 * What the demo sink does.
 *
 * @param name Describe name ({@code NAME}, {@code demo-sink})
 * @param maxBatchSize largest batch accepted, announced in Describe ({@code MAX_BATCH_SIZE}, 1000)
 * @param filterPeriod the transform's {@code FILTER_PERIOD}, needed to count lost records; /stats
 *     may override it per query ({@code FILTER_PERIOD}, 10)
 * @param faults injected failures and delay
 */
public record SinkSettings(String name, int maxBatchSize, int filterPeriod, FaultSettings faults) {

  public SinkSettings {
    if (maxBatchSize < 1 || filterPeriod < 0) {
      throw new IllegalArgumentException(
          "maxBatchSize must be positive and filterPeriod not negative");
    }
  }

  public static SinkSettings defaults() {
    return new SinkSettings(
        DemoSink.DEFAULT_NAME, 1000, DemoTransform.DEFAULT_FILTER_PERIOD, FaultSettings.NONE);
  }

  public static SinkSettings read(EnvReader reader) {
    return new SinkSettings(
        Describes.name(reader, DemoSink.DEFAULT_NAME),
        reader.integer("MAX_BATCH_SIZE", 1000, 1, 1_000_000),
        reader.integer("FILTER_PERIOD", DemoTransform.DEFAULT_FILTER_PERIOD, 0, Integer.MAX_VALUE),
        FaultSettings.read(reader));
  }

  public SinkSettings withFaults(FaultSettings value) {
    return new SinkSettings(name, maxBatchSize, filterPeriod, value);
  }

  public SinkSettings withFilterPeriod(int value) {
    return new SinkSettings(name, maxBatchSize, value, faults);
  }
}
