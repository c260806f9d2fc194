package io.conveyor.router.registry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The registered sidecars, by id. Pure bookkeeping: no clock, no I/O, not thread-safe (the router
 * core owns it under its lock).
 */
public final class SidecarRegistry {

  private final Map<String, SidecarRecord> byId = new LinkedHashMap<>();

  /**
   * The sidecar of each pod ({@link SidecarRecord#podKey()}): a registration finds the sidecar it
   * replaces without a scan of the fleet, which a registration storm would pay per registration.
   */
  private final Map<String, String> idByPodKey = new HashMap<>();

  private final int maxSidecars;

  public SidecarRegistry(int maxSidecars) {
    this.maxSidecars = maxSidecars;
  }

  /** Raised when registering would exceed the configured number of sidecars. */
  public static final class RegistryFullException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RegistryFullException(int max) {
      super("the router already tracks its maximum of " + max + " sidecars");
    }
  }

  /**
   * Adds or replaces a sidecar. Any other sidecar of the same pod is removed: a sidecar that
   * restarted in its pod registers under a new id, and its old id is dead.
   *
   * @return the ids of the records removed because they belonged to the same pod
   */
  public List<String> register(SidecarRecord record) {
    refuseForeignClaims(record);
    String key = record.podKey();
    List<String> replaced = new ArrayList<>();
    String samePod = idByPodKey.get(key);
    if (samePod != null && !samePod.equals(record.sidecarId())) {
      byId.remove(samePod);
      replaced.add(samePod);
    }
    if (!byId.containsKey(record.sidecarId()) && byId.size() >= maxSidecars) {
      throw new RegistryFullException(maxSidecars);
    }
    SidecarRecord previous = byId.put(record.sidecarId(), record);
    if (previous != null) {
      idByPodKey.remove(previous.podKey(), previous.sidecarId());
    }
    idByPodKey.put(key, record.sidecarId());
    return replaced;
  }

  /**
   * Under mutual TLS a registration proves its namespace and pod, but not the sidecar id or pod UID
   * it names: refuse one that would take over another pod's sidecar through either. (Without a
   * certificate nothing is proven, and the registry keeps its old, trusting behaviour.)
   */
  private void refuseForeignClaims(SidecarRecord record) {
    if (record.workloadIdentity().isEmpty()) {
      return;
    }
    SidecarRecord sameId = byId.get(record.sidecarId());
    if (sameId != null && !samePod(sameId, record)) {
      throw new ForeignClaimException(
          "sidecar id " + record.sidecarId() + " is registered by another pod");
    }
    String sameKey = idByPodKey.get(record.podKey());
    if (sameKey != null && !samePod(byId.get(sameKey), record)) {
      throw new ForeignClaimException(
          "pod UID " + record.podUid() + " is registered by another pod");
    }
  }

  private static boolean samePod(SidecarRecord a, SidecarRecord b) {
    return a.namespace().equals(b.namespace()) && Objects.equals(a.podName(), b.podName());
  }

  /** A registration that names another pod's sidecar id or pod UID. */
  public static final class ForeignClaimException extends RuntimeException {
    ForeignClaimException(String message) {
      super(message);
    }
  }

  public Optional<SidecarRecord> get(String sidecarId) {
    return Optional.ofNullable(byId.get(sidecarId));
  }

  /** Replaces the record of a known sidecar (after a heartbeat). */
  public void update(SidecarRecord record) {
    if (!byId.containsKey(record.sidecarId())) {
      throw new IllegalStateException("unknown sidecar " + record.sidecarId());
    }
    SidecarRecord previous = byId.put(record.sidecarId(), record);
    if (!previous.podKey().equals(record.podKey())) { // a heartbeat keeps the pod; be sure
      idByPodKey.remove(previous.podKey(), previous.sidecarId());
      idByPodKey.put(record.podKey(), record.sidecarId());
    }
  }

  public Optional<SidecarRecord> remove(String sidecarId) {
    SidecarRecord removed = byId.remove(sidecarId);
    if (removed != null) {
      idByPodKey.remove(removed.podKey(), sidecarId);
    }
    return Optional.ofNullable(removed);
  }

  /** Sidecars whose last heartbeat is older than {@code missedHeartbeats} of their periods. */
  public List<SidecarRecord> expired(Instant now, int missedHeartbeats) {
    List<SidecarRecord> expired = new ArrayList<>();
    for (SidecarRecord record : byId.values()) {
      if (now.isAfter(record.expiresAt(missedHeartbeats))) {
        expired.add(record);
      }
    }
    return expired;
  }

  /** Every sidecar by id, in registration order: a read-only view, not a copy. */
  public Map<String, SidecarRecord> byId() {
    return Collections.unmodifiableMap(byId);
  }

  public Collection<SidecarRecord> all() {
    return Collections.unmodifiableCollection(byId.values());
  }

  public int size() {
    return byId.size();
  }
}
