package io.conveyor.common.security;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class DeniedCallsTest {

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final AtomicLong now = new AtomicLong();
  private final DeniedCalls denials = new DeniedCalls(meters, "conveyor_test", now::get);
  private final Logger logger = (Logger) LoggerFactory.getLogger(DeniedCalls.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void capture() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logs);
  }

  @Test
  void eachDenialIsCountedByMethodAndCodeAndLoggedOnceWithWhoAndWhy() {
    denials.record("Heartbeat", "PERMISSION_DENIED", "spiffe://x/ns/a/pod/b/sa/c", "not yours");
    denials.record("Heartbeat", "UNAUTHENTICATED", "an unauthenticated caller", "no certificate");

    assertThat(denials.counter("Heartbeat", "PERMISSION_DENIED").count()).isEqualTo(1.0);
    assertThat(denials.counter("Heartbeat", "UNAUTHENTICATED").count()).isEqualTo(1.0);
    assertThat(logs.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly(
            "denied Heartbeat to spiffe://x/ns/a/pod/b/sa/c (PERMISSION_DENIED): not yours",
            "denied Heartbeat to an unauthenticated caller (UNAUTHENTICATED): no certificate");
  }

  @Test
  void aFloodIsCountedInFullButLoggedAtTenLinesASecondWithTheRestSummed() {
    for (int i = 0; i < 25; i++) {
      denials.record("ForwardBatch", "PERMISSION_DENIED", "rogue", "not upstream");
    }
    now.addAndGet(1_000_000_000L);
    denials.record("ForwardBatch", "PERMISSION_DENIED", "rogue", "not upstream");

    assertThat(denials.counter("ForwardBatch", "PERMISSION_DENIED").count()).isEqualTo(26.0);
    assertThat(logs.list).hasSize(DeniedCalls.MAX_LINES_PER_SECOND + 1);
    assertThat(logs.list.get(DeniedCalls.MAX_LINES_PER_SECOND).getFormattedMessage())
        .endsWith("[15 more denials not logged]");
  }
}
