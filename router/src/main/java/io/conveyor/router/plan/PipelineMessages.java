package io.conveyor.router.plan;

import io.conveyor.etl.v1.DeliveryOptions;
import io.conveyor.etl.v1.PipelineAssignment;
import io.conveyor.etl.v1.StageAssignment;
import io.conveyor.etl.v1.StageTarget;
import io.conveyor.router.pipeline.PipelineDefinition;
import io.conveyor.router.pipeline.StageRole;
import io.conveyor.router.registry.SidecarRecord;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The assignment messages of one pipeline plan. Every participant receives the same stages and
 * targets; they differ only in which stages are local. So each stage is built once, each
 * combination of local stages once, and sidecars share the instances.
 *
 * <p>Messages that did not change are carried over from the previous plan as the same instances.
 * The router compares each sidecar's new assignments with the ones it holds; for an unchanged
 * pipeline that comparison is then an identity check rather than a walk over every target, which
 * keeps a change cost linear in the number of sidecars instead of quadratic.
 */
final class PipelineMessages {

  private final PipelineAssignment header;
  private final List<StageAssignment> remote;
  private final List<StageAssignment> local;
  private final List<StageAssignment> bare;
  private final Map<BitSet, PipelineAssignment> byLocalStages;

  private PipelineMessages(
      PipelineAssignment header,
      List<StageAssignment> remote,
      List<StageAssignment> local,
      List<StageAssignment> bare,
      Map<BitSet, PipelineAssignment> byLocalStages) {
    this.header = header;
    this.remote = remote;
    this.local = local;
    this.bare = bare;
    this.byLocalStages = byLocalStages;
  }

  /** Builds the messages of {@code plan}, reusing what {@code previous} (may be null) has. */
  static PipelineMessages of(PipelinePlan plan, PipelineMessages previous) {
    PipelineAssignment header = header(plan.pipeline());
    boolean unchanged =
        previous != null
            && previous.header.equals(header)
            && previous.remote.size() == plan.stages().size();
    List<StageAssignment> remote = new ArrayList<>(plan.stages().size());
    List<StageAssignment> local = new ArrayList<>(plan.stages().size());
    List<StageAssignment> bare = new ArrayList<>(plan.stages().size());
    for (int i = 0; i < plan.stages().size(); i++) {
      StageAssignment built = stage(plan.stages().get(i));
      StageAssignment builtLocal =
          built.toBuilder().setLocal(true).addAllAllowedCallers(allowedCallers(plan, i)).build();
      if (previous != null
          && i < previous.remote.size()
          && previous.remote.get(i).equals(built)
          && previous.local.get(i).equals(builtLocal)) {
        remote.add(previous.remote.get(i));
        local.add(previous.local.get(i));
        bare.add(previous.bare.get(i));
      } else {
        unchanged = false;
        remote.add(built);
        local.add(builtLocal);
        bare.add(built.toBuilder().clearTargets().build());
      }
    }
    return new PipelineMessages(
        header,
        List.copyOf(remote),
        List.copyOf(local),
        List.copyOf(bare),
        unchanged ? previous.byLocalStages : new ConcurrentHashMap<>());
  }

  /** The assignment of a sidecar that hosts the stages set in {@code localStages}. */
  PipelineAssignment forLocalStages(BitSet localStages) {
    return byLocalStages.computeIfAbsent(localStages, this::assemble);
  }

  /**
   * Least exposure: a sidecar learns the targets of the stages it runs (their other replicas), of
   * the stage after each of them (where it forwards) and of the dead-letter sink (where any stage
   * may send a record it gives up on), and of no other stage: those it only knows by name.
   */
  private PipelineAssignment assemble(BitSet localStages) {
    PipelineAssignment.Builder builder = header.toBuilder();
    for (int i = 0; i < remote.size(); i++) {
      if (localStages.get(i)) {
        builder.addStages(local.get(i));
      } else if (forwardsTo(localStages, i)) {
        builder.addStages(remote.get(i));
      } else {
        builder.addStages(bare.get(i));
      }
    }
    return builder.build();
  }

  private boolean forwardsTo(BitSet localStages, int index) {
    boolean deadLetter =
        remote.get(index).getRole() == io.conveyor.etl.v1.StageRole.STAGE_ROLE_DEAD_LETTER;
    return (index > 0 && localStages.get(index - 1)) || (deadLetter && !localStages.isEmpty());
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

  private static StageAssignment stage(StagePlan stage) {
    StageAssignment.Builder builder =
        StageAssignment.newBuilder()
            .setIndex(stage.stage().index())
            .setName(stage.stage().name())
            .setRole(stage.stage().role().toProto());
    for (SidecarRecord target : stage.targets()) {
      builder.addTargets(
          StageTarget.newBuilder()
              .setSidecarId(target.sidecarId())
              .setEndpoint(target.dataPlaneEndpoint())
              .setPodName(target.podName() == null ? "" : target.podName())
              .setNamespace(target.namespace())
              .setIdentity(target.workloadIdentity()));
    }
    return builder.build();
  }

  /**
   * The identities that may forward batches into stage {@code index}: the sidecars of the stage
   * before it, which hand their output on; for the dead-letter sink, the sidecars of every other
   * stage, any of which may give up on a record. Hosts rather than targets: a draining sidecar
   * still forwards what it holds. Sorted, so that an unchanged plan builds an equal message.
   */
  private static SortedSet<String> allowedCallers(PipelinePlan plan, int index) {
    SortedSet<String> callers = new TreeSet<>();
    List<StagePlan> stages = plan.stages();
    if (stages.get(index).stage().role() == StageRole.DEAD_LETTER) {
      for (int i = 0; i < stages.size(); i++) {
        if (i != index) {
          addIdentities(stages.get(i), callers);
        }
      }
    } else if (index > 0) {
      addIdentities(stages.get(index - 1), callers);
    }
    return callers;
  }

  private static void addIdentities(StagePlan stage, SortedSet<String> into) {
    for (SidecarRecord host : stage.hosts()) {
      if (!host.workloadIdentity().isEmpty()) {
        into.add(host.workloadIdentity());
      }
    }
  }
}
