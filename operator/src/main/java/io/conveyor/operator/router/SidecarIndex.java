package io.conveyor.operator.router;

import io.conveyor.router.registry.SidecarRecord;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the registered sidecar of a pod: by pod UID, or by namespace and pod name for sidecars that
 * did not report a UID. Not thread-safe; {@link RouterEventBridge} guards it.
 */
final class SidecarIndex {

  /** The pod a sidecar registered for. */
  record PodRef(String namespace, String podName, String podUid) {
    boolean named() {
      return podName != null && !podName.isBlank() && !"unknown".equals(podName);
    }
  }

  private final Map<String, PodRef> byId = new HashMap<>();
  private final Map<String, String> idByUid = new HashMap<>();
  private final Map<String, String> idByName = new HashMap<>();

  /** Records (or re-records) a registration; returns the pod it belongs to. */
  PodRef put(SidecarRecord record) {
    remove(record.sidecarId());
    PodRef ref = new PodRef(record.namespace(), record.podName(), record.podUid());
    byId.put(record.sidecarId(), ref);
    if (hasUid(ref)) {
      idByUid.put(ref.podUid(), record.sidecarId());
    } else if (ref.named()) {
      idByName.put(nameKey(ref.namespace(), ref.podName()), record.sidecarId());
    }
    return ref;
  }

  /** Forgets a sidecar; returns the pod it belonged to, when it was known. */
  Optional<PodRef> remove(String sidecarId) {
    PodRef ref = byId.remove(sidecarId);
    if (ref == null) {
      return Optional.empty();
    }
    if (hasUid(ref)) {
      idByUid.remove(ref.podUid(), sidecarId);
    } else if (ref.named()) {
      idByName.remove(nameKey(ref.namespace(), ref.podName()), sidecarId);
    }
    return Optional.of(ref);
  }

  Optional<PodRef> pod(String sidecarId) {
    return Optional.ofNullable(byId.get(sidecarId));
  }

  /** The sidecar id registered for a pod. */
  Optional<String> find(String podUid, String namespace, String podName) {
    if (podUid != null && !podUid.isBlank()) {
      String id = idByUid.get(podUid);
      if (id != null) {
        return Optional.of(id);
      }
    }
    return Optional.ofNullable(idByName.get(nameKey(namespace, podName)));
  }

  int size() {
    return byId.size();
  }

  private static boolean hasUid(PodRef ref) {
    return ref.podUid() != null && !ref.podUid().isBlank();
  }

  private static String nameKey(String namespace, String podName) {
    return namespace + "/" + podName;
  }
}
