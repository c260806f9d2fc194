package io.conveyor.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.conveyor.operator.ConveyorOperator;
import io.conveyor.operator.testing.OperatorHarness;
import io.conveyor.operator.testing.TestOperators;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A leader that finds the Lease held by someone else stops serving at once, campaigns again, and
 * leads again in a fresh term once the Lease is free.
 */
class LeaseLossTest {

  @RegisterExtension final OperatorHarness harness = new OperatorHarness();

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @Test
  void aLeaderThatLosesTheLeaseStopsServingAndLeadsAgainInANewTerm() {
    ConveyorOperator operator =
        harness.start("replica-a", Duration.ZERO, Clock.systemUTC(), meters);
    await().atMost(OperatorHarness.LEADERSHIP_TIMEOUT).until(operator::serving);
    var firstCore = operator.routerCore().orElseThrow();

    // Someone else takes the Lease (as after a network partition outlasting the renew deadline).
    harness
        .client()
        .leases()
        .inNamespace(TestOperators.LEASE_NAMESPACE)
        .withName(TestOperators.LEASE_NAME)
        .edit(
            lease -> {
              lease.getSpec().setHolderIdentity("intruder");
              lease.getSpec().setRenewTime(ZonedDateTime.now());
              return lease;
            });

    // Noticed at the next renewal (every 400 ms): 4 s leaves a slow machine room and still ends
    // before the intruder's 5 s Lease expires and the replica may lead again.
    await().atMost(Duration.ofSeconds(4)).until(() -> !operator.serving());
    assertThat(operator.readiness().ok()).isFalse();

    // The intruder never renews: once its Lease expires the replica leads again, from scratch.
    await().atMost(Duration.ofSeconds(15)).until(operator::serving);
    assertThat(harness.lease().getSpec().getHolderIdentity()).isEqualTo("replica-a");
    assertThat(operator.routerCore().orElseThrow()).isNotSameAs(firstCore);
    assertThat(meters.get("conveyor.operator.leader.terms").counter().count()).isEqualTo(2.0);
    assertThat(meters.get("conveyor.operator.leader").gauge().value()).isEqualTo(1.0);
  }
}
