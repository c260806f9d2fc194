package io.conveyor.webhook.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The test kubelet resolves what the real one does, the way it does. */
class KubeletEnvironmentTest {

  private static final Pod POD =
      new PodBuilder()
          .withNewMetadata()
          .withName("orders-0")
          .withNamespace("shop")
          .withUid("0b9f6a6e-3c1e-4a8e-9d3c-2f1d4c5b6a7e")
          .addToLabels("app", "orders")
          .endMetadata()
          .withNewSpec()
          .withNodeName("node-1")
          .withServiceAccountName("orders")
          .endSpec()
          .withNewStatus()
          .withPodIP("10.244.1.17")
          .addNewPodIP("10.244.1.17")
          .addNewPodIP("fd00:10:244::17")
          .withHostIP("192.168.0.10")
          .endStatus()
          .build();

  private static final Service GRPC =
      new ServiceBuilder()
          .withNewMetadata()
          .withName("grpc")
          .endMetadata()
          .withNewSpec()
          .withClusterIP("10.96.0.12")
          .addNewPort()
          .withName("api")
          .withPort(50051)
          .withProtocol("TCP")
          .endPort()
          .endSpec()
          .build();

  @Test
  void downwardApiFieldsAreReadFromTheRunningPod() {
    Container c =
        new ContainerBuilder()
            .withName("c")
            .addNewEnv()
            .withName("NAME")
            .withNewValueFrom()
            .withNewFieldRef("v1", "metadata.name")
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("UID")
            .withNewValueFrom()
            .withNewFieldRef("v1", "metadata.uid")
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("IP")
            .withNewValueFrom()
            .withNewFieldRef(null, "status.podIP")
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("IPS")
            .withNewValueFrom()
            .withNewFieldRef("v1", "status.podIPs")
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("APP")
            .withNewValueFrom()
            .withNewFieldRef("v1", "metadata.labels['app']")
            .endValueFrom()
            .endEnv()
            .build();

    assertThat(KubeletEnvironment.resolve(POD, c))
        .containsExactly(
            Map.entry("NAME", "orders-0"),
            Map.entry("UID", "0b9f6a6e-3c1e-4a8e-9d3c-2f1d4c5b6a7e"),
            Map.entry("IP", "10.244.1.17"),
            Map.entry("IPS", "10.244.1.17,fd00:10:244::17"),
            Map.entry("APP", "orders"));
  }

  @Test
  void referencesAreExpandedAgainstEarlierVariablesAndServiceLinksOnly() {
    Container c =
        new ContainerBuilder()
            .withName("c")
            .addNewEnv()
            .withName("HOST")
            .withValue("router")
            .endEnv()
            .addNewEnv()
            .withName("ENDPOINT")
            .withValue("$(HOST):$(GRPC_SERVICE_PORT) $(LATER) $$(HOST) $HOST $(open")
            .endEnv()
            .addNewEnv()
            .withName("LATER")
            .withValue("x")
            .endEnv()
            .build();

    assertThat(KubeletEnvironment.resolve(POD, c, List.of(GRPC)))
        .containsEntry("ENDPOINT", "router:50051 $(LATER) $(HOST) $HOST $(open");
  }

  @Test
  void serviceLinksAreAddedOnlyUnderNamesTheContainerDoesNotDefine() {
    Container c =
        new ContainerBuilder()
            .withName("c")
            .addNewEnv()
            .withName("GRPC_PORT")
            .withValue("9091")
            .endEnv()
            .build();

    Map<String, String> env = KubeletEnvironment.resolve(POD, c, List.of(GRPC));

    assertThat(env)
        .containsEntry("GRPC_PORT", "9091")
        .containsEntry("GRPC_SERVICE_HOST", "10.96.0.12")
        .containsEntry("GRPC_SERVICE_PORT", "50051")
        .containsEntry("GRPC_SERVICE_PORT_API", "50051")
        .containsEntry("GRPC_PORT_50051_TCP", "tcp://10.96.0.12:50051")
        .containsEntry("GRPC_PORT_50051_TCP_ADDR", "10.96.0.12");
    assertThat(KubeletEnvironment.serviceLinks(List.of(GRPC)))
        .containsEntry("GRPC_PORT", "tcp://10.96.0.12:50051");
  }

  @Test
  void whatNeedsAClusterIsRefusedNotSkipped() {
    Container secret =
        new ContainerBuilder()
            .withName("c")
            .addNewEnv()
            .withName("TOKEN")
            .withNewValueFrom()
            .withNewSecretKeyRef("token", "creds", false)
            .endValueFrom()
            .endEnv()
            .build();
    Container unknownField =
        new ContainerBuilder()
            .withName("c")
            .addNewEnv()
            .withName("X")
            .withNewValueFrom()
            .withNewFieldRef("v1", "spec.hostname")
            .endValueFrom()
            .endEnv()
            .build();

    assertThatThrownBy(() -> KubeletEnvironment.resolve(POD, secret)).hasMessageContaining("TOKEN");
    assertThatThrownBy(() -> KubeletEnvironment.resolve(POD, unknownField))
        .hasMessageContaining("spec.hostname");
  }
}
