package io.conveyor.router.plan;

import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.StageRole;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Part of the planner as it was (commit d6a8fc8), the oracle of {@link
 * IncrementalPlanningPropertyTest}; see {@link LegacyAssignmentPlanner}.
 *
 * <p>The assignment messages of one pipeline plan, one per participant: a sidecar is told the
 * stages by name, and the targets only of the stages it runs and of the stage after each (least
 * exposure), and of those only its subset (see {@link RendezvousSubset}).
 *
 * <p>Messages that did not change are carried over from the previous plan as the same instances:
 * the subsets of a stage are derived from the previous ones ({@link LegacyStageSubsets}), each
 * subset builds its stage message once, and a participant's message is rebuilt only when one of its
 * stage messages is a new instance. The router compares each sidecar's new assignments with the
 * ones it holds by identity, so an unchanged participant costs a few reference comparisons.
 */
final class LegacyPipelineMessages {

  private final PipelineAssignment header;
  private final List<StageAssignment> bare;
  private final List<LegacyStageSubsets> subsets;
  private final Map<String, Assembled> bySidecar;

  /**
   * A participant's message, the header and stage messages it was assembled from, the stages it
   * runs, and whether it runs one without being its target (draining: its allowed callers are
   * computed afresh each time, see {@link LegacyStageSubsets#allowedCallers}).
   */
  private record Assembled(
      PipelineAssignment header,
      PipelineAssignment message,
      StageAssignment[] parts,
      BitSet runs,
      boolean hostNotTarget) {}

  private LegacyPipelineMessages(
      PipelineAssignment header,
      List<StageAssignment> bare,
      List<LegacyStageSubsets> subsets,
      Map<String, Assembled> bySidecar) {
    this.header = header;
    this.bare = bare;
    this.subsets = subsets;
    this.bySidecar = bySidecar;
  }

  /**
   * Builds the messages of {@code plan}, reusing what {@code previous} (may be null) has.
   *
   * @param local per participant (every host of a stage), the indexes of the stages it runs
   */
  static LegacyPipelineMessages of(
      PipelinePlan plan,
      LegacyPipelineMessages previous,
      Map<String, BitSet> local,
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
    Map<String, SidecarRecord> hosts = new HashMap<>();
    for (StagePlan stage : stages) {
      for (SidecarRecord host : stage.hosts()) {
        hosts.putIfAbsent(host.sidecarId(), host);
      }
    }
    List<LegacyStageSubsets> subsets = new ArrayList<>(stages.size());
    for (int i = 0; i < stages.size(); i++) {
      LegacyStageSubsets before =
          previous != null && i < previous.subsets.size() ? previous.subsets.get(i) : null;
      subsets.add(
          LegacyStageSubsets.compute(
              before,
              stages.get(i),
              callers(stages, i, i == deadLetter, hosts, local),
              upstream(i, i == deadLetter, local),
              subsetSize));
    }
    boolean derived =
        previous != null
            && previous.header == header
            && previous.bare.equals(bare) // equal lists of the same instances, see above
            && previous.bare.size() == bare.size()
            && subsets.stream().allMatch(t -> t.changedIds() != null);
    Map<String, Assembled> bySidecar;
    if (!derived) {
      bySidecar = new HashMap<>(Math.max(16, local.size() * 4 / 3 + 1));
      for (Map.Entry<String, BitSet> participant : local.entrySet()) {
        String id = participant.getKey();
        Assembled held = previous == null ? null : previous.bySidecar.get(id);
        bySidecar.put(
            id,
            assemble(id, participant.getValue(), header, bare, subsets, hosts, deadLetter, held));
      }
    } else {
      // Only the participants some stage table names as changed, or whose stages changed, can have
      // another message: the others keep theirs without a look at their stages.
      bySidecar = new HashMap<>(previous.bySidecar);
      Set<String> redo = new HashSet<>();
      subsets.forEach(t -> redo.addAll(t.changedIds()));
      int kept = 0;
      for (Map.Entry<String, BitSet> participant : local.entrySet()) {
        Assembled held = previous.bySidecar.get(participant.getKey());
        if (held == null || held.hostNotTarget || !held.runs.equals(participant.getValue())) {
          redo.add(participant.getKey());
        }
        if (held != null) {
          kept++;
        }
      }
      if (kept != previous.bySidecar.size()) {
        bySidecar.keySet().retainAll(local.keySet());
      }
      for (String id : redo) {
        BitSet runs = local.get(id);
        if (runs != null) {
          bySidecar.put(
              id,
              assemble(
                  id, runs, header, bare, subsets, hosts, deadLetter, previous.bySidecar.get(id)));
        }
      }
    }
    return new LegacyPipelineMessages(header, List.copyOf(bare), List.copyOf(subsets), bySidecar);
  }

  /** A participant's message, the previous instance ({@code held}) when nothing in it changed. */
  private static Assembled assemble(
      String id,
      BitSet runs,
      PipelineAssignment header,
      List<StageAssignment> bare,
      List<LegacyStageSubsets> subsets,
      Map<String, SidecarRecord> hosts,
      int deadLetter,
      Assembled held) {
    StageAssignment[] parts = new StageAssignment[bare.size()];
    boolean hostNotTarget = false;
    for (int i = 0; i < parts.length; i++) {
      if (runs.get(i)) {
        LegacyStageSubsets stage = subsets.get(i);
        hostNotTarget |= !stage.isTarget(id);
        parts[i] = stage.of(id).local(bare.get(i), stage.allowedCallers(hosts.get(id)));
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

  /** The assignment of a participant; null for a sidecar that is not one. */
  PipelineAssignment forSidecar(String sidecarId) {
    Assembled assembled = bySidecar.get(sidecarId);
    return assembled == null ? null : assembled.message;
  }

  /**
   * Who is told about the targets of stage {@code index}: its hosts (their fellow replicas), the
   * hosts of the stage before (they forward to it) and, for the dead-letter sink, every host.
   */
  private static List<SidecarRecord> callers(
      List<StagePlan> stages,
      int index,
      boolean deadLetter,
      Map<String, SidecarRecord> hosts,
      Map<String, BitSet> local) {
    if (deadLetter) {
      return List.copyOf(hosts.values());
    }
    List<SidecarRecord> callers = new ArrayList<>(stages.get(index).hosts());
    if (index > 0) {
      for (SidecarRecord host : stages.get(index - 1).hosts()) {
        if (!local.get(host.sidecarId()).get(index)) {
          callers.add(host);
        }
      }
    }
    return callers;
  }

  /**
   * The callers that forward batches into stage {@code index}, whose identities its hosts accept:
   * the hosts of the stage before it; for the dead-letter sink, the hosts of every other stage, any
   * of which may give up on a record. Hosts rather than targets: a draining sidecar still forwards
   * what it holds.
   */
  private static Predicate<String> upstream(
      int index, boolean deadLetter, Map<String, BitSet> local) {
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
