package io.conveyor.operator.crd;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * One per injected pod, same name and namespace, owned by the pod. It has no spec: the operator
 * writes it and only its status carries information.
 */
@Group(ConveyorLabels.GROUP)
@Version("v1")
@Kind("ConveyorSidecar")
@Plural("conveyorsidecars")
@Singular("conveyorsidecar")
@ShortNames("csc")
@Categories("conveyor")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "Pod IP", jsonPath = ".status.podIP")
@AdditionalPrinterColumn(name = "Services", jsonPath = ".status.serviceNames")
@AdditionalPrinterColumn(name = "Pipelines", jsonPath = ".status.pipelines")
@AdditionalPrinterColumn(
    name = "Last Heartbeat",
    jsonPath = ".status.lastHeartbeat",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Node", jsonPath = ".status.nodeName", priority = 1)
@AdditionalPrinterColumn(name = "Sidecar", jsonPath = ".status.sidecarId", priority = 1)
@AdditionalPrinterColumn(name = "Profile", jsonPath = ".status.profile", priority = 1)
@AdditionalPrinterColumn(
    name = "Restarts",
    jsonPath = ".status.sidecarRestarts",
    type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
// A string, not a date: kubectl prints a date column as an age, and a time to come as <invalid>.
@AdditionalPrinterColumn(
    name = "Certificate Expiry",
    jsonPath = ".status.certificateExpiry",
    priority = 1)
public class ConveyorSidecar extends CustomResource<Void, ConveyorSidecarStatus>
    implements Namespaced {

  private static final long serialVersionUID = 1L;
}
