package io.conveyor.router.plan;

import io.conveyor.common.contract.RendezvousSubset;
import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.StageRole;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The assignment messages of one pipeline plan, one per participant: a sidecar is told the stages
 * by name, and the targets only of the stages it runs and of the stage after each (least exposure),
 * and of those only its subset (see {@link RendezvousSubset}).
 *
 * <p>Messages that did not change are carried over from the previous plan as the same instances:
 * the subsets of a stage are derived from the previous ones ({@link StageSubsets}), each subset
 * builds its stage message once, and a participant's message is rebuilt only when one of its stage
 * messages is a new instance. The router compares each sidecar's new assignments with the ones it
 * holds by identity, so an unchanged participant costs a few reference comparisons.
 */
final class PipelineMessages {

  private final PipelineAssignment header;
  private final List<StageAssignment> bare;
  private final List<StageSubsets> subsets;

  /** Per participant (every host of a stage), the indexes of the stages it runs. */
  private final ShardedMap<BitSet> local;

  private final ShardedMap<Assembled> bySidecar;

  /** The participants that run a stage without being its target (see {@link Assembled}). */
  private final Set<String> hostsNotTargets;

  /** The participants whose message may differ from the previous one's; null: any. */
  private final Set<String> redone;

  /**
   * A participant's message, the header and stage messages it was assembled from, the stages it
   * runs, and whether it runs one without being its target (draining: its allowed callers are
   * computed afresh each time, see {@link StageSubsets#allowedCallers}).
   */
  private record Assembled(
      PipelineAssignment header,
      PipelineAssignment message,
      StageAssignment[] parts,
      BitSet runs,
      boolean hostNotTarget) {}

  private PipelineMessages(
      PipelineAssignment header,
      List<StageAssignment> bare,
      List<StageSubsets> subsets,
      ShardedMap<BitSet> local,
      ShardedMap<Assembled> bySidecar,
      Set<String> hostsNotTargets,
      Set<String> redone) {
    this.header = header;
    this.bare = bare;
    this.subsets = subsets;
    this.local = local;
    this.bySidecar = bySidecar;
    this.hostsNotTargets = hostsNotTargets;
    this.redone = redone;
  }

  /**
   * Builds the messages of {@code plan}, reusing what {@code previous} (may be null) has.
   *
   * @param local per participant (every host of a stage), the indexes of the stages it runs
   * @param examine the sidecars whose records may differ from those {@code previous} was built for
   *     (every other participant is the same record running the same stages); null: any
   * @param sidecars the record of each registered sidecar by id
   */
  static PipelineMessages of(
      PipelinePlan plan,
      PipelineMessages previous,
      ShardedMap<BitSet> local,
      Set<String> examine,
      Function<String, SidecarRecord> sidecars,
      int subsetSize) {
    PipelineAssignment header = header(plan.pipeline());
    if (previous != null && previous.header.equals(header)) {
      header = previous.header;
    }
    List<StagePlan> stages = plan.stages();
    int deadLetter = -1;
    List<StageAssignment> bare = new ArrayList<>(stages.size());
    for (int i = 0; i < stages.size(); i++) {
      StageAssignment built = bare(stages.get(i));
      if (previous != null && i < previous.bare.size() && previous.bare.get(i).equals(built)) {
        built = previous.bare.get(i);
      }
      bare.add(built);
      if (stages.get(i).stage().role() == StageRole.DEAD_LETTER) {
        deadLetter = i;
      }
    }
    if (examine == null) {
      Set<String> everyone = new HashSet<>();
      local.forEach((id, runs) -> everyone.add(id));
      if (previous != null) {
        previous.local.forEach((id, runs) -> everyone.add(id));
      }
      examine = everyone;
    }
    List<StageSubsets> subsets = new ArrayList<>(stages.size());
    for (int i = 0; i < stages.size(); i++) {
      StageSubsets before =
          previous != null && i < previous.subsets.size() ? previous.subsets.get(i) : null;
      subsets.add(
          StageSubsets.compute(
              before,
              stages.get(i),
              examine,
              callerOf(i, i == deadLetter, local, sidecars),
              upstream(i, i == deadLetter, local),
              subsetSize));
    }
    boolean derived =
        previous != null
            && previous.header == header
            && previous.bare.equals(bare) // equal lists of the same instances, see above
            && previous.bare.size() == bare.size()
            && subsets.stream().allMatch(t -> t.changedIds() != null);
    ShardedMap.Builder<Assembled> bySidecar;
    Set<String> hostsNotTargets = new HashSet<>();
    Set<String> redone;
    if (!derived) {
      bySidecar = ShardedMap.<Assembled>empty().toBuilder();
      PipelineAssignment head = header;
      int dead = deadLetter;
      local.forEach(
          (id, runs) -> {
            Assembled held = previous == null ? null : previous.bySidecar.get(id);
            Assembled assembled = assemble(id, runs, head, bare, subsets, sidecars, dead, held);
            bySidecar.put(id, assembled);
            if (assembled.hostNotTarget) {
              hostsNotTargets.add(id);
            }
          });
      redone = null;
    } else {
      // Only the participants some stage table names as changed, whose records changed, or whose
      // allowed callers are computed afresh can have another message: the others keep theirs
      // without a look at their stages.
      bySidecar = previous.bySidecar.toBuilder();
      hostsNotTargets.addAll(previous.hostsNotTargets);
      Set<String> redo = new HashSet<>(examine);
      subsets.forEach(t -> redo.addAll(t.changedIds()));
      redo.addAll(previous.hostsNotTargets);
      for (String id : redo) {
        BitSet runs = local.get(id);
        if (runs == null) {
          bySidecar.remove(id);
          hostsNotTargets.remove(id);
          continue;
        }
        Assembled assembled =
            assemble(
                id, runs, header, bare, subsets, sidecars, deadLetter, previous.bySidecar.get(id));
        bySidecar.put(id, assembled);
        if (assembled.hostNotTarget) {
          hostsNotTargets.add(id);
        } else {
          hostsNotTargets.remove(id);
        }
      }
      redone = redo;
    }
    return new PipelineMessages(
        header,
        List.copyOf(bare),
        List.copyOf(subsets),
        local,
        bySidecar.build(),
        Set.copyOf(hostsNotTargets),
        redone);
  }

  /** A participant's message, the previous instance ({@code held}) when nothing in it changed. */
  private static Assembled assemble(
      String id,
      BitSet runs,
      PipelineAssignment header,
      List<StageAssignment> bare,
      List<StageSubsets> subsets,
      Function<String, SidecarRecord> sidecars,
      int deadLetter,
      Assembled held) {
    StageAssignment[] parts = new StageAssignment[bare.size()];
    boolean hostNotTarget = false;
    for (int i = 0; i < parts.length; i++) {
      if (runs.get(i)) {
        StageSubsets stage = subsets.get(i);
        hostNotTarget |= !stage.isTarget(id);
        parts[i] = stage.of(id).local(bare.get(i), stage.allowedCallers(sidecars.apply(id)));
      } else if ((i > 0 && runs.get(i - 1)) || i == deadLetter) {
        parts[i] = subsets.get(i).of(id).remote(bare.get(i));
      } else {
        parts[i] = bare.get(i);
      }
    }
    if (held != null && held.header == header && sameParts(held, parts)) {
      return held.hostNotTarget == hostNotTarget && held.runs.equals(runs)
          ? held
          : new Assembled(header, held.message, parts, runs, hostNotTarget);
    }
    PipelineAssignment.Builder builder = header.toBuilder();
    for (StageAssignment part : parts) {
      builder.addStages(part);
    }
    return new Assembled(header, builder.build(), parts, runs, hostNotTarget);
  }

  /** Per participant, the indexes of the stages it runs: for the next plan to start from. */
  ShardedMap<BitSet> local() {
    return local;
  }

  /** The participants whose message may be another instance than before; null: any of them. */
  Set<String> redone() {
    return redone;
  }

  /** The assignment of a participant; null for a sidecar that is not one. */
  PipelineAssignment forSidecar(String sidecarId) {
    Assembled assembled = bySidecar.get(sidecarId);
    return assembled == null ? null : assembled.message;
  }

  /**
   * Who is told about the targets of stage {@code index}: its hosts (their fellow replicas), the
   * hosts of the stage before (they forward to it) and, for the dead-letter sink, every host. The
   * record of such a sidecar, null for any other.
   */
  private static Function<String, SidecarRecord> callerOf(
      int index,
      boolean deadLetter,
      ShardedMap<BitSet> local,
      Function<String, SidecarRecord> sidecars) {
    return id -> {
      BitSet runs = local.get(id);
      if (runs == null) {
        return null;
      }
      boolean told = deadLetter || runs.get(index) || (index > 0 && runs.get(index - 1));
      return told ? sidecars.apply(id) : null;
    };
  }

  /**
   * The callers that forward batches into stage {@code index}, whose identities its hosts accept:
   * the hosts of the stage before it; for the dead-letter sink, the hosts of every other stage, any
   * of which may give up on a record. Hosts rather than targets: a draining sidecar still forwards
   * what it holds.
   */
  private static Predicate<String> upstream(
      int index, boolean deadLetter, ShardedMap<BitSet> local) {
    if (deadLetter) {
      return id -> {
        BitSet runs = local.get(id);
        return runs.cardinality() > (runs.get(index) ? 1 : 0);
      };
    }
    if (index == 0) {
      return id -> false;
    }
    return id -> local.get(id).get(index - 1);
  }

  private static boolean sameParts(Assembled held, StageAssignment[] parts) {
    if (held.parts.length != parts.length) {
      return false;
    }
    for (int i = 0; i < parts.length; i++) {
      if (held.parts[i] != parts[i]) {
        return false;
      }
    }
    return true;
  }

  private static PipelineAssignment header(PipelineDefinition pipeline) {
    io.conveyor.router.pipeline.DeliveryOptions delivery = pipeline.delivery();
    return PipelineAssignment.newBuilder()
        .setPipeline(pipeline.name())
        .setGeneration(pipeline.generation())
        .setDelivery(
            DeliveryOptions.newBuilder()
                .setMaxBatchSize(delivery.maxBatchSize())
                .setMaxRetries(delivery.maxRetries())
                .setRetryBackoffMillis(delivery.retryBackoff().toMillis())
                .setBatchTimeoutMillis(delivery.batchTimeout().toMillis()))
        .build();
  }

  /** The stage by name alone: what a sidecar that neither runs it nor forwards to it sees. */
  private static StageAssignment bare(StagePlan stage) {
    return StageAssignment.newBuilder()
        .setIndex(stage.stage().index())
        .setName(stage.stage().name())
        .setRole(stage.stage().role().toProto())
        .build();
  }
}
