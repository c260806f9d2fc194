package io.conveyor.webhook.mutation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The value of the {@code conveyor.etl/status} annotation: what the injector added, in the spirit
 * of Istio's {@code sidecar.istio.io/status}. Field order is fixed, so the annotation is stable.
 *
 * @param volumes the pod volumes the injection added; empty in an annotation written before it
 *     recorded them
 */
public record InjectionStatus(
    String version, String container, String mode, String image, List<String> volumes) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public InjectionStatus {
    volumes = volumes == null ? List.of() : List.copyOf(volumes);
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static InjectionStatus fromJson(String json) {
    try {
      return JSON.readValue(json, InjectionStatus.class);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
