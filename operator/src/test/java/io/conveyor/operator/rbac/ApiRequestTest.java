package io.conveyor.operator.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import io.conveyor.operator.testing.ApiRequest;
import io.conveyor.operator.testing.RbacAudit;
import io.conveyor.operator.testing.RbacRules;
import org.junit.jupiter.api.Test;

/** The mapping from HTTP requests to RBAC attributes the audit relies on. */
class ApiRequestTest {

  @Test
  void methodsAndPathsMapToVerbsAndResources() {
    assertThat(ApiRequest.parse("GET", "/api/v1/pods?labelSelector=a%3Db&resourceVersion=0"))
        .contains(new ApiRequest("list", "", "pods", null, null, null));
    assertThat(ApiRequest.parse("GET", "/api/v1/pods?allowWatchBookmarks=true&watch=true"))
        .contains(new ApiRequest("watch", "", "pods", null, null, null));
    assertThat(ApiRequest.parse("GET", "/api/v1/namespaces/shop/pods/orders-0"))
        .contains(new ApiRequest("get", "", "pods", null, "shop", "orders-0"));
    assertThat(
            ApiRequest.parse(
                "PUT", "/apis/conveyor.etl/v1/namespaces/shop/conveyorsidecars/orders-0/status"))
        .contains(
            new ApiRequest(
                "update", "conveyor.etl", "conveyorsidecars", "status", "shop", "orders-0"));
    assertThat(
            ApiRequest.parse(
                "POST", "/apis/coordination.k8s.io/v1/namespaces/conveyor-system/leases"))
        .contains(
            new ApiRequest(
                "create", "coordination.k8s.io", "leases", null, "conveyor-system", null));
    assertThat(ApiRequest.parse("DELETE", "/apis/conveyor.etl/v1/namespaces/shop/conveyorsidecars"))
        .contains(
            new ApiRequest(
                "deletecollection", "conveyor.etl", "conveyorsidecars", null, "shop", null));
    assertThat(ApiRequest.parse("GET", "/api/v1/namespaces/shop"))
        .contains(new ApiRequest("get", "", "namespaces", null, null, "shop"));
    assertThat(ApiRequest.parse("POST", "/apis/authentication.k8s.io/v1/tokenreviews"))
        .contains(
            new ApiRequest("create", "authentication.k8s.io", "tokenreviews", null, null, null));
    assertThat(ApiRequest.parse("GET", "/version")).isEmpty();
    assertThat(ApiRequest.parse("GET", "/apis")).isEmpty();
  }

  @Test
  void theRulesOfDeployAreEvaluatedLikeTheAuthorizer() {
    RbacRules rules = RbacRules.load(RbacAudit.repoRoot(), RbacAudit.SERVICE_ACCOUNT);

    assertThat(rules.allowing(new ApiRequest("watch", "", "pods", null, null, null))).isPresent();
    assertThat(rules.allowing(new ApiRequest("update", "", "pods", null, "shop", "a")))
        .as("pods are never written")
        .isEmpty();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "update", "conveyor.etl", "conveyorsidecars", "status", "shop", "a")))
        .isPresent();
    assertThat(
            rules.allowing(
                new ApiRequest("update", "conveyor.etl", "pipelines", null, "shop", "a")))
        .as("the spec of a pipeline is the user's")
        .isEmpty();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "patch",
                    "coordination.k8s.io",
                    "leases",
                    null,
                    "conveyor-system",
                    "conveyor-operator-leader")))
        .isPresent();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "patch",
                    "coordination.k8s.io",
                    "leases",
                    null,
                    "conveyor-system",
                    "someone-else")))
        .as("only our Lease")
        .isEmpty();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "patch",
                    "coordination.k8s.io",
                    "leases",
                    null,
                    "shop",
                    "conveyor-operator-leader")))
        .as("only in our namespace")
        .isEmpty();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "create", "authentication.k8s.io", "tokenreviews", null, null, null)))
        .as("enrolment checks tokens")
        .isPresent();
    assertThat(
            rules.allowing(
                new ApiRequest(
                    "create", "authorization.k8s.io", "subjectaccessreviews", null, null, null)))
        .as("but asks nothing else of the authorizer")
        .isEmpty();
  }
}
