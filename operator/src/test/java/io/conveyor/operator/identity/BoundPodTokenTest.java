package io.conveyor.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.conveyor.identity.EnrolmentRefusedException;
import io.conveyor.identity.EnrolmentRefusedException.Kind;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatusBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Reading a TokenReview's answer, without an API server: the edge cases of its shape. */
class BoundPodTokenTest {

  private static final String AUDIENCE = "conveyor.etl";

  @Test
  void aBoundServiceAccountTokenNamesItsAccountAndPod() throws Exception {
    assertThat(BoundPodToken.fromReview(status(b -> b), AUDIENCE))
        .isEqualTo(new BoundPodToken("shop", "orders", "orders-0", "uid-1"));
  }

  @Test
  void everyAnswerThatProvesLessThanABoundPodIsUnauthenticated() {
    Map<String, TokenReviewStatus> cases = new HashMap<>();
    cases.put("no status", null);
    cases.put("authenticated unset", status(b -> b.withAuthenticated(null)));
    cases.put("authenticated false", status(b -> b.withAuthenticated(false)));
    cases.put("no audiences", status(b -> b.withAudiences((List<String>) null)));
    cases.put("no user", status(b -> b.withUser(null)));
    cases.put(
        "empty namespace",
        status(b -> b.editUser().withUsername("system:serviceaccount::orders").endUser()));
    cases.put(
        "extra colon",
        status(b -> b.editUser().withUsername("system:serviceaccount:shop:orders:x").endUser()));
    cases.put("no extra", status(b -> b.editUser().withExtra(null).endUser()));
    cases.put(
        "two pod names",
        status(
            b ->
                b.editUser()
                    .addToExtra(BoundPodToken.POD_NAME_EXTRA, List.of("orders-0", "orders-1"))
                    .endUser()));
    cases.put(
        "empty pod uid",
        status(b -> b.editUser().addToExtra(BoundPodToken.POD_UID_EXTRA, List.of("")).endUser()));

    cases.forEach(
        (name, status) -> {
          EnrolmentRefusedException refused =
              catchThrowableOfType(
                  EnrolmentRefusedException.class,
                  () -> BoundPodToken.fromReview(status, AUDIENCE));
          assertThat(refused).as(name).isNotNull();
          assertThat(refused.kind()).as(name).isEqualTo(Kind.UNAUTHENTICATED);
        });
  }

  private static TokenReviewStatus status(UnaryOperator<TokenReviewStatusBuilder> edit) {
    TokenReviewStatusBuilder builder =
        new TokenReviewStatusBuilder()
            .withAuthenticated(true)
            .withAudiences(AUDIENCE)
            .withNewUser()
            .withUsername("system:serviceaccount:shop:orders")
            .withUid("sa-uid")
            .withGroups("system:serviceaccounts", "system:serviceaccounts:shop")
            .addToExtra(BoundPodToken.POD_NAME_EXTRA, List.of("orders-0"))
            .addToExtra(BoundPodToken.POD_UID_EXTRA, List.of("uid-1"))
            .endUser();
    return edit.apply(builder).build();
  }
}
