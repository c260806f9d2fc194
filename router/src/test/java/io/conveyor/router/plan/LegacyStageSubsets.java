package io.conveyor.router.plan;

import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Part of the planner as it was (commit d6a8fc8), the oracle of {@link
 * IncrementalPlanningPropertyTest}; see {@link LegacyAssignmentPlanner}.
 *
 * <p>The subsets of one stage (see {@link RendezvousSubset}): for every sidecar told about the
 * stage's targets, which of them it is told; for every target, the identities allowed to forward to
 * it, which are exactly those of the upstream sidecars whose subset holds it.
 *
 * <p>Incremental. A registration storm re-plans once per registration; computing every caller's
 * subset afresh would cost callers × targets each time, cubic per storm. So the table is derived
 * from the previous plan's: a caller whose subset lost no member only weighs the targets that
 * arrived against its worst kept member (the top {@code size} of a set plus one element is the top
 * of the previous top plus that element), and only a caller that lost a member is ranked afresh.
 * The result equals {@link RendezvousSubset#choose} from scratch — {@code StageSubsetsTest} checks
 * that on random histories — and unchanged subsets stay the same instances, which keeps their
 * messages the same instances too.
 */
final class LegacyStageSubsets {

  private final int size;
  private final Map<String, Target> targets;
  private final Map<String, Subset> byCaller;

  /** Per target id, the ids of the upstream callers whose subset holds it. */
  private final Map<String, Set<String>> callerIdsOf;

  /** Per target id, the sorted identities of those callers (empty ones left out). */
  private final Map<String, List<String>> identitiesOf;

  /**
   * Whose stage messages may differ from the previous table's: the callers whose subset is a new
   * instance (or gone) and the targets whose allowed callers were redone. Everyone, when there was
   * no previous table ({@code null}).
   */
  private final Set<String> changedIds;

  private LegacyStageSubsets(
      int size,
      Map<String, Target> targets,
      Map<String, Subset> byCaller,
      Map<String, Set<String>> callerIdsOf,
      Map<String, List<String>> identitiesOf,
      Set<String> changedIds) {
    this.changedIds = changedIds;
    this.size = size;
    this.targets = targets;
    this.byCaller = byCaller;
    this.callerIdsOf = callerIdsOf;
    this.identitiesOf = identitiesOf;
  }

  static LegacyStageSubsets empty(int size) {
    return new LegacyStageSubsets(size, Map.of(), Map.of(), Map.of(), Map.of(), null);
  }

  /**
   * The subsets of {@code stage} for {@code callers}, derived from {@code previous} (null: none).
   *
   * @param callers every sidecar told about the stage's targets: its hosts and the upstream ones
   * @param upstream which callers forward into the stage (their identities become allowed callers)
   */
  static LegacyStageSubsets compute(
      LegacyStageSubsets previous,
      StagePlan stage,
      Collection<SidecarRecord> callers,
      Predicate<String> upstream,
      int size) {
    LegacyStageSubsets prev = previous == null || previous.size != size ? empty(size) : previous;

    // Targets: kept as the previous instances when nothing the subsets or messages use changed.
    Map<String, Target> targets = new HashMap<>(capacity(stage.targets().size()));
    List<Target> ordered = new ArrayList<>(stage.targets().size());
    List<Target> added = new ArrayList<>();
    Set<String> refreshed = new HashSet<>(); // same ranking key, another message
    int kept = 0;
    for (SidecarRecord record : stage.targets()) {
      Target old = prev.targets.get(record.sidecarId());
      Target target;
      if (old != null && (old.record == record || old.describes(record))) {
        target = old;
        kept++;
      } else {
        target = Target.of(record);
        if (old != null && old.hash == target.hash) {
          refreshed.add(target.id);
          kept++;
        } else {
          added.add(target);
        }
      }
      targets.put(target.id, target);
      ordered.add(target);
    }
    Set<String> removed = new HashSet<>();
    if (kept != prev.targets.size()) {
      prev.targets.forEach(
          (id, old) -> {
            Target now = targets.get(id);
            if (now == null || now.hash != old.hash) {
              removed.add(id);
            }
          });
    }

    if (added.isEmpty()
        && removed.isEmpty()
        && refreshed.isEmpty()
        && sameCallers(prev, callers, upstream)) {
      // Nothing a subset depends on changed (in a registration storm, the stages the newcomer
      // neither runs nor follows): the previous table is this one.
      return new LegacyStageSubsets(
          size,
          targets,
          prev.byCaller,
          prev.callerIdsOf,
          prev.identitiesOf,
          prev == previous ? Set.of() : null);
    }

    // Subsets, and what changed in them for the allowed callers.
    Map<String, Subset> byCaller = new HashMap<>(capacity(callers.size()));
    List<Subset[]> changed = new ArrayList<>();
    int carried = 0;
    for (SidecarRecord caller : callers) {
      String id = caller.sidecarId();
      Subset old = prev.byCaller.get(id);
      if (old != null) {
        carried++;
      }
      boolean up = upstream.test(id);
      String identity = caller.workloadIdentity();
      Subset subset;
      if (old == null
          || (old.caller != caller && !old.callerKey.equals(caller.podKey()))
          || old.self != targets.get(id)
          || (!removed.isEmpty() && old.holdsAny(removed))) {
        subset = Subset.ranked(caller, identity, up, targets.get(id), ordered, size);
      } else {
        subset = old;
        for (Target target : added) {
          if (!target.id.equals(id)) {
            subset = subset.offer(target);
          }
        }
        if (!refreshed.isEmpty() && subset.holdsAny(refreshed)) {
          subset = subset.refreshedFrom(targets);
        }
        if (subset.upstream != up || !subset.identity.equals(identity)) {
          subset = subset.withCaller(caller, up, identity);
        }
      }
      byCaller.put(id, subset);
      if (subset != old) {
        changed.add(new Subset[] {old, subset});
      }
    }
    if (carried != prev.byCaller.size()) {
      prev.byCaller.forEach(
          (id, old) -> {
            if (!byCaller.containsKey(id)) {
              changed.add(new Subset[] {old, null});
            }
          });
    }

    // Allowed callers: only the targets some changed subset gained, lost or renamed are redone.
    Map<String, Set<String>> callerIdsOf = new HashMap<>(prev.callerIdsOf);
    Map<String, Set<String>> copied = new HashMap<>();
    Set<String> touched = new HashSet<>();
    for (Subset[] change : changed) {
      Subset old = change[0];
      Subset now = change[1];
      Set<String> before = old != null && old.upstream ? old.memberIds() : Set.of();
      Set<String> after = now != null && now.upstream ? now.memberIds() : Set.of();
      String callerId = old != null ? old.callerId : now.callerId;
      for (String member : before) {
        if (!after.contains(member)) {
          writable(callerIdsOf, copied, member).remove(callerId);
          touched.add(member);
        }
      }
      for (String member : after) {
        if (!before.contains(member)) {
          writable(callerIdsOf, copied, member).add(callerId);
        }
        touched.add(member); // also when only the caller's identity changed
      }
    }
    copied.forEach((id, set) -> callerIdsOf.put(id, Collections.unmodifiableSet(set)));
    Map<String, List<String>> identitiesOf = new HashMap<>(prev.identitiesOf);
    for (String member : touched) {
      Set<String> ids = callerIdsOf.get(member);
      if (ids == null || ids.isEmpty()) {
        callerIdsOf.remove(member);
        identitiesOf.remove(member);
        continue;
      }
      TreeSet<String> identities = new TreeSet<>();
      for (String callerId : ids) {
        String identity = byCaller.get(callerId).identity;
        if (!identity.isEmpty()) {
          identities.add(identity);
        }
      }
      List<String> list = List.copyOf(identities);
      List<String> old = identitiesOf.get(member);
      identitiesOf.put(member, list.equals(old) ? old : list);
    }
    Set<String> changedIds = null;
    if (previous != null && previous.size == size) {
      changedIds = new HashSet<>(touched);
      for (Subset[] change : changed) {
        changedIds.add(change[0] != null ? change[0].callerId : change[1].callerId);
      }
    }
    return new LegacyStageSubsets(size, targets, byCaller, callerIdsOf, identitiesOf, changedIds);
  }

  /** True when {@code prev} was computed for exactly these caller records, in the same roles. */
  private static boolean sameCallers(
      LegacyStageSubsets prev, Collection<SidecarRecord> callers, Predicate<String> upstream) {
    if (prev.byCaller.size() != callers.size()) {
      return false;
    }
    for (SidecarRecord caller : callers) {
      Subset old = prev.byCaller.get(caller.sidecarId());
      if (old == null
          || old.caller != caller
          || old.upstream != upstream.test(caller.sidecarId())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The ids whose messages for this stage may differ from those of the table it was derived from;
   * null when it was not derived from one (then anyone's may).
   */
  Set<String> changedIds() {
    return changedIds;
  }

  boolean isTarget(String sidecarId) {
    return targets.containsKey(sidecarId);
  }

  /** The subset of a caller of this stage; null for a sidecar that is not one. */
  Subset of(String callerId) {
    return byCaller.get(callerId);
  }

  /**
   * The identities allowed to forward batches into this stage at {@code hostId}, sorted. A host
   * that takes no new batches (draining) is in no subset; it still accepts the callers that would
   * keep it were it a target — those that routed to it before it began draining, while the rest of
   * the fleet stands still — so that batches already on their way are not refused. A host that also
   * runs the stage before accepts itself, as it did before subsetting.
   */
  List<String> allowedCallers(SidecarRecord host) {
    if (targets.containsKey(host.sidecarId())) {
      return identitiesOf.getOrDefault(host.sidecarId(), List.of());
    }
    long hash = RendezvousSubset.targetHash(host.podKey());
    TreeSet<String> identities = new TreeSet<>();
    for (Subset subset : byCaller.values()) {
      if (subset.upstream
          && !subset.identity.isEmpty()
          && (subset.callerId.equals(host.sidecarId())
              || subset.wouldKeep(hash, host.sidecarId()))) {
        identities.add(subset.identity);
      }
    }
    return List.copyOf(identities);
  }

  private static Set<String> writable(
      Map<String, Set<String>> callerIdsOf, Map<String, Set<String>> copied, String member) {
    return copied.computeIfAbsent(
        member,
        m -> {
          Set<String> current = callerIdsOf.get(m);
          return current == null ? new HashSet<>() : new HashSet<>(current);
        });
  }

  private static int capacity(int entries) {
    return Math.max(16, (int) (entries / 0.75f) + 1);
  }

  /** A target as the subsets rank it and the messages name it. */
  static final class Target {
    /** The record it was made from: the same instance again means nothing changed. */
    final SidecarRecord record;

    final String id;
    final String key;
    final long hash;
    final StageTarget message;

    private Target(SidecarRecord record, String id, String key, StageTarget message) {
      this.record = record;
      this.id = id;
      this.key = key;
      this.hash = RendezvousSubset.targetHash(key);
      this.message = message;
    }

    static Target of(SidecarRecord record) {
      return new Target(
          record,
          record.sidecarId(),
          record.podKey(),
          StageTarget.newBuilder()
              .setSidecarId(record.sidecarId())
              .setEndpoint(record.dataPlaneEndpoint())
              .setPodName(record.podName() == null ? "" : record.podName())
              .setNamespace(record.namespace())
              .setIdentity(record.workloadIdentity())
              .build());
    }

    /** True when {@code record} would give this same target (key and message). */
    boolean describes(SidecarRecord record) {
      return key.equals(record.podKey())
          && message.getEndpoint().equals(record.dataPlaneEndpoint())
          && message.getPodName().equals(record.podName() == null ? "" : record.podName())
          && message.getNamespace().equals(record.namespace())
          && message.getIdentity().equals(record.workloadIdentity());
    }
  }

  /** The targets one caller is told about. Immutable; its messages are built once and kept. */
  static final class Subset {
    /** The caller's record it was made for; another instance is checked field by field. */
    final SidecarRecord caller;

    final String callerId;
    final String callerKey;
    final long callerHash;
    final String identity;
    final boolean upstream;
    final int room;

    /** The caller itself when it is a target of the stage: always kept. */
    final Target self;

    /** The best ranked other targets, at most {@code room}, in no order; and their scores. */
    private final Target[] kept;

    private final long[] scores;
    private final List<StageTarget> messageTargets;

    private volatile Built remote;
    private volatile Built local;

    private record Built(StageAssignment base, List<String> allowed, StageAssignment message) {}

    private Subset(
        SidecarRecord caller,
        String callerId,
        String callerKey,
        long callerHash,
        String identity,
        boolean upstream,
        int room,
        Target self,
        Target[] kept,
        long[] scores) {
      this.caller = caller;
      this.callerId = callerId;
      this.callerKey = callerKey;
      this.callerHash = callerHash;
      this.identity = identity;
      this.upstream = upstream;
      this.room = room;
      this.self = self;
      this.kept = kept;
      this.scores = scores;
      List<Target> members = new ArrayList<>(kept.length + 1);
      members.addAll(Arrays.asList(kept));
      if (self != null) {
        members.add(self);
      }
      members.sort(Comparator.comparing(t -> t.id));
      this.messageTargets = members.stream().map(t -> t.message).toList();
    }

    /** Ranks every target afresh for the caller. */
    static Subset ranked(
        SidecarRecord caller,
        String identity,
        boolean upstream,
        Target self,
        List<Target> targets,
        int size) {
      String callerKey = caller.podKey();
      long callerHash = RendezvousSubset.keyHash(callerKey);
      int room = self == null ? size : size - 1;
      Target[] kept = new Target[Math.min(room, targets.size())];
      long[] scores = new long[kept.length];
      int count = 0;
      int worst = -1;
      for (Target target : targets) {
        if (target == self || kept.length == 0) {
          continue;
        }
        long score = RendezvousSubset.score(callerHash, target.hash);
        if (count < kept.length) {
          kept[count] = target;
          scores[count] = score;
          count++;
          if (count == kept.length) {
            worst = worstOf(kept, scores, count);
          }
        } else if (RendezvousSubset.compareRank(scores[worst], kept[worst].id, score, target.id)
            < 0) {
          kept[worst] = target;
          scores[worst] = score;
          worst = worstOf(kept, scores, count);
        }
      }
      return new Subset(
          caller,
          caller.sidecarId(),
          callerKey,
          callerHash,
          identity,
          upstream,
          room,
          self,
          Arrays.copyOf(kept, count),
          Arrays.copyOf(scores, count));
    }

    /** This subset once {@code target} joined the stage: the same instance when it ranks out. */
    Subset offer(Target target) {
      long score = RendezvousSubset.score(callerHash, target.hash);
      if (kept.length < room) {
        Target[] more = Arrays.copyOf(kept, kept.length + 1);
        long[] moreScores = Arrays.copyOf(scores, scores.length + 1);
        more[kept.length] = target;
        moreScores[kept.length] = score;
        return with(more, moreScores);
      }
      if (kept.length == 0) {
        return this;
      }
      int worst = worstOf(kept, scores, kept.length);
      if (RendezvousSubset.compareRank(scores[worst], kept[worst].id, score, target.id) >= 0) {
        return this;
      }
      Target[] swapped = kept.clone();
      long[] swappedScores = scores.clone();
      swapped[worst] = target;
      swappedScores[worst] = score;
      return with(swapped, swappedScores);
    }

    /** Would a target of this hash and id be kept, were it offered? */
    boolean wouldKeep(long targetHash, String id) {
      if (kept.length < room) {
        return true;
      }
      if (kept.length == 0) {
        return false;
      }
      int worst = worstOf(kept, scores, kept.length);
      long score = RendezvousSubset.score(callerHash, targetHash);
      return RendezvousSubset.compareRank(scores[worst], kept[worst].id, score, id) < 0;
    }

    boolean holdsAny(Set<String> ids) {
      for (Target target : kept) {
        if (ids.contains(target.id)) {
          return true;
        }
      }
      return false;
    }

    /** The same members with their current messages. */
    Subset refreshedFrom(Map<String, Target> targets) {
      Target[] fresh = new Target[kept.length];
      for (int i = 0; i < kept.length; i++) {
        fresh[i] = targets.get(kept[i].id);
      }
      return with(fresh, scores);
    }

    Subset withCaller(SidecarRecord caller, boolean upstream, String identity) {
      return new Subset(
          caller, callerId, callerKey, callerHash, identity, upstream, room, self, kept, scores);
    }

    /** The ids of the targets kept, the caller itself included when it is one. */
    Set<String> memberIds() {
      Set<String> ids = new HashSet<>(capacity(kept.length + 1));
      for (Target target : kept) {
        ids.add(target.id);
      }
      if (self != null) {
        ids.add(self.id);
      }
      return ids;
    }

    /** The targets, in id order, as the stage message lists them. */
    List<StageTarget> targets() {
      return messageTargets;
    }

    /** {@code base} with this subset's targets: the stage as a sidecar that forwards to it sees. */
    StageAssignment remote(StageAssignment base) {
      Built built = remote;
      if (built != null && built.base == base) {
        return built.message;
      }
      StageAssignment message = base.toBuilder().addAllTargets(messageTargets).build();
      remote = new Built(base, List.of(), message);
      return message;
    }

    /** As {@link #remote}, for a sidecar that runs the stage: local, with its allowed callers. */
    StageAssignment local(StageAssignment base, List<String> allowed) {
      Built built = local;
      if (built != null && built.base == base && built.allowed.equals(allowed)) {
        return built.message;
      }
      StageAssignment message =
          base.toBuilder()
              .setLocal(true)
              .addAllTargets(messageTargets)
              .addAllAllowedCallers(allowed)
              .build();
      local = new Built(base, allowed, message);
      return message;
    }

    private Subset with(Target[] members, long[] memberScores) {
      return new Subset(
          caller,
          callerId,
          callerKey,
          callerHash,
          identity,
          upstream,
          room,
          self,
          members,
          memberScores);
    }

    private static int worstOf(Target[] kept, long[] scores, int count) {
      int worst = 0;
      for (int i = 1; i < count; i++) {
        if (RendezvousSubset.compareRank(scores[i], kept[i].id, scores[worst], kept[worst].id)
            < 0) {
          worst = i;
        }
      }
      return worst;
    }
  }
}
