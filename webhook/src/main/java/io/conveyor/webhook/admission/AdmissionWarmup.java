package io.conveyor.webhook.admission;

import io.conveyor.webhook.mutation.NamespaceInjection;
import io.conveyor.webhook.mutation.PodMutator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Runs the admission path on a synthetic pod before the webhook reports ready. A cold JVM answers
 * its first reviews in hundreds of milliseconds (class loading, interpreted code); with the API
 * server sending pods at once, that backlog is where timeouts — and, with failurePolicy Fail,
 * refused pods — would come from. Nothing is counted in the real metrics.
 */
public final class AdmissionWarmup {

  private AdmissionWarmup() {}

  /** Runs up to {@code iterations} reviews or for at most {@code budget}, whichever ends first. */
  public static int run(
      AdmissionReviewCodec codec, PodMutator mutator, int iterations, Duration budget) {
    PodAdmissionHandler handler =
        new PodAdmissionHandler(codec, mutator, new AdmissionMetrics(new SimpleMeterRegistry()));
    long deadline = System.nanoTime() + budget.toNanos();
    int done = 0;
    try {
      while (done < iterations && System.nanoTime() < deadline) {
        byte[] body = review(done).getBytes(StandardCharsets.UTF_8);
        codec.write(
            handler
                .handle(
                    codec.parse(body),
                    done % 2 == 0 ? NamespaceInjection.ENABLED : NamespaceInjection.UNSET)
                .response());
        done++;
      }
    } catch (BadAdmissionRequestException e) {
      throw new IllegalStateException("the warm-up review is invalid: " + e.getMessage(), e);
    }
    return done;
  }

  private static String review(int n) {
    return """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
          "uid":"warmup-%d","kind":{"group":"","version":"v1","kind":"Pod"},
          "resource":{"group":"","version":"v1","resource":"pods"},
          "namespace":"warmup","operation":"CREATE","dryRun":true,
          "object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"warmup-",
            "labels":{"app":"warmup"},"annotations":{"conveyor.etl/inject":"%s"}},
            "spec":{"containers":[{"name":"app","image":"example.org/app:1","ports":[{"containerPort":8080}],
              "resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}}}
        """
        .formatted(n, n % 5 == 4 ? "false" : "true");
  }
}
