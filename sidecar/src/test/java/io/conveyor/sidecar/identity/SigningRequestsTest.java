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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SigningRequestsTest {

  private static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "default");
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** Makes requests with fake keys, recording on which thread each was made. */
  private static final class RecordingMaker implements Supplier<SigningRequest> {
    final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public SigningRequest get() {
      threads.add(Thread.currentThread().getName());
      return new SigningRequest(new KeyPair(null, null), new byte[] {(byte) threads.size()});
    }
  }

  @Test
  void theFirstRequestIsTheOneMadeAheadOnItsOwnThreadAndEachLaterOneIsNew() {
    RecordingMaker maker = new RecordingMaker();
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.prepareAhead();
    requests.prepareAhead(); // one is being made already: no second one
    SigningRequest first = requests.next(WAIT);
    SigningRequest second = requests.next(WAIT);

    assertThat(maker.threads)
        .containsExactly(SigningRequests.AHEAD_THREAD, Thread.currentThread().getName());
    assertThat(first.csr()).containsExactly(1);
    assertThat(second.csr()).containsExactly(2);
  }

  @Test
  void withoutPreparingEveryRequestIsMadeByTheCaller() {
    RecordingMaker maker = new RecordingMaker();
    SigningRequests requests = new SigningRequests(ME, maker);

    requests.next(WAIT);
    requests.next(WAIT);

    assertThat(maker.threads).containsOnly(Thread.currentThread().getName()).hasSize(2);
  }

  @Test
  void aRequestThatFailedAheadIsMadeAgainByTheCaller() {
    List<String> threads = new CopyOnWriteArrayList<>();
    SigningRequests requests =
        new SigningRequests(
            ME,
            () -> {
              threads.add(Thread.currentThread().getName());
              if (threads.size() == 1) {
                throw new IllegalStateException("no entropy");
              }
              return new SigningRequest(new KeyPair(null, null), new byte[] {7});
            });

    requests.prepareAhead();

    assertThat(requests.next(WAIT).csr()).containsExactly(7);
    assertThat(threads)
        .containsExactly(SigningRequests.AHEAD_THREAD, Thread.currentThread().getName());
  }

  @Test
  void aCallerDoesNotWaitLongerThanItsBoundForARequestStillBeingMadeAhead() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<String> threads = new CopyOnWriteArrayList<>();
    SigningRequests requests =
        new SigningRequests(
            ME,
            () -> {
              threads.add(Thread.currentThread().getName());
              if (Thread.currentThread().getName().equals(SigningRequests.AHEAD_THREAD)) {
                try {
                  release.await(30, TimeUnit.SECONDS); // stuck, as on a starved core
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return new SigningRequest(new KeyPair(null, null), new byte[] {1});
              }
              return new SigningRequest(new KeyPair(null, null), new byte[] {2});
            });

    requests.prepareAhead();
    SigningRequest request = requests.next(Duration.ofMillis(50));
    release.countDown();

    assertThat(request.csr()).containsExactly(2);
    // The stuck one is not handed out later either: a key is used once or not at all.
    assertThat(requests.next(WAIT).csr()).containsExactly(2);
  }

  @Test
  void aRealRequestIsACsrForTheIdentitySignedWithItsOwnNewKey() throws Exception {
    SigningRequests requests = new SigningRequests(ME, new SecureRandom());
    requests.prepareAhead();

    SigningRequest first = requests.next(WAIT);
    SigningRequest second = requests.next(WAIT);

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
