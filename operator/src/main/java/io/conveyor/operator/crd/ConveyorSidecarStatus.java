package io.conveyor.operator.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code status} of a ConveyorSidecar: what the pod says combined with what the router knows.
 *
 * <p>Written only when something in it changes. {@code lastHeartbeat} in particular is NOT
 * rewritten on every heartbeat: it is refreshed when the status changes anyway, and otherwise at
 * most once per heartbeat-status period (five minutes by default), like a Node's {@code
 * lastHeartbeatTime}. Liveness is carried by {@code phase} and the {@code Registered} condition,
 * which change as soon as the router expires the sidecar.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@JsonPropertyOrder({
  "observedGeneration",
  "phase",
  "podUID",
  "podPhase",
  "podIP",
  "nodeName",
  "sidecarContainerReady",
  "sidecarRestarts",
  "profile",
  "registered",
  "sidecarId",
  "sidecarState",
  "sidecarVersion",
  "endpoint",
  "registeredAt",
  "lastHeartbeat",
  "serviceNames",
  "services",
  "pipelines",
  "certificateSerial",
  "certificateNotBefore",
  "certificateExpiry",
  "conditions"
})
public class ConveyorSidecarStatus {

  @JsonPropertyDescription("metadata.generation of the object this status was computed for.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Pending, Registered, Ready, Degraded, Lost or Terminating; the conditions say why.")
  private SidecarPhase phase;

  @JsonPropertyDescription("UID of the pod this object describes.")
  private String podUID;

  @JsonPropertyDescription("The pod's own phase (Pending, Running, Succeeded, Failed, Unknown).")
  private String podPhase;

  @JsonPropertyDescription("The pod's IP.")
  private String podIP;

  @JsonPropertyDescription("Node the pod runs on.")
  private String nodeName;

  @JsonPropertyDescription("Whether the conveyor-sidecar container is ready.")
  private Boolean sidecarContainerReady;

  @JsonPropertyDescription("Restarts of the conveyor-sidecar container.")
  private Integer sidecarRestarts;

  @JsonPropertyDescription(
      "JIT profile of the sidecar's JVM, from its container: compact, throughput, or custom (JVM"
          + " options set by hand).")
  private String profile;

  @JsonPropertyDescription("Whether the router currently knows this pod's sidecar.")
  private Boolean registered;

  @JsonPropertyDescription("Id of the sidecar process registered for the pod (kept while Lost).")
  private String sidecarId;

  @JsonPropertyDescription("Lifecycle state the sidecar reported: Starting, Serving or Draining.")
  private String sidecarState;

  @JsonPropertyDescription("Version of the sidecar build.")
  private String sidecarVersion;

  @JsonPropertyDescription("host:port of the sidecar's data plane, dialled by other sidecars.")
  private String endpoint;

  @JsonPropertyDescription("When the sidecar last registered with the router (RFC 3339).")
  private String registeredAt;

  @JsonPropertyDescription(
      "Last heartbeat the operator recorded (RFC 3339). Refreshed with every other status change"
          + " and otherwise at most once per heartbeat-status period (default 5m), never on every"
          + " heartbeat.")
  private String lastHeartbeat;

  @JsonPropertyDescription("Logical names of the discovered services, for display.")
  private List<String> serviceNames = new ArrayList<>();

  @JsonPropertyDescription("Conveyor services the sidecar discovered in the pod.")
  private List<ServiceStatus> services = new ArrayList<>();

  @JsonPropertyDescription("Pipelines (in the pod's namespace) this pod runs a stage of.")
  private List<String> pipelines = new ArrayList<>();

  @JsonPropertyDescription(
      "Serial number (hex) of the last workload certificate the Conveyor CA issued to this pod.")
  private String certificateSerial;

  @JsonPropertyDescription("Start of that certificate's validity (RFC 3339).")
  private String certificateNotBefore;

  @JsonPropertyDescription(
      "End of that certificate's validity (RFC 3339); the sidecar renews it at half-life.")
  private String certificateExpiry;

  @JsonPropertyDescription(
      "PodReady, SidecarContainerReady, Registered, ServicesHealthy and the summary Ready, each"
          + " with a reason and a message; CertificateValid says whether the pod holds a valid"
          + " certificate of the Conveyor CA (Issued, RenewalOverdue, Expired or NotEnrolled).")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public SidecarPhase getPhase() {
    return phase;
  }

  public void setPhase(SidecarPhase phase) {
    this.phase = phase;
  }

  public String getPodUID() {
    return podUID;
  }

  public void setPodUID(String podUID) {
    this.podUID = podUID;
  }

  public String getPodPhase() {
    return podPhase;
  }

  public void setPodPhase(String podPhase) {
    this.podPhase = podPhase;
  }

  public String getPodIP() {
    return podIP;
  }

  public void setPodIP(String podIP) {
    this.podIP = podIP;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public Boolean getSidecarContainerReady() {
    return sidecarContainerReady;
  }

  public void setSidecarContainerReady(Boolean sidecarContainerReady) {
    this.sidecarContainerReady = sidecarContainerReady;
  }

  public String getProfile() {
    return profile;
  }

  public void setProfile(String profile) {
    this.profile = profile;
  }

  public Integer getSidecarRestarts() {
    return sidecarRestarts;
  }

  public void setSidecarRestarts(Integer sidecarRestarts) {
    this.sidecarRestarts = sidecarRestarts;
  }

  public Boolean getRegistered() {
    return registered;
  }

  public void setRegistered(Boolean registered) {
    this.registered = registered;
  }

  public String getSidecarId() {
    return sidecarId;
  }

  public void setSidecarId(String sidecarId) {
    this.sidecarId = sidecarId;
  }

  public String getSidecarState() {
    return sidecarState;
  }

  public void setSidecarState(String sidecarState) {
    this.sidecarState = sidecarState;
  }

  public String getSidecarVersion() {
    return sidecarVersion;
  }

  public void setSidecarVersion(String sidecarVersion) {
    this.sidecarVersion = sidecarVersion;
  }

  public String getEndpoint() {
    return endpoint;
  }

  public void setEndpoint(String endpoint) {
    this.endpoint = endpoint;
  }

  public String getRegisteredAt() {
    return registeredAt;
  }

  public void setRegisteredAt(String registeredAt) {
    this.registeredAt = registeredAt;
  }

  public String getLastHeartbeat() {
    return lastHeartbeat;
  }

  public void setLastHeartbeat(String lastHeartbeat) {
    this.lastHeartbeat = lastHeartbeat;
  }

  public List<String> getServiceNames() {
    return serviceNames;
  }

  public void setServiceNames(List<String> serviceNames) {
    this.serviceNames = serviceNames == null ? new ArrayList<>() : serviceNames;
  }

  public List<ServiceStatus> getServices() {
    return services;
  }

  public void setServices(List<ServiceStatus> services) {
    this.services = services == null ? new ArrayList<>() : services;
  }

  public List<String> getPipelines() {
    return pipelines;
  }

  public void setPipelines(List<String> pipelines) {
    this.pipelines = pipelines == null ? new ArrayList<>() : pipelines;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions == null ? new ArrayList<>() : conditions;
  }

  public String getCertificateSerial() {
    return certificateSerial;
  }

  public void setCertificateSerial(String certificateSerial) {
    this.certificateSerial = certificateSerial;
  }

  public String getCertificateNotBefore() {
    return certificateNotBefore;
  }

  public void setCertificateNotBefore(String certificateNotBefore) {
    this.certificateNotBefore = certificateNotBefore;
  }

  public String getCertificateExpiry() {
    return certificateExpiry;
  }

  public void setCertificateExpiry(String certificateExpiry) {
    this.certificateExpiry = certificateExpiry;
  }
}
