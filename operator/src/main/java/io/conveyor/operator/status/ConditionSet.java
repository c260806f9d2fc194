package io.conveyor.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the conditions of a status from the previous ones: a condition keeps its {@code
 * lastTransitionTime} while its status stays the same, and gets {@code now} when it flips. The
 * order in which conditions are set is the order they are listed in.
 */
public final class ConditionSet {

  public static final String TRUE = "True";
  public static final String FALSE = "False";
  public static final String UNKNOWN = "Unknown";

  private final Map<String, Condition> previous = new LinkedHashMap<>();
  private final Map<String, Condition> next = new LinkedHashMap<>();
  private final long generation;
  private final Instant now;

  public ConditionSet(List<Condition> previousConditions, long generation, Instant now) {
    if (previousConditions != null) {
      previousConditions.forEach(c -> previous.put(c.getType(), c));
    }
    this.generation = generation;
    this.now = now;
  }

  public ConditionSet set(String type, boolean status, String reason, String message) {
    return set(type, status ? TRUE : FALSE, reason, message);
  }

  public ConditionSet set(String type, String status, String reason, String message) {
    Condition before = previous.get(type);
    String transition =
        before != null
                && Objects.equals(before.getStatus(), status)
                && before.getLastTransitionTime() != null
            ? before.getLastTransitionTime()
            : Timestamps.format(now);
    Condition condition = new Condition();
    condition.setType(type);
    condition.setStatus(status);
    condition.setReason(reason);
    condition.setMessage(message);
    condition.setObservedGeneration(generation);
    condition.setLastTransitionTime(transition);
    next.put(type, condition);
    return this;
  }

  /**
   * Sets {@code type} exactly as it was before, when there was one (used while facts are carried).
   */
  public boolean carry(String type) {
    Condition before = previous.get(type);
    if (before == null) {
      return false;
    }
    set(type, before.getStatus(), before.getReason(), before.getMessage());
    return true;
  }

  public Condition get(String type) {
    return next.get(type);
  }

  public List<Condition> toList() {
    return new ArrayList<>(next.values());
  }
}
