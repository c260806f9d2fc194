package io.conveyor.common.contract;

import java.util.Locale;
import java.util.Optional;

/**
 * How a sidecar's JVM trades memory and start-up against throughput: its JIT compilers. A pod picks
 * one the way a mesh lets a pod size its proxy (the injector's annotation {@code
 * conveyor.etl/sidecar-profile}); everything else about the JVM is {@code sidecar/jvm.options}, the
 * same for both.
 *
 * <p>Each profile is a java {@code @argfile} of its own, {@code sidecar/profiles/NAME.options},
 * which the image ships in {@code /app/profiles/}. The image's entrypoint does not name one: the
 * JVM reads {@link #JVM_OPTIONS_VARIABLE}, which the image sets to the compact profile and the
 * injector sets to the pod's profile. (The launcher puts that variable's arguments before the
 * command line's, so a flag in {@code jvm.options} would override it: the JIT flags live only in
 * the profiles.) Local runs name the file on the command line instead.
 */
public enum SidecarProfile {
  /**
   * The C1 compiler alone: the quickest start and the least memory, at about 1.5 times the CPU per
   * record of {@link #THROUGHPUT} once both are warm (README, "Benchmark").
   */
  COMPACT,
  /**
   * The JVM's tiered compilation, C1 then C2, with two compiler threads: the lowest CPU per record
   * and added latency once warm, at about 30 MiB more resident memory per sidecar.
   */
  THROUGHPUT;

  /**
   * The variable the JVM's launcher reads arguments from before the command line's ({@code
   * JDK_JAVA_OPTIONS}, Java 9+); the injector sets it to {@link #jvmOptionsArgument()}.
   */
  public static final String JVM_OPTIONS_VARIABLE = "JDK_JAVA_OPTIONS";

  /** Where the image keeps the profiles' argfiles. */
  public static final String IMAGE_FOLDER = "/app/profiles";

  /** Where the repository keeps them, relative to its root. */
  public static final String SOURCE_FOLDER = "sidecar/profiles";

  /** The value in annotations and configuration: {@code compact} or {@code throughput}. */
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The argfile's name, the same in the repository and in the image. */
  public String fileName() {
    return value() + ".options";
  }

  /** What {@link #JVM_OPTIONS_VARIABLE} holds in a sidecar container running this profile. */
  public String jvmOptionsArgument() {
    return "@" + IMAGE_FOLDER + "/" + fileName();
  }

  /** Parses {@code compact} or {@code throughput} (exactly, lower case). */
  public static Optional<SidecarProfile> parse(String value) {
    for (SidecarProfile profile : values()) {
      if (profile.value().equals(value)) {
        return Optional.of(profile);
      }
    }
    return Optional.empty();
  }
}
