package io.conveyor.sidecar.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.CsrValidator;
import io.conveyor.identity.WorkloadIdentity;
import io.conveyor.sidecar.identity.SigningRequests.SigningRequest;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SigningRequestsTest {

  private static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "default");
  private static final Duration WAIT = Duration.ofSeconds(10);

  /**
   * Makes requests with fake keys, each CSR one byte: its number. Records on which thread each was
   * made; making the first one runs {@code first} before it, to fail or stall it.
   */
  private static final class RecordingMaker implements Supplier<SigningRequest> {
    final List<String> threads = new CopyOnWriteArrayList<>();
    private final Runnable first;

    RecordingMaker() {
      this(() -> {});
    }

    RecordingMaker(Runnable first) {
      this.first = first;
    }

    @Override
    public SigningRequest get() {
      String thread = Thread.currentThread().getName();
      byte number;
      synchronized (threads) {
        threads.add(thread);
        number = (byte) threads.size();
      }
      if (number == 1) {
        first.run();
      }
      return new SigningRequest(new KeyPair(null, null), new byte[] {number});
    }
  }

  @Test
  void theFirstRequestIsTheOneMadeAheadOnItsOwnThreadAndEachLaterOneIsNew() throws Exception {
    RecordingMaker maker = new RecordingMaker();
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.prepareAhead();
    requests.prepareAhead(); // one is being made already: no second one
    SigningRequest first = requests.next(WAIT).get(10, TimeUnit.SECONDS);
    SigningRequest second = requests.next(WAIT).get(10, TimeUnit.SECONDS);

    assertThat(maker.threads)
        .containsExactly(SigningRequests.AHEAD_THREAD, Thread.currentThread().getName());
    assertThat(first.csr()).containsExactly(1);
    assertThat(second.csr()).containsExactly(2);
  }

  @Test
  void withoutPreparingEveryRequestIsMadeByTheCaller() {
    RecordingMaker maker = new RecordingMaker();
    SigningRequests requests = new SigningRequests(ME, maker);

    assertThat(requests.next(WAIT)).isCompleted();
    assertThat(requests.next(WAIT)).isCompleted();

    assertThat(maker.threads).containsOnly(Thread.currentThread().getName()).hasSize(2);
  }

  @Test
  void aRequestThatFailedAheadIsMadeAgain() throws Exception {
    RecordingMaker maker =
        new RecordingMaker(
            () -> {
              throw new IllegalStateException("no entropy");
            });
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.prepareAhead();

    assertThat(requests.next(WAIT).get(10, TimeUnit.SECONDS).csr()).containsExactly(2);
    assertThat(maker.threads).hasSize(2).first().isEqualTo(SigningRequests.AHEAD_THREAD);
  }

  @Test
  void theCallerIsNotHeldWhileTheRequestIsMadeAheadAndGetsThatOne() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RecordingMaker maker = new RecordingMaker(() -> awaitQuietly(release));
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.prepareAhead();
    CompletableFuture<SigningRequest> next = requests.next(WAIT);
    assertThat(next).isNotDone();
    release.countDown();

    assertThat(next.get(10, TimeUnit.SECONDS).csr()).containsExactly(1);
    assertThat(maker.threads).containsExactly(SigningRequests.AHEAD_THREAD);
  }

  @Test
  void aRequestStuckAheadPastTheBoundIsMadeAgainAndNeverHandedOut() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RecordingMaker maker = new RecordingMaker(() -> awaitQuietly(release)); // a starved core
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.prepareAhead();
    long started = System.nanoTime();
    SigningRequest request = requests.next(Duration.ofMillis(50)).get(10, TimeUnit.SECONDS);
    Duration waited = Duration.ofNanos(System.nanoTime() - started);
    release.countDown();

    assertThat(request.csr()).containsExactly(2); // made again, not the stuck one
    assertThat(waited).isLessThan(Duration.ofSeconds(5)); // the bound, not the stuck thread
    // The stuck one is not handed out later either: a key is used once or not at all.
    assertThat(requests.next(WAIT).get(10, TimeUnit.SECONDS).csr()).containsExactly(3);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aRealRequestIsACsrForTheIdentitySignedWithItsOwnNewKey() throws Exception {
    SigningRequests requests = new SigningRequests(ME, new SecureRandom());
    requests.prepareAhead();

    SigningRequest first = requests.next(WAIT).get(10, TimeUnit.SECONDS);
    SigningRequest second = requests.next(WAIT).get(10, TimeUnit.SECONDS);

    CsrValidator validator = new CsrValidator();
    assertThat(validator.validate(first.csr(), ME).publicKey())
        .isEqualTo(first.keyPair().getPublic());
    assertThat(validator.validate(second.csr(), ME).publicKey())
        .isEqualTo(second.keyPair().getPublic());
    assertThat(second.keyPair().getPublic()).isNotEqualTo(first.keyPair().getPublic());
    assertThatThrownBy(
            () -> validator.validate(first.csr(), WorkloadIdentity.of("shop", "x", "default")))
        .isInstanceOf(Exception.class);
  }
}
