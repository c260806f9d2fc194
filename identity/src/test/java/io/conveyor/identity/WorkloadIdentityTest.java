package io.conveyor.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WorkloadIdentityTest {

  @Test
  void writesTheSpiffeUriAndReadsItBack() {
    WorkloadIdentity identity = WorkloadIdentity.of("shop", "orders-7f9c-x2k", "orders");

    assertThat(identity.toUri())
        .isEqualTo("spiffe://conveyor.etl/ns/shop/pod/orders-7f9c-x2k/sa/orders");
    assertThat(WorkloadIdentity.parse(identity.toUri())).isEqualTo(identity);
  }

  @Test
  void keepsAConfiguredTrustDomainAndPodNamesWithDots() {
    WorkloadIdentity identity = new WorkloadIdentity("acme.example_1", "db", "web.0", "sa.v2");

    assertThat(identity.toUri()).isEqualTo("spiffe://acme.example_1/ns/db/pod/web.0/sa/sa.v2");
    assertThat(WorkloadIdentity.parse(identity.toUri())).isEqualTo(identity);
  }

  static Stream<Arguments> malformedUris() {
    return Stream.of(
        Arguments.of("", "empty"),
        Arguments.of("https://conveyor.etl/ns/a/pod/b/sa/c", "does not start with 'spiffe://'"),
        Arguments.of("spiffe://conveyor.etl", "no path after the trust domain"),
        Arguments.of("spiffe:///ns/a/pod/b/sa/c", "trust domain is empty"),
        Arguments.of(
            "spiffe://conveyor.etl:443/ns/a/pod/b/sa/c", "trust domain 'conveyor.etl:443'"),
        Arguments.of(
            "spiffe://user@conveyor.etl/ns/a/pod/b/sa/c", "trust domain 'user@conveyor.etl'"),
        Arguments.of("spiffe://conveyor.etl/ns/a/pod/b/sa/c/", "does not have the path"),
        Arguments.of("spiffe://conveyor.etl/ns/a/pod/b", "does not have the path"),
        Arguments.of("spiffe://conveyor.etl/ns/a/po/b/sa/c", "does not have the path"),
        Arguments.of("spiffe://conveyor.etl/ns//pod/b/sa/c", "namespace is empty"),
        Arguments.of(
            "spiffe://conveyor.etl/ns/Shop/pod/b/sa/c", "namespace 'Shop' is not a DNS-1123 label"),
        Arguments.of(
            "spiffe://conveyor.etl/ns/a.b/pod/b/sa/c", "namespace 'a.b' is not a DNS-1123 label"),
        Arguments.of(
            "spiffe://conveyor.etl/ns/a/pod/-b/sa/c", "pod name '-b' is not a DNS-1123 subdomain"),
        Arguments.of("spiffe://conveyor.etl/ns/a/pod/b%2Fx/sa/c", "pod name 'b%2Fx'"),
        Arguments.of("spiffe://conveyor.etl/ns/a/pod/b/sa/c?x=1", "service account 'c?x=1'"),
        Arguments.of("spiffe://conveyor.etl/ns/a/pod/b/sa/c#f", "service account 'c#f'"),
        Arguments.of(
            "spiffe://conveyor.etl/ns/" + "n".repeat(64) + "/pod/b/sa/c",
            "is 64 characters long, at most 63"));
  }

  @ParameterizedTest
  @MethodSource("malformedUris")
  void refusesMalformedUrisNamingWhatIsWrong(String uri, String expectedMessagePart) {
    assertThatThrownBy(() -> WorkloadIdentity.parse(uri))
        .isInstanceOf(IdentityFormatException.class)
        .hasMessageContaining(expectedMessagePart);
  }

  @Test
  void refusesPartsThatAreNotKubernetesNames() {
    assertThatThrownBy(() -> WorkloadIdentity.of("ns", "pod", "a/b"))
        .isInstanceOf(IdentityFormatException.class)
        .hasMessageContaining("service account 'a/b'");
    assertThatThrownBy(() -> WorkloadIdentity.of(null, "pod", "sa"))
        .hasMessage("namespace is empty");
    assertThatThrownBy(() -> WorkloadIdentity.of("ns", "p".repeat(254), "sa"))
        .hasMessageContaining("at most 253");
    assertThat(WorkloadIdentity.of("n".repeat(63), "p".repeat(253), "sa").namespace()).hasSize(63);
  }
}
