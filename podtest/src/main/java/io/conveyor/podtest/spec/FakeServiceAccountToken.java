package io.conveyor.podtest.spec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * The projected ServiceAccount token the runner writes in place of the kubelet's: shaped as the API
 * server's (a JWT whose claims are {@code aud}, {@code iss}, {@code sub =
 * system:serviceaccount:NS:NAME} and {@code kubernetes.io} naming namespace, pod and service
 * account), because a workload may read its own claims (the sidecar takes its service account from
 * {@code sub}), but not signed: the header says {@code alg: none} and the signature part is plain
 * text. Only a fake TokenReview (registered for this exact string) accepts it. There are no time
 * claims: the translation is pure, and nothing here rotates the token.
 *
 * @param namespace the pod's namespace
 * @param serviceAccount the pod's service account
 * @param podName the pod's name
 * @param podUid the pod's uid
 * @param audience the projection's audience; empty for none
 */
public record FakeServiceAccountToken(
    String namespace, String serviceAccount, String podName, String podUid, String audience) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

  /** The token's text, as written to the projected volume's file. */
  public String jwt() {
    ObjectNode header = JSON.createObjectNode().put("alg", "none").put("kid", "podtest-fake-token");
    ObjectNode claims = JSON.createObjectNode();
    claims.putPOJO("aud", audience.isEmpty() ? List.of() : List.of(audience));
    claims.put("iss", "https://kubernetes.default.svc.cluster.local");
    ObjectNode k8s = claims.putObject("kubernetes.io");
    k8s.put("namespace", namespace);
    k8s.putObject("pod").put("name", podName).put("uid", podUid);
    k8s.putObject("serviceaccount").put("name", serviceAccount);
    claims.put("sub", "system:serviceaccount:" + namespace + ":" + serviceAccount);
    return part(header.toString())
        + "."
        + part(claims.toString())
        + "."
        + part("podtest-fake-token: not signed");
  }

  private static String part(String json) {
    return BASE64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}
