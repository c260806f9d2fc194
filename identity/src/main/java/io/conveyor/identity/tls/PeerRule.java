package io.conveyor.identity.tls;

import io.conveyor.identity.WorkloadIdentity;
import java.util.Objects;

/**
 * Which identity a client accepts from the server it dials, once the chain has verified: the
 * certificate is checked for a name, as a browser checks a host name, except that the name is a
 * workload identity (TLS host-name verification does not apply: workload certificates carry no DNS
 * name).
 */
public sealed interface PeerRule {

  /** Whether the server's identity is the one this client means to reach. */
  boolean accepts(WorkloadIdentity server);

  /** What is expected, for the handshake's error message. */
  String describe();

  /** Exactly this workload: a sidecar dialling the sidecar the router named for a stage. */
  static PeerRule exactly(WorkloadIdentity expected) {
    return new Exactly(expected);
  }

  /**
   * Any pod running as this service account of this namespace in the trust domain: the router,
   * whose pod changes with every leader election.
   */
  static PeerRule serviceAccount(String trustDomain, String namespace, String serviceAccount) {
    return new ServiceAccount(trustDomain, namespace, serviceAccount);
  }

  /** Any workload of the trust domain, when the caller has nothing more precise to check. */
  static PeerRule anyWorkloadOf(String trustDomain) {
    return new AnyWorkload(trustDomain);
  }

  record Exactly(WorkloadIdentity expected) implements PeerRule {
    public Exactly {
      Objects.requireNonNull(expected, "expected");
    }

    @Override
    public boolean accepts(WorkloadIdentity server) {
      return expected.equals(server);
    }

    @Override
    public String describe() {
      return expected.toUri();
    }
  }

  record ServiceAccount(String trustDomain, String namespace, String serviceAccount)
      implements PeerRule {
    @Override
    public boolean accepts(WorkloadIdentity server) {
      return server.trustDomain().equals(trustDomain)
          && server.namespace().equals(namespace)
          && server.serviceAccount().equals(serviceAccount);
    }

    @Override
    public String describe() {
      return "spiffe://" + trustDomain + "/ns/" + namespace + "/pod/*/sa/" + serviceAccount;
    }
  }

  record AnyWorkload(String trustDomain) implements PeerRule {
    @Override
    public boolean accepts(WorkloadIdentity server) {
      return server.trustDomain().equals(trustDomain);
    }

    @Override
    public String describe() {
      return "spiffe://" + trustDomain + "/*";
    }
  }
}
