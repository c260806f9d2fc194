package io.conveyor.router.pipeline;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code spec.delivery} of a Pipeline. Every field is optional; {@link DeliveryOptions#resolve}
 * fills in the defaults. The bounds here are the ones the API server checks (from the generated
 * CRD) and the ones {@link PipelineValidator} checks for YAML files.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeliverySpec {

  /** Names of the options this version understands, for error messages. */
  public static final Set<String> KNOWN_OPTIONS =
      Set.of(
          "maxBatchSize",
          "maxRetries",
          "retryBackoffMillis",
          "batchTimeoutSeconds",
          "deadLetterSink");

  @Min(1)
  @Max(10_000)
  @JsonPropertyDescription(
      "Largest batch a stage is called with; larger ones are split. Default 500.")
  private Integer maxBatchSize;

  @Min(0)
  @Max(100)
  @JsonPropertyDescription("Retries per record per stage for retryable failures. Default 3.")
  private Integer maxRetries;

  @Min(1)
  @Max(60_000)
  @JsonPropertyDescription("First retry delay in milliseconds, doubled per attempt. Default 100.")
  private Long retryBackoffMillis;

  @Min(1)
  @Max(600)
  @JsonPropertyDescription(
      "Deadline, in seconds, for a batch to get through the rest of the pipeline. Default 30.")
  private Integer batchTimeoutSeconds;

  @Pattern(PipelineSpec.NAME_PATTERN)
  @Size(max = PipelineSpec.MAX_NAME_LENGTH)
  @JsonPropertyDescription(
      "Logical name of a sink service that receives records which failed after their retries.")
  private String deadLetterSink;

  @JsonIgnore private final Map<String, Object> unknownFields = new LinkedHashMap<>();

  public Integer getMaxBatchSize() {
    return maxBatchSize;
  }

  public void setMaxBatchSize(Integer maxBatchSize) {
    this.maxBatchSize = maxBatchSize;
  }

  public Integer getMaxRetries() {
    return maxRetries;
  }

  public void setMaxRetries(Integer maxRetries) {
    this.maxRetries = maxRetries;
  }

  public Long getRetryBackoffMillis() {
    return retryBackoffMillis;
  }

  public void setRetryBackoffMillis(Long retryBackoffMillis) {
    this.retryBackoffMillis = retryBackoffMillis;
  }

  public Integer getBatchTimeoutSeconds() {
    return batchTimeoutSeconds;
  }

  public void setBatchTimeoutSeconds(Integer batchTimeoutSeconds) {
    this.batchTimeoutSeconds = batchTimeoutSeconds;
  }

  public String getDeadLetterSink() {
    return deadLetterSink;
  }

  public void setDeadLetterSink(String deadLetterSink) {
    this.deadLetterSink = deadLetterSink;
  }

  @JsonAnySetter
  void putUnknownField(String name, Object value) {
    unknownFields.put(name, value);
  }

  /** Options present in the source document that this version does not know. */
  @JsonIgnore
  public Map<String, Object> unknownFields() {
    // In document order (Map.copyOf would not keep it): problem messages must be stable.
    return Collections.unmodifiableMap(new LinkedHashMap<>(unknownFields));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeliverySpec other
        && Objects.equals(maxBatchSize, other.maxBatchSize)
        && Objects.equals(maxRetries, other.maxRetries)
        && Objects.equals(retryBackoffMillis, other.retryBackoffMillis)
        && Objects.equals(batchTimeoutSeconds, other.batchTimeoutSeconds)
        && Objects.equals(deadLetterSink, other.deadLetterSink)
        && unknownFields.equals(other.unknownFields);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        maxBatchSize, maxRetries, retryBackoffMillis, batchTimeoutSeconds, deadLetterSink);
  }

  @Override
  public String toString() {
    return "DeliverySpec{maxBatchSize="
        + maxBatchSize
        + ", maxRetries="
        + maxRetries
        + ", retryBackoffMillis="
        + retryBackoffMillis
        + ", batchTimeoutSeconds="
        + batchTimeoutSeconds
        + ", deadLetterSink="
        + deadLetterSink
        + "}";
  }
}
