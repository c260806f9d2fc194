package io.conveyor.webhook.mutation;

import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * Strict parsing of Kubernetes resource quantities ({@code 100m}, {@code 0.5}, {@code 96Mi}, {@code
 * 1e3}), following the grammar of {@code k8s.io/apimachinery/pkg/api/resource}. fabric8's {@link
 * Quantity} accepts more than the API server does; a value the API server would reject must be
 * refused here, with the annotation named, rather than as an opaque pod validation error.
 */
public final class ResourceQuantities {

  private static final Pattern QUANTITY =
      Pattern.compile("\\+?(\\d+(\\.\\d*)?|\\.\\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\\d+)?");

  private ResourceQuantities() {}

  /**
   * Parses a non-negative quantity.
   *
   * @throws IllegalArgumentException when it is not a Kubernetes quantity
   */
  public static Quantity parse(String text) {
    String value = text.strip();
    if (!QUANTITY.matcher(value).matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a Kubernetes quantity");
    }
    Quantity quantity = new Quantity(value);
    quantity.getNumericalAmount(); // rejects what the grammar lets through but cannot be evaluated
    return quantity;
  }

  public static BigDecimal amount(Quantity quantity) {
    return quantity.getNumericalAmount();
  }
}
