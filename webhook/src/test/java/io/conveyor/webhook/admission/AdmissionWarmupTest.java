package io.conveyor.webhook.admission;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.webhook.mutation.PodMutator;
import io.conveyor.webhook.testing.Fixtures;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class AdmissionWarmupTest {

  @AfterEach
  void clearMdc() {
    MDC.clear();
  }

  @Test
  void theWarmUpLeavesNoReviewsResourceOnItsThreadsLogLines() {
    int reviews =
        AdmissionWarmup.run(
            new AdmissionReviewCodec(new KubernetesSerialization()),
            new PodMutator(Fixtures.config(Map.of()).sidecar()),
            3,
            Duration.ofMinutes(1));

    // The thread goes on to log "warmed up ...": no pod of the warm-up may be named on that line.
    assertThat(reviews).isEqualTo(3);
    assertThat(MDC.get("resource")).isNull();
  }
}
