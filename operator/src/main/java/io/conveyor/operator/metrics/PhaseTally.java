package io.conveyor.operator.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The phase each object was last given, counted per phase for a gauge ({@code
 * conveyor_operator_sidecars{phase="Ready"}} and the like). Every phase has a gauge from the start,
 * so a phase that empties reads 0 rather than disappearing.
 */
public final class PhaseTally<E extends Enum<E>> {

  private final Map<String, E> phases = new ConcurrentHashMap<>();

  public PhaseTally(MeterRegistry registry, String name, String description, Class<E> type) {
    for (E phase : type.getEnumConstants()) {
      Gauge.builder(name, this, t -> t.count(phase))
          .description(description)
          .tag("phase", phase.name())
          .register(registry);
    }
  }

  public void set(String key, E phase) {
    phases.put(key, phase);
  }

  public void remove(String key) {
    phases.remove(key);
  }

  /** Forgets everything: a replica that stops leading no longer knows any phase. */
  public void clear() {
    phases.clear();
  }

  public long count(E phase) {
    return phases.values().stream().filter(p -> p == phase).count();
  }
}
