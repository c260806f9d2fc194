package io.conveyor.common.contract;

import java.util.Locale;
import java.util.Optional;

/**
 * How a sidecar's JVM trades memory and start-up against throughput: its JIT compilers. A pod picks
 * one the way a mesh lets a pod size its proxy (the injector's annotation {@code
 * conveyor.etl/sidecar-profile}); everything else about the JVM is {@code sidecar/jvm.options}, the
 * same for both. Measured in the README, "Sidecar profiles".
 *
 * <p>Each profile is a java {@code @argfile} of its own, {@code sidecar/profiles/NAME.options},
 * which the image ships in {@link #IMAGE_FOLDER}. The image's entrypoint does not name one: the JVM
 * reads {@link #JVM_OPTIONS_VARIABLE}, which the image sets to the compact profile and the injector
 * sets to the pod's profile. The java launcher puts that variable's arguments before the command
 * line's, so a flag in {@code jvm.options} would override the profile: the JIT flags live only in
 * the profiles (a sidecar test keeps the files apart). Local runs name the profile's file on the
 * command line, before {@code jvm.options}, in the same order.
 *
 * <p>The injector and the sidecar image are released together: an image without {@link
 * #IMAGE_FOLDER} cannot start with the variable the injector sets.
 */
public enum SidecarProfile {
  /**
   * The C1 compiler alone: the quickest start and the least memory, at about 1.2 to 1.7 times the
   * CPU per record of {@link #THROUGHPUT} once both are warm.
   */
  COMPACT,
  /**
   * The JVM's tiered compilation, C1 then C2, with two compiler threads: the lowest CPU per record
   * and added latency once warm. It costs resident memory (about 30 MiB more per sidecar under a
   * heavy load, 7 to 10 MiB under a light one: C2 compiles what is hot) and start-up (about half a
   * second more to ready, C2 compiling the start's hot methods too).
   */
  THROUGHPUT;

  /**
   * The variable the JVM's launcher reads arguments from before the command line's ({@code
   * JDK_JAVA_OPTIONS}, Java 9+); the injector sets it to {@link #jvmOptionsArgument()}.
   */
  public static final String JVM_OPTIONS_VARIABLE = "JDK_JAVA_OPTIONS";

  /** Where the image keeps the profiles' argfiles. */
  public static final String IMAGE_FOLDER = "/app/profiles";

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

  /**
   * The profile a sidecar container runs, from its {@link #JVM_OPTIONS_VARIABLE}: {@code null}
   * (unset) runs the image's default, compact; a value the injector writes names its profile; any
   * other value (set by hand) is none of them.
   */
  public static Optional<SidecarProfile> ofJvmOptions(String value) {
    if (value == null) {
      return Optional.of(COMPACT);
    }
    for (SidecarProfile profile : values()) {
      if (profile.jvmOptionsArgument().equals(value.strip())) {
        return Optional.of(profile);
      }
    }
    return Optional.empty();
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
