package io.conveyor.operator.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.conveyor.operator.testing.ApiRequest;
import io.conveyor.operator.testing.RbacAudit;
import io.conveyor.operator.testing.RbacRules;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs after the tests that start operators on the mock server (see junit-platform.properties).
 * Each of those checked that deploy/ allows every request its operator made; this checks the other
 * way round: that deploy/ grants nothing the operator did not use.
 */
@Order(Integer.MAX_VALUE)
class OperatorRbacTest {

  @Test
  void everyGrantedPermissionWasUsedDuringTheSuite() {
    Set<ApiRequest> observed = RbacAudit.observed();
    assumeTrue(
        !observed.isEmpty(),
        "no operator ran before this test (run the whole suite, ordered by "
            + ClassOrderer.OrderAnnotation.class.getSimpleName()
            + ")");
    RbacRules rules = RbacRules.load(RbacAudit.repoRoot(), RbacAudit.SERVICE_ACCOUNT);

    List<String> unused = new ArrayList<>();
    for (RbacRules.Grant grant : rules.grants()) {
      PolicyRule rule = grant.rule();
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          PolicyRule single =
              new PolicyRuleBuilder(rule).withResources(resource).withVerbs(verb).build();
          RbacRules.Grant narrowed = new RbacRules.Grant(grant.source(), single, grant.namespace());
          if (observed.stream().noneMatch(r -> RbacRules.allows(narrowed, r))) {
            unused.add(grant.source() + ": " + verb + " " + rule.getApiGroups() + " " + resource);
          }
        }
      }
    }
    assertThat(unused)
        .as("permissions granted by deploy/operator/rbac.yaml that no request used")
        .isEmpty();
  }

  @Test
  void secretsAreGrantedInTheOperatorsNamespaceOnlyAndReadOnlyByTheCasName() {
    RbacRules rules = RbacRules.load(RbacAudit.repoRoot(), RbacAudit.SERVICE_ACCOUNT);

    List<RbacRules.Grant> secrets =
        rules.grants().stream().filter(g -> g.rule().getResources().contains("secrets")).toList();

    assertThat(secrets).isNotEmpty().allSatisfy(g -> assertThat(g.namespace()).isNotNull());
    assertThat(secrets)
        .filteredOn(g -> !g.rule().getVerbs().equals(List.of("create")))
        .allSatisfy(
            g -> {
              assertThat(g.rule().getVerbs()).containsExactly("get");
              assertThat(g.rule().getResourceNames()).containsExactly("conveyor-ca");
            });
    // The CA key is never listed or watched, so no other Secret's content reaches the operator.
    assertThat(rules.allowing(new ApiRequest("list", "", "secrets", null, "conveyor-system", null)))
        .isEmpty();
    assertThat(
            rules.allowing(
                new ApiRequest("get", "", "secrets", null, "conveyor-system", "other-secret")))
        .isEmpty();
    assertThat(rules.allowing(new ApiRequest("get", "", "secrets", null, "shop", "conveyor-ca")))
        .isEmpty();
  }
}
