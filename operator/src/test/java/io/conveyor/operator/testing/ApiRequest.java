package io.conveyor.operator.testing;

import java.net.URI;
import java.util.Arrays;
import java.util.Optional;

/**
 * An API request as RBAC sees it: verb, API group, resource, subresource, namespace and name,
 * derived from the HTTP method and path the way the API server's request-info resolver does.
 *
 * @param namespace null for cluster-wide requests
 * @param name null for collection requests
 */
public record ApiRequest(
    String verb, String group, String resource, String subresource, String namespace, String name) {

  /** The resource as RBAC rules name it: {@code pods} or {@code pipelines/status}. */
  public String ruleResource() {
    return subresource == null ? resource : resource + "/" + subresource;
  }

  /**
   * Parses {@code GET /apis/conveyor.etl/v1/namespaces/shop/pipelines?watch=true}. Empty for
   * non-resource paths ({@code /version}, discovery), which every authenticated client may read.
   */
  public static Optional<ApiRequest> parse(String method, String pathAndQuery) {
    URI uri = URI.create(pathAndQuery);
    String[] parts =
        Arrays.stream(uri.getPath().split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
    boolean watch =
        uri.getQuery() != null && uri.getQuery().matches("(^|.*&)watch=(true|1)(&.*|$)");
    int rest;
    String group;
    if (parts.length >= 3 && parts[0].equals("api")) {
      group = "";
      rest = 2;
    } else if (parts.length >= 4 && parts[0].equals("apis")) {
      group = parts[1];
      rest = 3;
    } else {
      return Optional.empty();
    }
    String[] r = Arrays.copyOfRange(parts, rest, parts.length);
    String namespace = null;
    if (r.length >= 3 && r[0].equals("namespaces")) {
      namespace = r[1];
      r = Arrays.copyOfRange(r, 2, r.length);
    }
    String resource = r[0];
    String name = r.length > 1 ? r[1] : null;
    String subresource = r.length > 2 ? r[2] : null;
    String verb =
        switch (method.toUpperCase(java.util.Locale.ROOT)) {
          case "GET", "HEAD" -> watch ? "watch" : name == null ? "list" : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> name == null ? "deletecollection" : "delete";
          default -> throw new IllegalArgumentException("unexpected method " + method);
        };
    return Optional.of(new ApiRequest(verb, group, resource, subresource, namespace, name));
  }

  @Override
  public String toString() {
    return verb
        + " "
        + (group.isEmpty() ? "core" : group)
        + "/"
        + ruleResource()
        + (namespace == null ? " (all namespaces)" : " in " + namespace)
        + (name == null ? "" : " name=" + name);
  }
}
