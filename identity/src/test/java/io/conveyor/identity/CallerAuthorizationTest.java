package io.conveyor.identity;

import static io.conveyor.identity.AuthorizationDecision.Code.PERMISSION_DENIED;
import static io.conveyor.identity.AuthorizationDecision.Code.UNAUTHENTICATED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.conveyor.identity.AuthorizationDecision.Code;
import io.conveyor.identity.AuthorizationDecision.Denied;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CallerAuthorizationTest {

  static final WorkloadIdentity ME = WorkloadIdentity.of("shop", "orders-0", "orders");
  static final WorkloadIdentity SAME_POD_OTHER_SA =
      WorkloadIdentity.of("shop", "orders-0", "admin");
  static final WorkloadIdentity OTHER_POD = WorkloadIdentity.of("shop", "orders-1", "orders");
  static final WorkloadIdentity OTHER_NAMESPACE = WorkloadIdentity.of("bank", "orders-0", "orders");
  static final WorkloadIdentity OTHER_TRUST_DOMAIN =
      new WorkloadIdentity("evil.example", "shop", "orders-0", "orders");
  // Sidecars the router placed upstream; no denial may name them.
  static final WorkloadIdentity UPSTREAM_A = WorkloadIdentity.of("shop", "ingest-a7", "ingest");
  static final WorkloadIdentity UPSTREAM_B = WorkloadIdentity.of("shop", "enrich-b3", "enrich");
  static final Set<WorkloadIdentity> PLACED = Set.of(UPSTREAM_A, UPSTREAM_B);

  private final CallerAuthorization authorization = new CallerAuthorization("conveyor.etl");

  static Stream<Arguments> coordinatorCalls() {
    return Stream.of(
        row(Optional.of(ME), "shop", "orders-0", null, null),
        // the service account is not part of the claim; the pod's is whatever it runs as
        row(Optional.of(SAME_POD_OTHER_SA), "shop", "orders-0", null, null),
        row(Optional.empty(), "shop", "orders-0", UNAUTHENTICATED, "client certificate"),
        row(
            Optional.of(OTHER_POD),
            "shop",
            "orders-0",
            PERMISSION_DENIED,
            "the call claims pod shop/orders-0 but the client certificate names shop/orders-1"),
        row(
            Optional.of(OTHER_NAMESPACE),
            "shop",
            "orders-0",
            PERMISSION_DENIED,
            "certificate names bank/orders-0"),
        row(Optional.of(ME), "bank", "orders-0", PERMISSION_DENIED, "claims pod bank/orders-0"),
        row(Optional.of(ME), "shop", "", PERMISSION_DENIED, "claims pod shop/ but"),
        row(
            Optional.of(OTHER_TRUST_DOMAIN),
            "shop",
            "orders-0",
            PERMISSION_DENIED,
            "trust domain evil.example, not conveyor.etl"));
  }

  @ParameterizedTest
  @MethodSource("coordinatorCalls")
  void coordinatorCallsOnlyForThePodTheCertificateNames(
      Optional<WorkloadIdentity> caller,
      String namespace,
      String pod,
      Code denial,
      String messagePart) {
    assertDecision(
        authorization.coordinatorCall(caller, namespace, pod), caller, denial, messagePart);
  }

  // The owner of the sidecar id is UPSTREAM_A's pod; no refusal may name it.
  static Stream<Arguments> ownSidecarCalls() {
    return Stream.of(
        row(Optional.of(UPSTREAM_A), null, null),
        row(Optional.empty(), UNAUTHENTICATED, "client certificate"),
        row(
            Optional.of(OTHER_POD),
            PERMISSION_DENIED,
            "the sidecar this call names was not registered by pod shop/orders-1"),
        row(
            Optional.of(WorkloadIdentity.of("bank", "ingest-a7", "ingest")),
            PERMISSION_DENIED,
            "not registered by pod bank/ingest-a7"),
        row(
            Optional.of(new WorkloadIdentity("evil.example", "shop", "ingest-a7", "ingest")),
            PERMISSION_DENIED,
            "trust domain evil.example"));
  }

  @ParameterizedTest
  @MethodSource("ownSidecarCalls")
  void sidecarCallsOnlyFromThePodThatRegisteredTheSidecar(
      Optional<WorkloadIdentity> caller, Code denial, String messagePart) {
    assertDecision(
        authorization.ownSidecar(caller, "sc-1", UPSTREAM_A.namespace(), UPSTREAM_A.podName()),
        caller,
        denial,
        messagePart);
  }

  static Stream<Arguments> forwardBatches() {
    return Stream.of(
        row(Optional.of(UPSTREAM_A), PLACED, null, null),
        row(Optional.of(UPSTREAM_B), PLACED, null, null),
        row(Optional.empty(), PLACED, UNAUTHENTICATED, "client certificate"),
        row(
            Optional.of(OTHER_POD),
            PLACED,
            PERMISSION_DENIED,
            OTHER_POD.toUri() + " is not placed upstream of this stage"),
        // same pod name, other namespace or service account: another identity
        row(
            Optional.of(WorkloadIdentity.of("bank", "ingest-a7", "ingest")),
            PLACED,
            PERMISSION_DENIED,
            "not placed upstream"),
        row(
            Optional.of(WorkloadIdentity.of("shop", "ingest-a7", "default")),
            PLACED,
            PERMISSION_DENIED,
            "not placed upstream"),
        row(
            Optional.of(new WorkloadIdentity("evil.example", "shop", "ingest-a7", "ingest")),
            PLACED,
            PERMISSION_DENIED,
            "trust domain evil.example"),
        // no assignment yet: nobody is upstream
        row(Optional.of(UPSTREAM_A), Set.of(), PERMISSION_DENIED, "not placed upstream"));
  }

  @ParameterizedTest
  @MethodSource("forwardBatches")
  void forwardBatchOnlyFromSidecarsPlacedUpstream(
      Optional<WorkloadIdentity> caller,
      Set<WorkloadIdentity> placed,
      Code denial,
      String messagePart) {
    assertDecision(authorization.forwardBatch(caller, placed), caller, denial, messagePart);
  }

  static Stream<Arguments> pushPeers() throws Exception {
    return Stream.of(
        row(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40000), true),
        row(new InetSocketAddress(InetAddress.getByName("127.8.9.10"), 40000), true),
        row(new InetSocketAddress(InetAddress.getByName("::1"), 40000), true),
        row(new InetSocketAddress(InetAddress.getByName("::ffff:127.0.0.1"), 40000), true),
        row(new InetSocketAddress(InetAddress.getByName("10.0.0.7"), 40000), false),
        row(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 40000), false),
        row(new InetSocketAddress(InetAddress.getByName("fe80::1"), 40000), false),
        row(InetSocketAddress.createUnresolved("localhost", 40000), false),
        row(new SocketAddress() {}, false));
  }

  @ParameterizedTest
  @MethodSource("pushPeers")
  void pushRecordsOnlyOverLoopback(SocketAddress peer, boolean allowed) {
    AuthorizationDecision decision =
        authorization.pushRecords(CallerAuthorization.isLoopback(peer));

    if (allowed) {
      assertDecision(decision, Optional.empty(), null, null);
    } else {
      assertDecision(
          decision,
          Optional.empty(),
          PERMISSION_DENIED,
          "only to the pod's own processes, over loopback");
    }
  }

  @org.junit.jupiter.api.Test
  void refusesABadTrustDomainAtConstruction() {
    assertThatThrownBy(() -> new CallerAuthorization("Conveyor ETL"))
        .isInstanceOf(IdentityFormatException.class)
        .hasMessageContaining("trust domain 'Conveyor ETL'");
  }

  private static void assertDecision(
      AuthorizationDecision decision,
      Optional<WorkloadIdentity> caller,
      Code denial,
      String messagePart) {
    if (denial == null) {
      assertThat(decision.isAllowed()).as("allowed, was %s", decision).isTrue();
      return;
    }
    assertThat(decision).isInstanceOf(Denied.class);
    Denied denied = (Denied) decision;
    assertThat(denied.code()).isEqualTo(denial);
    assertThat(denied.message()).contains(messagePart);
    // Least exposure: a refused caller learns nothing of the sidecars that are allowed (it may
    // hear its own identity back, which can share a pod name with one of them).
    String ownPod = caller.map(WorkloadIdentity::podName).orElse("");
    for (WorkloadIdentity other : PLACED) {
      if (caller.equals(Optional.of(other))) {
        continue;
      }
      assertThat(denied.message()).doesNotContain(other.toUri());
      if (!other.podName().equals(ownPod)) {
        assertThat(denied.message()).doesNotContain(other.podName());
      }
    }
  }

  private static Arguments row(Object... values) {
    return Arguments.of(values);
  }
}
