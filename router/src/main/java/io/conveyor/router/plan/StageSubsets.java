package io.conveyor.router.plan;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The subsets of one stage (see {@link RendezvousSubset}): for every sidecar told about the stage's
 * targets, which of them it is told; for every target, the identities allowed to forward to it,
 * which are exactly those of the upstream sidecars whose subset holds it.
 *
 * <p>Incremental. A registration storm re-plans once per registration (or group of them); computing
 * every caller's subset afresh would cost callers × targets each time, cubic per storm. So the
 * table is derived from the previous plan's, looking only at the sidecars whose records changed
 * since: they may have joined or left the targets or the callers. When targets arrived, a caller
 * whose subset lost no member only weighs them against its worst kept member (the top {@code size}
 * of a set plus one element is the top of the previous top plus that element), and only a caller
 * that lost a member is ranked afresh. The maps are {@link ShardedMap}s, so what did not change is
 * shared with the previous table rather than copied. The result equals {@link
 * RendezvousSubset#choose} from scratch — {@code IncrementalPlanningPropertyTest} checks that on
 * random histories — and unchanged subsets stay the same instances, which keeps their messages the
 * same instances too.
 */
final class StageSubsets {

  private final int size;
  private final ShardedMap<Target> targets;
  private final ShardedMap<Subset> byCaller;

  /** Per target id, the ids of the upstream callers whose subset holds it. */
  private final ShardedMap<Set<String>> callerIdsOf;

  /** Per target id, the sorted identities of those callers (empty ones left out). */
  private final ShardedMap<List<String>> identitiesOf;

  /**
   * Whose stage messages may differ from the previous table's: the callers whose subset is a new
   * instance (or gone) and the targets whose allowed callers were redone. Everyone, when there was
   * no previous table ({@code null}).
   */
  private final Set<String> changedIds;

  /** What each caller's subset asks of an arriving target, in flat arrays (see {@link Bars}). */
  private final Bars bars;

  private StageSubsets(
      int size,
      ShardedMap<Target> targets,
      ShardedMap<Subset> byCaller,
      ShardedMap<Set<String>> callerIdsOf,
      ShardedMap<List<String>> identitiesOf,
      Set<String> changedIds,
      Bars bars) {
    this.changedIds = changedIds;
    this.bars = bars;
    this.size = size;
    this.targets = targets;
    this.byCaller = byCaller;
    this.callerIdsOf = callerIdsOf;
    this.identitiesOf = identitiesOf;
  }

  static StageSubsets empty(int size) {
    return new StageSubsets(
        size,
        ShardedMap.empty(),
        ShardedMap.empty(),
        ShardedMap.empty(),
        ShardedMap.empty(),
        null,
        Bars.EMPTY);
  }

  /**
   * The subsets of {@code stage}, derived from {@code previous} (null: none).
   *
   * @param examine the sidecars whose records, or roles in the stage, may differ from those the
   *     previous table was computed for: every other caller of the stage must be the same record in
   *     the same role. Without a previous table (or of another size), every caller.
   * @param callerOf the record of a sidecar told about the stage's targets (its hosts and the
   *     upstream ones), null for any other sidecar
   * @param upstream which callers forward into the stage (their identities become allowed callers)
   */
  static StageSubsets compute(
      StageSubsets previous,
      StagePlan stage,
      Set<String> examine,
      Function<String, SidecarRecord> callerOf,
      Predicate<String> upstream,
      int size) {
    // The steps: which targets moved, the callers' subsets (the storm's arrivals from the bars;
    // otherwise every caller meets the moved targets; the examined ones are reviewed), then the
    // allowed callers of the members whose callers changed.
    StageSubsets prev = previous == null || previous.size != size ? empty(size) : previous;
    TargetChanges targetChanges = TargetChanges.of(prev, stage, examine);
    if (!targetChanges.moved() && !callersMoved(prev, examine, callerOf)) {
      // Nothing a subset depends on changed (in a registration storm, the stages the newcomer
      // neither runs nor follows): the previous table is this one.
      return new StageSubsets(
          size,
          prev.targets,
          prev.byCaller,
          prev.callerIdsOf,
          prev.identitiesOf,
          prev == previous ? Set.of() : null,
          prev.bars);
    }
    ShardedMap<Target> targets = targetChanges.edits.build();
    Ordered ordered = new Ordered(stage, targets);

    // Subsets, and what changed in them for the allowed callers.
    ShardedMap.Builder<Subset> byCaller = prev.byCaller.toBuilder();
    List<Subset[]> changed = new ArrayList<>();
    if (targetChanges.arrivalsOnly()) {
      offerArrivals(prev, targetChanges.added, examine, byCaller, changed);
    } else if (targetChanges.moved()) {
      meetMovedTargets(prev, targetChanges, examine, targets, ordered, byCaller, changed);
    }
    for (String id : examine) {
      reviewExamined(
          id, prev, targetChanges, callerOf, upstream, targets, ordered, size, byCaller, changed);
    }
    ShardedMap<Subset> subsets = byCaller.build();

    // Allowed callers: only the targets some changed subset gained, lost or renamed are redone.
    ShardedMap.Builder<Set<String>> callerIdsOf = prev.callerIdsOf.toBuilder();
    Set<String> touched = moveCallers(changed, callerIdsOf);
    ShardedMap.Builder<List<String>> identitiesOf = prev.identitiesOf.toBuilder();
    for (String member : touched) {
      renameCallers(member, callerIdsOf, identitiesOf, subsets);
    }
    Set<String> changedIds = null;
    if (previous != null && previous.size == size) {
      changedIds = new HashSet<>(touched);
      for (Subset[] change : changed) {
        changedIds.add(change[0] != null ? change[0].callerId : change[1].callerId);
      }
    }
    return new StageSubsets(
        size,
        targets,
        subsets,
        callerIdsOf.build(),
        identitiesOf.build(),
        changedIds,
        prev.bars.with(changed, subsets));
  }

  /**
   * How the stage's targets differ from the previous table's, among the sidecars examined: the
   * edits to the target map, the targets that arrived (or came back under another ranking key),
   * those that left (or changed key), and those refreshed (same key, another message).
   */
  private record TargetChanges(
      ShardedMap.Builder<Target> edits,
      List<Target> added,
      Set<String> removed,
      Set<String> refreshed) {

    static TargetChanges of(StageSubsets prev, StagePlan stage, Set<String> examine) {
      TargetChanges changes =
          new TargetChanges(
              prev.targets.toBuilder(), new ArrayList<>(), new HashSet<>(), new HashSet<>());
      for (String id : examine) {
        Target old = prev.targets.get(id);
        SidecarRecord record = stage.target(id);
        if (record == null) {
          if (old != null) {
            changes.edits.remove(id);
            changes.removed.add(id);
          }
        } else if (old == null || (old.record != record && !old.describes(record))) {
          Target target = Target.of(record);
          changes.edits.put(id, target);
          if (old != null && old.hash == target.hash) {
            changes.refreshed.add(id);
          } else {
            changes.added.add(target);
            if (old != null) {
              changes.removed.add(id);
            }
          }
        }
      }
      return changes;
    }

    boolean moved() {
      return !added.isEmpty() || !removed.isEmpty() || !refreshed.isEmpty();
    }

    /** Only arrivals: a registration storm. */
    boolean arrivalsOnly() {
      return !added.isEmpty() && removed.isEmpty() && refreshed.isEmpty();
    }
  }

  /**
   * Only arrivals (a registration storm): every caller that did not change weighs them, from the
   * flat bars; the few that would take one are offered it.
   */
  private static void offerArrivals(
      StageSubsets prev,
      List<Target> added,
      Set<String> examine,
      ShardedMap.Builder<Subset> byCaller,
      List<Subset[]> changed) {
    Bars bars = prev.bars;
    for (int slot = 0; slot < bars.used; slot++) {
      String id = bars.ids[slot];
      if (id == null || !bars.wouldTakeAny(slot, added) || examine.contains(id)) {
        continue;
      }
      Subset old = prev.byCaller.get(id);
      Subset subset = offerAll(old, added, id);
      replace(id, old, subset, byCaller, changed);
    }
  }

  /** A caller that did not change meets only the targets that did. */
  private static void meetMovedTargets(
      StageSubsets prev,
      TargetChanges targetChanges,
      Set<String> examine,
      ShardedMap<Target> targets,
      Ordered ordered,
      ShardedMap.Builder<Subset> byCaller,
      List<Subset[]> changed) {
    prev.byCaller.forEach(
        (id, old) -> {
          if (examine.contains(id)) {
            return;
          }
          Subset subset;
          if (!targetChanges.removed.isEmpty() && old.holdsAny(targetChanges.removed)) {
            subset =
                Subset.ranked(old.caller, old.identity, old.upstream, old.self, ordered, prev.size);
          } else {
            subset = offerAll(old, targetChanges.added, id);
            if (!targetChanges.refreshed.isEmpty() && subset.holdsAny(targetChanges.refreshed)) {
              subset = subset.refreshedFrom(targets);
            }
          }
          replace(id, old, subset, byCaller, changed);
        });
  }

  /** The subset of an examined sidecar: ranked afresh, updated, or gone when it calls no more. */
  private static void reviewExamined(
      String id,
      StageSubsets prev,
      TargetChanges targetChanges,
      Function<String, SidecarRecord> callerOf,
      Predicate<String> upstream,
      ShardedMap<Target> targets,
      Ordered ordered,
      int size,
      ShardedMap.Builder<Subset> byCaller,
      List<Subset[]> changed) {
    Subset old = prev.byCaller.get(id);
    SidecarRecord caller = callerOf.apply(id);
    if (caller == null) {
      if (old != null) {
        byCaller.remove(id);
        changed.add(new Subset[] {old, null});
      }
      return;
    }
    boolean up = upstream.test(id);
    String identity = caller.workloadIdentity();
    Target self = targets.get(id);
    Subset subset;
    if (old == null
        || (old.caller != caller && !old.callerKey.equals(caller.podKey()))
        || old.self != self
        || (!targetChanges.removed.isEmpty() && old.holdsAny(targetChanges.removed))) {
      subset = Subset.ranked(caller, identity, up, self, ordered, size);
    } else {
      subset = offerAll(old, targetChanges.added, id);
      if (!targetChanges.refreshed.isEmpty() && subset.holdsAny(targetChanges.refreshed)) {
        subset = subset.refreshedFrom(targets);
      }
      if (subset.upstream != up || !subset.identity.equals(identity)) {
        subset = subset.withCaller(caller, up, identity);
      }
    }
    replace(id, old, subset, byCaller, changed);
  }

  /** Records {@code subset} as {@code id}'s when it is not {@code old}, and the change. */
  private static void replace(
      String id,
      Subset old,
      Subset subset,
      ShardedMap.Builder<Subset> byCaller,
      List<Subset[]> changed) {
    if (subset != old) {
      byCaller.put(id, subset);
      changed.add(new Subset[] {old, subset});
    }
  }

  /** {@code subset} once offered every target of {@code added} but the caller's own. */
  private static Subset offerAll(Subset subset, List<Target> added, String callerId) {
    for (Target target : added) {
      if (!target.id.equals(callerId)) {
        subset = subset.offer(target);
      }
    }
    return subset;
  }

  /**
   * Moves the changed subsets' callers between their members' caller sets; returns the members
   * whose callers (or a caller's identity) changed.
   */
  private static Set<String> moveCallers(
      List<Subset[]> changed, ShardedMap.Builder<Set<String>> callerIdsOf) {
    Map<String, Set<String>> copied = new HashMap<>();
    Set<String> touched = new HashSet<>();
    for (Subset[] change : changed) {
      Subset old = change[0];
      Subset now = change[1];
      Set<String> before = old != null && old.upstream ? old.memberIds() : Set.of();
      Set<String> after = now != null && now.upstream ? now.memberIds() : Set.of();
      String callerId = old != null ? old.callerId : now.callerId;
      boolean renamed = old != null && now != null && !old.identity.equals(now.identity);
      for (String member : before) {
        if (!after.contains(member)) {
          writable(callerIdsOf, copied, member).remove(callerId);
          touched.add(member);
        }
      }
      for (String member : after) {
        if (!before.contains(member)) {
          writable(callerIdsOf, copied, member).add(callerId);
          touched.add(member);
        } else if (renamed) {
          touched.add(member); // it keeps the caller, under another identity
        }
      }
    }
    copied.forEach((id, set) -> callerIdsOf.put(id, Collections.unmodifiableSet(set)));
    return touched;
  }

  /** The sorted identities allowed to call {@code member}, from its callers' subsets. */
  private static void renameCallers(
      String member,
      ShardedMap.Builder<Set<String>> callerIdsOf,
      ShardedMap.Builder<List<String>> identitiesOf,
      ShardedMap<Subset> subsets) {
    Set<String> ids = callerIdsOf.get(member);
    if (ids == null || ids.isEmpty()) {
      callerIdsOf.remove(member);
      identitiesOf.remove(member);
      return;
    }
    TreeSet<String> identities = new TreeSet<>();
    for (String callerId : ids) {
      String identity = subsets.get(callerId).identity;
      if (!identity.isEmpty()) {
        identities.add(identity);
      }
    }
    List<String> list = List.copyOf(identities);
    List<String> old = identitiesOf.get(member);
    identitiesOf.put(member, list.equals(old) ? old : list);
  }

  /**
   * Per caller, by slot, what an arriving target must beat to enter its subset: its hash, and the
   * score and id of its worst kept member, or that it takes any target (room left) or none (no room
   * at all). A storm offers every registration's target to every caller of its stage; comparing
   * against these arrays costs a few arithmetic operations per caller where walking the subsets
   * would chase pointers through all of them. Immutable: a change copies the arrays (a plain copy,
   * no hashing) and patches the slots of the callers whose subset changed. A caller that left
   * leaves an empty slot; the arrays are packed again when half of them is empty.
   */
  private static final class Bars {
    static final Bars EMPTY =
        new Bars(
            new String[0],
            new long[0],
            new long[0],
            new String[0],
            new byte[0],
            0,
            0,
            ShardedMap.empty());

    private static final byte TAKES_ANY = 0;
    private static final byte TAKES_NONE = 1;
    private static final byte MUST_BEAT = 2;

    final String[] ids; // null: an empty slot
    final long[] callerHashes;
    final long[] worstScores;
    final String[] worstIds;
    final byte[] modes;
    final int used;
    final int live;
    final ShardedMap<Integer> slotOf;

    private Bars(
        String[] ids,
        long[] callerHashes,
        long[] worstScores,
        String[] worstIds,
        byte[] modes,
        int used,
        int live,
        ShardedMap<Integer> slotOf) {
      this.ids = ids;
      this.callerHashes = callerHashes;
      this.worstScores = worstScores;
      this.worstIds = worstIds;
      this.modes = modes;
      this.used = used;
      this.live = live;
      this.slotOf = slotOf;
    }

    /** Would the caller in {@code slot} keep one of {@code arrivals} (other than itself)? */
    boolean wouldTakeAny(int slot, List<Target> arrivals) {
      byte mode = modes[slot];
      if (mode == TAKES_NONE) {
        return false;
      }
      for (Target target : arrivals) {
        if (target.id.equals(ids[slot])) {
          continue;
        }
        if (mode == TAKES_ANY) {
          return true;
        }
        long score = RendezvousSubset.score(callerHashes[slot], target.hash);
        if (RendezvousSubset.compareRank(worstScores[slot], worstIds[slot], score, target.id) < 0) {
          return true;
        }
      }
      return false;
    }

    /** These bars once the {@code changed} subsets (old, new; either may be null) took effect. */
    Bars with(List<Subset[]> changed, ShardedMap<Subset> subsets) {
      if (changed.isEmpty()) {
        return this;
      }
      int live = this.live;
      for (Subset[] change : changed) {
        live += (change[0] == null ? 1 : 0) - (change[1] == null ? 1 : 0);
      }
      int capacity = Math.max(16, Math.max(used + changed.size(), ids.length));
      if (used + changed.size() > 2 * live + 64) {
        return packed(subsets);
      }
      Bars next =
          new Bars(
              Arrays.copyOf(ids, capacity),
              Arrays.copyOf(callerHashes, capacity),
              Arrays.copyOf(worstScores, capacity),
              Arrays.copyOf(worstIds, capacity),
              Arrays.copyOf(modes, capacity),
              used,
              live,
              slotOf);
      return next.patched(changed);
    }

    private Bars patched(List<Subset[]> changed) {
      ShardedMap.Builder<Integer> slots = slotOf.toBuilder();
      int end = used;
      for (Subset[] change : changed) {
        Subset old = change[0];
        Subset now = change[1];
        if (now == null) {
          Integer slot = slots.get(old.callerId);
          ids[slot] = null;
          worstIds[slot] = null;
          slots.remove(old.callerId);
          continue;
        }
        Integer slot = slots.get(now.callerId);
        if (slot == null) {
          slot = end++;
          slots.put(now.callerId, slot);
        }
        set(slot, now);
      }
      return new Bars(ids, callerHashes, worstScores, worstIds, modes, end, live, slots.build());
    }

    private void set(int slot, Subset subset) {
      ids[slot] = subset.callerId;
      callerHashes[slot] = subset.callerHash;
      if (subset.kept.length < subset.room) {
        modes[slot] = TAKES_ANY;
        worstIds[slot] = null;
      } else if (subset.kept.length == 0) {
        modes[slot] = TAKES_NONE;
        worstIds[slot] = null;
      } else {
        modes[slot] = MUST_BEAT;
        worstScores[slot] = subset.scores[subset.worst];
        worstIds[slot] = subset.kept[subset.worst].id;
      }
    }

    /** Bars for exactly {@code subsets}, one slot each, none empty. */
    private static Bars packed(ShardedMap<Subset> subsets) {
      int live = subsets.size();
      int capacity = Math.max(16, live + live / 2);
      Bars bars =
          new Bars(
              new String[capacity],
              new long[capacity],
              new long[capacity],
              new String[capacity],
              new byte[capacity],
              0,
              live,
              ShardedMap.empty());
      ShardedMap.Builder<Integer> slots = ShardedMap.<Integer>empty().toBuilder();
      int[] end = {0};
      subsets.forEach(
          (id, subset) -> {
            slots.put(id, end[0]);
            bars.set(end[0]++, subset);
          });
      return new Bars(
          bars.ids,
          bars.callerHashes,
          bars.worstScores,
          bars.worstIds,
          bars.modes,
          end[0],
          live,
          slots.build());
    }
  }

  /** True when one of the {@code examine} sidecars is, or was, a caller of the stage. */
  private static boolean callersMoved(
      StageSubsets prev, Set<String> examine, Function<String, SidecarRecord> callerOf) {
    for (String id : examine) {
      Subset old = prev.byCaller.get(id);
      SidecarRecord caller = callerOf.apply(id);
      if (old != null || caller != null) {
        return true;
      }
    }
    return false;
  }

  /** The targets in id order, as a fresh ranking walks them; looked up once, when first needed. */
  private static final class Ordered {
    private final StagePlan stage;
    private final ShardedMap<Target> targets;
    private List<Target> list;

    Ordered(StagePlan stage, ShardedMap<Target> targets) {
      this.stage = stage;
      this.targets = targets;
    }

    List<Target> list() {
      if (list == null) {
        list = new ArrayList<>(stage.targets().size());
        for (SidecarRecord record : stage.targets()) {
          list.add(targets.get(record.sidecarId()));
        }
      }
      return list;
    }
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
      List<String> identities = identitiesOf.get(host.sidecarId());
      return identities == null ? List.of() : identities;
    }
    long hash = RendezvousSubset.targetHash(host.podKey());
    TreeSet<String> identities = new TreeSet<>();
    byCaller.forEach(
        (id, subset) -> {
          if (subset.upstream
              && !subset.identity.isEmpty()
              && (subset.callerId.equals(host.sidecarId())
                  || subset.wouldKeep(hash, host.sidecarId()))) {
            identities.add(subset.identity);
          }
        });
    return List.copyOf(identities);
  }

  private static Set<String> writable(
      ShardedMap.Builder<Set<String>> callerIdsOf, Map<String, Set<String>> copied, String member) {
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

    /** The index of the worst ranked of {@code kept}, which a newcomer must beat; -1 if none. */
    private final int worst;

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
      this.worst = kept.length == 0 ? -1 : worstOf(kept, scores, kept.length);
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
        Ordered ordered,
        int size) {
      List<Target> targets = ordered.list();
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
    Subset refreshedFrom(ShardedMap<Target> targets) {
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
