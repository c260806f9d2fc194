package io.conveyor.identity;

import java.util.regex.Pattern;

/**
 * Who a workload is: the namespace, pod and service account of a sidecar, under a trust domain. It
 * is written in certificates as one SPIFFE-style URI SAN, {@code
 * spiffe://<trust-domain>/ns/<namespace>/pod/<pod>/sa/<service-account>}, which is what
 * authorization compares.
 *
 * <p>The parts follow Kubernetes' own naming rules, so that every real pod has an identity and
 * nothing else does: a namespace is a DNS-1123 label (at most 63 characters), pod and service
 * account names are DNS-1123 subdomains (at most 253, dots allowed: Kubernetes accepts a pod named
 * {@code web.0}). None of them can hold {@code /}, {@code %} or upper case, so the URI needs no
 * escaping and has exactly one spelling per identity.
 */
public record WorkloadIdentity(
    String trustDomain, String namespace, String podName, String serviceAccount) {

  /** The trust domain Conveyor issues under unless configured otherwise. */
  public static final String DEFAULT_TRUST_DOMAIN = "conveyor.etl";

  static final String SCHEME_PREFIX = "spiffe://";

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  // SPIFFE trust domains: lower-case letters, digits, dots, dashes and underscores.
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
  private static final int LABEL_MAX = 63;
  private static final int SUBDOMAIN_MAX = 253;
  private static final int TRUST_DOMAIN_MAX = 255;

  /**
   * @throws IdentityFormatException naming the part that breaks its naming rule
   */
  public WorkloadIdentity {
    requireTrustDomain(trustDomain);
    requireName("namespace", namespace, DNS_LABEL, LABEL_MAX, "a DNS-1123 label");
    requireName("pod name", podName, DNS_SUBDOMAIN, SUBDOMAIN_MAX, "a DNS-1123 subdomain");
    requireName(
        "service account", serviceAccount, DNS_SUBDOMAIN, SUBDOMAIN_MAX, "a DNS-1123 subdomain");
  }

  /** An identity under {@link #DEFAULT_TRUST_DOMAIN}. */
  public static WorkloadIdentity of(String namespace, String podName, String serviceAccount) {
    return new WorkloadIdentity(DEFAULT_TRUST_DOMAIN, namespace, podName, serviceAccount);
  }

  /** The URI SAN that names this identity in a certificate. */
  public String toUri() {
    return SCHEME_PREFIX
        + trustDomain
        + "/ns/"
        + namespace
        + "/pod/"
        + podName
        + "/sa/"
        + serviceAccount;
  }

  /**
   * Reads an identity back from its URI. Only the exact form {@link #toUri()} writes is accepted:
   * no query, fragment, port, user info, escapes, empty or extra segments, so that two different
   * strings never name the same identity.
   *
   * @throws IdentityFormatException saying what is wrong with the URI
   */
  public static WorkloadIdentity parse(String uri) {
    if (uri == null || uri.isEmpty()) {
      throw new IdentityFormatException("identity URI is empty");
    }
    if (!uri.startsWith(SCHEME_PREFIX)) {
      throw new IdentityFormatException(
          "identity URI '" + uri + "' does not start with '" + SCHEME_PREFIX + "'");
    }
    String rest = uri.substring(SCHEME_PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      throw new IdentityFormatException(
          "identity URI '" + uri + "' has no path after the trust domain");
    }
    String trustDomain = rest.substring(0, slash);
    // split with a negative limit keeps trailing empty segments, so "…/sa/x/" is refused.
    String[] segments = rest.substring(slash + 1).split("/", -1);
    if (segments.length != 6
        || !segments[0].equals("ns")
        || !segments[2].equals("pod")
        || !segments[4].equals("sa")) {
      throw new IdentityFormatException(
          "identity URI '"
              + uri
              + "' does not have the path /ns/<namespace>/pod/<pod>/sa/<service-account>");
    }
    try {
      return new WorkloadIdentity(trustDomain, segments[1], segments[3], segments[5]);
    } catch (IdentityFormatException e) {
      throw new IdentityFormatException("identity URI '" + uri + "': " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return toUri();
  }

  private static void requireTrustDomain(String value) {
    if (value == null || value.isEmpty()) {
      throw new IdentityFormatException("trust domain is empty");
    }
    if (value.length() > TRUST_DOMAIN_MAX) {
      throw new IdentityFormatException(
          "trust domain is " + value.length() + " characters long, at most " + TRUST_DOMAIN_MAX);
    }
    if (!TRUST_DOMAIN.matcher(value).matches()) {
      throw new IdentityFormatException(
          "trust domain '"
              + value
              + "' may hold only lower-case letters, digits, '.', '-' and '_'");
    }
  }

  private static void requireName(
      String part, String value, Pattern rule, int maxLength, String ruleName) {
    if (value == null || value.isEmpty()) {
      throw new IdentityFormatException(part + " is empty");
    }
    if (value.length() > maxLength) {
      throw new IdentityFormatException(
          part
              + " '"
              + value
              + "' is "
              + value.length()
              + " characters long, at most "
              + maxLength);
    }
    if (!rule.matcher(value).matches()) {
      throw new IdentityFormatException(
          part
              + " '"
              + value
              + "' is not "
              + ruleName
              + " (lower-case letters, digits and '-', starting and ending with a letter or digit"
              + (rule == DNS_SUBDOMAIN ? ", labels separated by '.')" : ")"));
    }
  }
}
