package io.conveyor.operator.reconciler;

import io.conveyor.operator.crd.ConveyorLabels;
import io.conveyor.operator.crd.ConveyorSidecar;
import io.conveyor.operator.crd.ConveyorSidecarStatus;
import io.conveyor.operator.identity.IssuedCertificates;
import io.conveyor.operator.metrics.OperatorMetrics;
import io.conveyor.operator.router.RouterEventBridge;
import io.conveyor.operator.router.RouterWarmUp;
import io.conveyor.operator.status.CertificateCondition;
import io.conveyor.operator.status.PodFacts;
import io.conveyor.operator.status.RouterFacts;
import io.conveyor.operator.status.SidecarStatusCalculator;
import io.conveyor.operator.status.StatusComparison;
import io.conveyor.router.registry.SidecarRecord;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one ConveyorSidecar per injected pod: creates it with an owner reference to the pod, writes
 * its status when (and only when) the status changes, and deletes it when the pod goes away.
 *
 * <p>Pods carry {@code metadata.generation} and their status changes do not bump it, so event
 * processing is not generation-aware. The reconciler is also called for deletions (instead of
 * holding a finalizer on users' pods); a ConveyorSidecar missed that way, e.g. while no replica was
 * leading, is removed by {@link #sweepOrphans}.
 *
 * <p>Events come from the pods, from the ConveyorSidecar objects (someone deleted or edited one),
 * from the router's registry through {@link RouterEventBridge}, from the CA when it issued a pod a
 * certificate ({@link IssuedCertificates}), and from the trust bundle ConfigMaps ({@link
 * TrustBundlePublisher}), which each reconcile keeps right in the pod's namespace.
 */
@ControllerConfiguration(
    name = SidecarPodReconciler.NAME,
    generationAwareEventProcessing = false,
    triggerReconcilerOnAllEvents = true,
    informer = @Informer(labelSelector = ConveyorLabels.INJECTED_SELECTOR))
public final class SidecarPodReconciler implements Reconciler<Pod> {

  public static final String NAME = "conveyor-sidecars";

  private static final Logger log = LoggerFactory.getLogger(SidecarPodReconciler.class);

  private final RouterEventBridge router;
  private final SidecarStatusCalculator calculator;
  private final RouterWarmUp warmUp;
  private final OperatorMetrics metrics;
  private final Clock clock;
  private final IssuedCertificates certificates;
  private final TrustBundlePublisher trustBundle;

  private volatile InformerEventSource<ConveyorSidecar, Pod> sidecars;
  private volatile InformerEventSource<ConfigMap, Pod> trustBundles;
  private volatile IndexerResourceCache<Pod> pods;

  public SidecarPodReconciler(
      RouterEventBridge router,
      SidecarStatusCalculator calculator,
      RouterWarmUp warmUp,
      OperatorMetrics metrics,
      Clock clock,
      IssuedCertificates certificates,
      TrustBundlePublisher trustBundle) {
    this.router = router;
    this.calculator = calculator;
    this.warmUp = warmUp;
    this.metrics = metrics;
    this.clock = clock;
    this.certificates = certificates;
    this.trustBundle = trustBundle;
  }

  @Override
  public List<EventSource<?, Pod>> prepareEventSources(EventSourceContext<Pod> context) {
    InformerEventSource<ConveyorSidecar, Pod> sidecarObjects =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ConveyorSidecar.class, Pod.class)
                .withName("conveyor-sidecar-objects")
                .withLabelSelector(ConveyorLabels.MANAGED_SELECTOR)
                .withNamespacesInheritedFromController()
                .withSecondaryToPrimaryMapper(cs -> Set.of(ResourceID.fromResource(cs)))
                .withPrimaryToSecondaryMapper((Pod pod) -> Set.of(ResourceID.fromResource(pod)))
                .build(),
            context);
    SimpleInboundEventSource<Pod> registry = new SimpleInboundEventSource<>("router-registry");
    router.onPodEvent(registry::propagateEvent);
    IndexerResourceCache<Pod> primaries = context.getPrimaryCache();
    // A trust bundle deleted or edited brings back every pod of its namespace: whichever runs first
    // puts it right, the others find it right in the cache.
    InformerEventSource<ConfigMap, Pod> bundles =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ConfigMap.class, Pod.class)
                .withName("trust-bundles")
                .withLabelSelector(ConveyorLabels.MANAGED_SELECTOR)
                .withNamespacesInheritedFromController()
                .withSecondaryToPrimaryMapper(
                    (ConfigMap cm) ->
                        TrustBundlePublisher.CONFIG_MAP.equals(cm.getMetadata().getName())
                            ? primaries
                                .list(cm.getMetadata().getNamespace())
                                .map(ResourceID::fromResource)
                                .collect(Collectors.toSet())
                            : Set.of())
                .withPrimaryToSecondaryMapper(
                    (Pod pod) ->
                        Set.of(
                            new ResourceID(
                                TrustBundlePublisher.CONFIG_MAP, pod.getMetadata().getNamespace())))
                .build(),
            context);
    SimpleInboundEventSource<Pod> issued = new SimpleInboundEventSource<>("certificates-issued");
    certificates.onIssued(
        pod -> issued.propagateEvent(new ResourceID(pod.getName(), pod.getNamespace())));
    this.sidecars = sidecarObjects;
    this.trustBundles = bundles;
    this.pods = primaries;
    return List.of(sidecarObjects, registry, bundles, issued);
  }

  @Override
  public UpdateControl<Pod> reconcile(Pod pod, Context<Pod> context) {
    ResourceID id = ResourceID.fromResource(pod);
    String key = key(id);
    KubernetesClient client = context.getClient();
    Optional<ConveyorSidecar> existing = sidecars.get(id);

    if (context.isPrimaryResourceDeleted()) {
      existing
          .filter(cs -> ownedBy(cs, pod.getMetadata().getUid()))
          .ifPresent(cs -> delete(client, cs, "its pod was deleted or lost the injection label"));
      metrics.sidecarPhases().remove(key);
      certificates.forget(pod.getMetadata().getUid());
      return UpdateControl.noUpdate();
    }

    trustBundle.publish(client, id.getNamespace().orElseThrow(), trustBundles);

    if (existing.isPresent() && !ownedBy(existing.get(), pod.getMetadata().getUid())) {
      // A new pod with a reused name (StatefulSet): the object describes the previous pod. Its
      // deletion brings an event, and the next reconcile creates the object for this pod.
      delete(client, existing.get(), "it describes an earlier pod of the same name");
      return UpdateControl.noUpdate();
    }

    ConveyorSidecar object;
    if (existing.isPresent()) {
      object = existing.get();
    } else {
      Optional<ConveyorSidecar> created = create(client, pod);
      if (created.isEmpty()) {
        return UpdateControl.noUpdate();
      }
      object = created.get();
    }

    PodFacts podFacts = PodFacts.of(pod);
    Optional<SidecarRecord> record =
        router.sidecarOf(podFacts.uid(), podFacts.namespace(), podFacts.name());
    RouterFacts routerFacts =
        new RouterFacts(
            record,
            record.map(r -> router.pipelinesOf(r.sidecarId())).orElse(List.of()),
            warmUp.until());
    Long generation = object.getMetadata().getGeneration();
    SidecarStatusCalculator.Result result =
        calculator.compute(
            podFacts,
            routerFacts,
            object.getStatus(),
            generation == null ? 1 : generation,
            clock.instant());
    Optional<Duration> certificateRecheck =
        CertificateCondition.apply(
            result.status(),
            object.getStatus(),
            certificates.lastIssuedTo(podFacts.uid()),
            generation == null ? 1 : generation,
            clock.instant());
    metrics.sidecarPhases().set(key, result.status().getPhase());

    if (!StatusComparison.same(result.status(), object.getStatus())) {
      writeStatus(client, object, result.status());
    }
    UpdateControl<Pod> control = UpdateControl.noUpdate();
    CertificateCondition.sooner(result.recheckAfter(), certificateRecheck)
        .ifPresent(control::rescheduleAfter);
    return control;
  }

  /**
   * Deletes the ConveyorSidecar objects whose pod is gone (or no longer injected). Pod deletions
   * reach {@link #reconcile} as events; this catches the ones that happened while no replica was
   * leading. Runs once at the start of each leader term, when the caches are in sync. A pod absent
   * from the cache is looked up once more before its object is deleted, since the two caches are
   * filled by different watches.
   *
   * @return the number of objects deleted
   */
  public int sweepOrphans(KubernetesClient client) {
    int deleted = 0;
    for (ConveyorSidecar cs : sidecars.list().toList()) {
      ResourceID id = ResourceID.fromResource(cs);
      String ownerUid = ownerUid(cs);
      boolean podCached =
          pods.get(id).map(p -> p.getMetadata().getUid().equals(ownerUid)).orElse(false);
      if (podCached) {
        continue;
      }
      Pod live =
          client
              .pods()
              .inNamespace(cs.getMetadata().getNamespace())
              .withName(cs.getMetadata().getName())
              .get();
      boolean podAlive =
          live != null
              && live.getMetadata().getUid().equals(ownerUid)
              && SidecarObjects.injected(live);
      if (!podAlive && delete(client, cs, "its pod is gone")) {
        deleted++;
      }
    }
    return deleted;
  }

  // ------------------------------------------------------------------ writes

  private Optional<ConveyorSidecar> create(KubernetesClient client, Pod pod) {
    ConveyorSidecar object = SidecarObjects.newFor(pod);
    try {
      ConveyorSidecar created = client.resource(object).create();
      metrics.apiWrite("ConveyorSidecar", "create");
      sidecars.handleRecentResourceCreate(ResourceID.fromResource(created), created);
      log.info("created ConveyorSidecar for pod {}", key(ResourceID.fromResource(pod)));
      return Optional.of(created);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        // Already there and not in the cache yet: its add event brings us back.
        log.debug("ConveyorSidecar {} already exists", key(ResourceID.fromResource(pod)));
        return Optional.empty();
      }
      throw e;
    }
  }

  private void writeStatus(
      KubernetesClient client, ConveyorSidecar current, ConveyorSidecarStatus status) {
    ConveyorSidecar patch = new ConveyorSidecar();
    patch.setMetadata(
        new ObjectMetaBuilder()
            .withName(current.getMetadata().getName())
            .withNamespace(current.getMetadata().getNamespace())
            .withResourceVersion(current.getMetadata().getResourceVersion())
            .build());
    patch.setStatus(status);
    try {
      // A replace of the status subresource, guarded by the resourceVersion the status was
      // computed from: a concurrent change makes it fail with 409, and the event of that change
      // brings a new reconcile computed from the newer object.
      ConveyorSidecar updated = client.resource(patch).updateStatus();
      metrics.apiWrite("ConveyorSidecar", "status");
      sidecars.handleRecentResourceUpdate(ResourceID.fromResource(updated), updated, current);
      log.debug("status of ConveyorSidecar is now {}", status.getPhase());
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        log.debug("status write skipped ({}); a newer event follows", e.getCode());
        return;
      }
      throw e;
    }
  }

  private boolean delete(KubernetesClient client, ConveyorSidecar cs, String why) {
    try {
      client
          .resources(ConveyorSidecar.class)
          .inNamespace(cs.getMetadata().getNamespace())
          .withName(cs.getMetadata().getName())
          .delete();
      metrics.apiWrite("ConveyorSidecar", "delete");
      log.info("deleted ConveyorSidecar {}: {}", key(ResourceID.fromResource(cs)), why);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  private static boolean ownedBy(ConveyorSidecar cs, String podUid) {
    return podUid != null && podUid.equals(ownerUid(cs));
  }

  private static String ownerUid(ConveyorSidecar cs) {
    return cs.getMetadata().getOwnerReferences() == null
        ? null
        : cs.getMetadata().getOwnerReferences().stream()
            .filter(o -> "Pod".equals(o.getKind()) && Boolean.TRUE.equals(o.getController()))
            .map(o -> o.getUid())
            .findFirst()
            .orElse(null);
  }

  private static String key(ResourceID id) {
    return id.getNamespace().orElse("") + "/" + id.getName();
  }
}
