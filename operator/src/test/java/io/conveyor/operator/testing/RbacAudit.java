package io.conveyor.operator.testing;

import io.conveyor.operator.KubernetesClients;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks the requests the operator made against the RBAC rules of deploy/, and remembers which
 * rules they used. Every test class that runs an operator on a {@link MockCluster} calls {@link
 * #check} on the cluster's requests when it ends; {@code OperatorRbacTest} runs last and checks
 * that no granted permission went unused.
 */
public final class RbacAudit {

  public static final String SERVICE_ACCOUNT = "conveyor-operator";

  private static final Set<ApiRequest> OBSERVED = ConcurrentHashMap.newKeySet();
  private static final Set<RbacRules.Grant> USED = ConcurrentHashMap.newKeySet();

  private RbacAudit() {}

  public static Path repoRoot() {
    return Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  }

  /**
   * Checks every request of the operator (told from the test's own by its User-Agent).
   *
   * @throws AssertionError listing the requests deploy/ does not allow
   */
  public static void check(List<RecordedRequest> requests) {
    RbacRules rules = RbacRules.load(repoRoot(), SERVICE_ACCOUNT);
    List<String> denied = new ArrayList<>();
    for (RecordedRequest request : requests) {
      String agent = request.getHeader("User-Agent");
      if (agent == null || !agent.startsWith(KubernetesClients.USER_AGENT)) {
        continue;
      }
      Optional<ApiRequest> parsed = ApiRequest.parse(request.getMethod(), request.getPath());
      if (parsed.isEmpty()) {
        continue; // discovery and /version: open to every authenticated client
      }
      OBSERVED.add(parsed.get());
      Optional<RbacRules.Grant> grant = rules.allowing(parsed.get());
      if (grant.isPresent()) {
        USED.add(grant.get());
      } else {
        denied.add(parsed.get() + "   <- " + request.getMethod() + " " + request.getPath());
      }
    }
    if (!denied.isEmpty()) {
      throw new AssertionError(
          "deploy/operator/rbac.yaml does not allow these requests of the operator:\n  "
              + String.join("\n  ", denied));
    }
  }

  public static Set<ApiRequest> observed() {
    return Set.copyOf(OBSERVED);
  }

  public static Set<RbacRules.Grant> used() {
    return Set.copyOf(USED);
  }
}
